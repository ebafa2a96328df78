"""Fetch's size limits across partitions, read off raw responses batch by batch.

Kafka (ReplicaManager.readFromLog) reads partitions in request order with one budget: the
request's max_bytes, capped by the broker's fetch.max.bytes. A partition gets at most
min(partition_max_bytes, what is left); only the first partition that returns data may go
over, and only by returning its first batch whole when that batch alone is larger (KIP-74),
so a consumer always makes progress. Every later partition stays within what is left.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from wire import RawClient

from localbroker.records.builder import NewRecord, build_batch
from tui.embedded import EmbeddedBroker

PRODUCE, FETCH, CREATE_TOPICS = 0, 1, 19
EVERYTHING = 2**31 - 1
VALUE = b"v" * 1000


def batch_sizes(records: bytes) -> tuple[list[int], int]:
    """Sizes of the whole batches in `records`, and the bytes of a partial one after them."""
    sizes, position = [], 0
    while len(records) - position >= 12:
        (length,) = struct.unpack_from(">i", records, position + 8)
        if position + 12 + length > len(records):
            break
        sizes.append(12 + length)
        position += 12 + length
    return sizes, len(records) - position


def load_three(broker: EmbeddedBroker) -> int:
    """Topic `three`: three partitions of two 1,000-byte records, a batch each; returns the
    size of one batch."""
    batch = build_batch([NewRecord(VALUE)], now_ms=int(time.time() * 1000))
    with RawClient(broker.bootstrap) as client:
        topic = {"name": "three", "num_partitions": 3, "replication_factor": 1}
        data = {"topics": [topic], "timeout": 5000, "validate_only": False}
        assert client.call(CREATE_TOPICS, 7, data).topics[0].error_code == ErrorCode.none
        partitions = [{"index": index, "records": batch} for index in range(3)]
        produce = {"acks": -1, "timeout": 5000}
        for _ in range(2):
            topic_data = [{"name": "three", "partition_data": partitions}]
            answer = client.call(PRODUCE, 9, {**produce, "topic_data": topic_data})
            [topic_answer] = answer.responses
            assert all(p.error_code == ErrorCode.none for p in topic_answer.partition_responses)
    return len(batch)


@pytest.fixture
def loaded(broker: EmbeddedBroker) -> tuple[EmbeddedBroker, int]:
    return broker, load_three(broker)


Fetch = Callable[..., list[tuple[list[int], int]]]


def fetcher(bootstrap: str) -> Fetch:
    def fetch(
        max_bytes: int, offsets: tuple[int, ...] = (0, 0, 0), partition_max: int = EVERYTHING
    ) -> list[tuple[list[int], int]]:
        """The batch sizes (and partial bytes) each partition of `three` answers."""
        partitions = [
            {"partition": index, "fetch_offset": offset, "partition_max_bytes": partition_max}
            for index, offset in enumerate(offsets)
        ]
        data: dict[str, Any] = {
            "max_wait": 0,
            "min_bytes": 0,
            "max_bytes": max_bytes,
            "topics": [{"topic": "three", "partitions": partitions}],
            "forgotten_topics_data": [],
        }
        with RawClient(bootstrap) as client:
            [topic] = client.call(FETCH, 12, data).responses
        assert all(p.error_code == ErrorCode.none for p in topic.partitions)
        return [batch_sizes(p.records) for p in topic.partitions]

    return fetch


def test_only_the_first_partition_may_exceed_max_bytes_by_one_whole_batch(
    loaded: tuple[EmbeddedBroker, int],
) -> None:
    """max_bytes 100, below any batch: the first partition returns its first batch whole and
    nothing more; the others return nothing (they do not get the same allowance)."""
    broker, size = loaded
    assert fetcher(broker.bootstrap)(100) == [([size], 0), ([], 0), ([], 0)]


def test_the_first_partition_with_data_is_the_one_that_may_exceed(
    loaded: tuple[EmbeddedBroker, int],
) -> None:
    """Partition 0 is read from its end (no data): partition 1 is the first with data, gets
    the one-batch allowance, and partition 2 gets nothing."""
    broker, size = loaded
    assert fetcher(broker.bootstrap)(100, offsets=(2, 0, 0)) == [([], 0), ([size], 0), ([], 0)]


def test_max_bytes_is_one_budget_across_partitions(loaded: tuple[EmbeddedBroker, int]) -> None:
    """One and a half batches of budget: partition 0 takes its first batch and the start of the
    second (a partial batch, which clients drop), which spends the budget; partitions 1 and 2
    get nothing, though each alone would fit its partition limit."""
    broker, size = loaded
    fetch = fetcher(broker.bootstrap)
    assert fetch(size + size // 2) == [([size], size // 2), ([], 0), ([], 0)]
    # Two and a half: partition 0 returns both its batches; what is left is less than
    # partition 1's first batch, which it does not cut (Kafka returns nothing rather than a
    # first batch incomplete), so the rest is empty.
    assert fetch(2 * size + size // 2) == [([size, size], 0), ([], 0), ([], 0)]
    # Three and a half: partition 1 gets one batch and half of its second; partition 2 none.
    assert fetch(3 * size + size // 2) == [([size, size], 0), ([size], size // 2), ([], 0)]


def test_partition_max_bytes_caps_each_partition(loaded: tuple[EmbeddedBroker, int]) -> None:
    """partition_max_bytes below a batch: the first partition still gets one whole batch, the
    others nothing; the request's budget is not what stops them."""
    broker, size = loaded
    assert fetcher(broker.bootstrap)(EVERYTHING, partition_max=10) == [
        ([size], 0),
        ([], 0),
        ([], 0),
    ]


def test_fetch_max_bytes_caps_what_a_request_asks(
    start_broker: Callable[..., EmbeddedBroker],
) -> None:
    """fetch.max.bytes 1024 on the broker, max_bytes 2^31-1 in the request: the broker's limit
    wins (it returned everything, 70 MB in the issue's case): one whole batch, then nothing."""
    broker = start_broker({"fetch.max.bytes": "1024"})
    size = load_three(broker)
    assert fetcher(broker.bootstrap)(EVERYTHING) == [([size], 0), ([], 0), ([], 0)]
