"""The on-disk log: Kafka-layout segments, sparse indexes, recovery and retention. No sockets."""
