"""Load generation and measurement: the engine of `kwb perf`, `kwb consumer-perf` and the
workbench's traffic generator.

producer.py sends N records at a target rate (Kafka's ThroughputThrottler) and records their
latencies, in windows and in total; consumer.py consumes N messages in a group and times it,
rebalances included; metrics.py measures on the wire what aiokafka keeps no metrics for.
Everything reports plain numbers (and callbacks as windows close); printing them in Kafka's
layout is the command line's business, charting them the TUI's.
"""
