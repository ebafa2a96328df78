"""Fetch's request-level `max_bytes` across partitions, as Kafka applies it (KIP-74): the
partitions are read in order from what is left of it, and only the first partition that has
data may go beyond it, by its first batch whole, so a consumer always makes progress.

Kafka: ReplicaManager.readFromLog ("Once we read from a non-empty partition, we stop ignoring
request and partition level size limits"). Raw Fetch requests (v12), because clients hide
how the bytes were spread over partitions.
"""

from __future__ import annotations

from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from restarts import create_topic, produce_raw
from wire import RawClient

from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records
from tui.embedded import EmbeddedBroker

FETCH, FETCH_VERSION = 1, 12
TOPIC, PARTITIONS, BATCHES = "spread", 3, 3
VALUE = b"v" * 1000


@pytest.fixture
def batch_size(broker: EmbeddedBroker) -> int:
    """Three partitions of three one-record batches each; the size of one batch."""
    create_topic(broker.bootstrap, TOPIC, PARTITIONS)
    batch = build_batch([NewRecord(VALUE)], now_ms=0)
    with RawClient(broker.bootstrap) as client:
        for _ in range(BATCHES):
            answers = produce_raw(client, TOPIC, dict.fromkeys(range(PARTITIONS), batch))
            assert {error for error, _ in answers.values()} == {ErrorCode.none}
    return len(batch)


def fetch(broker: EmbeddedBroker, max_bytes: int, offsets: list[int]) -> list[Any]:
    """Each partition's records (bytes) for one Fetch from `offsets`, in partition order."""
    partitions = [
        {"partition": p, "fetch_offset": offset, "partition_max_bytes": 1 << 20}
        for p, offset in enumerate(offsets)
    ]
    with RawClient(broker.bootstrap) as client:
        response = client.call(
            FETCH,
            FETCH_VERSION,
            {
                "max_wait": 0,
                "min_bytes": 0,
                "max_bytes": max_bytes,
                "topics": [{"topic": TOPIC, "partitions": partitions}],
                "forgotten_topics_data": [],
            },
        )
    [topic] = response.responses
    assert [p.error_code for p in topic.partitions] == [ErrorCode.none] * PARTITIONS
    return [bytes(p.records or b"") for p in topic.partitions]


def test_max_bytes_below_the_data_of_several_partitions_is_shared_out_in_order(
    broker: EmbeddedBroker, batch_size: int
) -> None:
    """1.5 batches' worth: the first partition takes it all (its second batch cut short, as
    Kafka's log slice cuts it), and the partitions after it get nothing."""
    limit = batch_size * 3 // 2
    records = fetch(broker, limit, [0] * PARTITIONS)
    assert [len(r) for r in records] == [limit, 0, 0]
    assert [r.value for r in iter_records(records[0])] == [VALUE]  # the whole batch only


def test_only_the_first_partition_with_data_may_exceed_max_bytes(
    broker: EmbeddedBroker, batch_size: int
) -> None:
    """max_bytes below one batch: the first partition that has data gets its first batch
    whole; no other partition gets that allowance (one batch each would be three times the
    limit), whether the first partitions were empty or not."""
    assert [len(r) for r in fetch(broker, 100, [0] * PARTITIONS)] == [batch_size, 0, 0]
    at_the_end = fetch(broker, 100, [BATCHES, 0, 0])  # partition 0 has nothing more to give
    assert [len(r) for r in at_the_end] == [0, batch_size, 0]
