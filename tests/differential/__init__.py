"""The differential conformance suite (issue 13): one scenario run against Apache Kafka and
against localbroker, what a client could observe compared field by field.

A scenario (`scenario.py`) sends raw kio requests through a `Peer` at one API version and
returns plain data: error codes, offsets, timestamps, configs with their sources and synonyms,
metadata, group descriptions. `normalise.py` is the one place where values that legitimately
differ between two brokers (cluster id, node ids, host and port, throttle times, uuids, the
clock) become placeholders; `intended.py` lists every difference that remains, with its
reason, and README's "Differences from Apache Kafka" has the same rows. The scenarios live in
one module per API family; tests/integration/test_conformance_<family>.py run them.
"""
