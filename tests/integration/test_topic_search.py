"""A topic searched on the broker (tui/kafka/topic_search.py): every match of the range, in
every codec, including records a tail's buffer would no longer hold.

Records are produced with confluent-kafka to chosen partitions, so the test knows where
each is (record i: partition i % 3, offset i // 3) and what each search must find.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tui.embedded import EmbeddedBroker
from tui.kafka.connection import from_properties
from tui.kafka.errors import KafkaToolError
from tui.kafka.search_query import parse_query
from tui.kafka.tail import RawRecord, StartMode, StartPosition
from tui.kafka.topic_search import SearchSpec, TopicSearch

PARTITIONS = 3
COUNT = 30_000
T0 = 1_700_000_000_000
FAILED_EVERY = 2_500


def order(i: int) -> bytes:
    status = "FAILED" if i % FAILED_EVERY == 7 else "OK"
    return json.dumps({"id": i, "status": status, "total": i % 1000}).encode()


def where(i: int) -> tuple[int, int]:
    return i % PARTITIONS, i // PARTITIONS


def produce(bootstrap: str, topic: str, codec: str = "none", count: int = COUNT) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(30)
    producer = Producer(  # small batches, as a topic written bit by bit has
        {"bootstrap.servers": bootstrap, "compression.type": codec, "batch.size": 8192}
    )
    for i in range(count):
        partition, _ = where(i)
        producer.produce(
            topic, order(i), key=f"order-{i}".encode(), partition=partition,
            timestamp=T0 + i, headers=[("source", b"web" if i % 2 else b"app")],
        )  # fmt: skip
        if i % 5000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


async def search(broker: EmbeddedBroker, spec: SearchSpec) -> tuple[list[RawRecord], TopicSearch]:
    found: list[RawRecord] = []
    topic_search = TopicSearch(from_properties(broker.bootstrap, {}), spec)
    await topic_search.run(found.extend)
    return found, topic_search


def places(found: list[RawRecord]) -> set[tuple[int, int]]:
    return {(r[1], r[2]) for r in found}


def expected(wanted: Iterator[int] | range | list[int]) -> set[tuple[int, int]]:
    return {where(i) for i in wanted}


FAILED = [i for i in range(COUNT) if i % FAILED_EVERY == 7]


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
async def test_every_match_in_every_codec(broker: EmbeddedBroker, codec: str) -> None:
    produce(broker.bootstrap, "orders", codec)
    found, done = await search(broker, SearchSpec("orders", query=parse_query("FAILED")))
    assert places(found) == expected(FAILED)
    assert done.progress.outcome == "finished"
    assert done.progress.scanned == done.progress.total == COUNT
    assert done.progress.decoded < COUNT / 2  # most batches ruled out by their bytes
    assert {json.loads(r[6] or b"")["status"] for r in found} == {"FAILED"}


async def test_query_terms_against_what_was_produced(broker: EmbeddedBroker) -> None:
    produce(broker.bootstrap, "orders")
    cases = {
        "key:order-29999": [29_999],
        "$.status=FAILED header:source=web": [i for i in FAILED if i % 2],
        "$.total>=998 $.id<5000": [i for i in range(5000) if i % 1000 >= 998],
        "/order-1234[05]$/": [12_340, 12_345],
    }
    for query, wanted in cases.items():
        found, _ = await search(broker, SearchSpec("orders", query=parse_query(query)))
        assert places(found) == expected(wanted), query


async def test_a_json_field_spelled_with_escapes_is_found(broker: EmbeddedBroker) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for value in (b'{"status": "\\u0046AILED"}', b'{"status": "OK"}'):
        producer.produce("escaped", value)
    assert producer.flush(30) == 0
    found, _ = await search(broker, SearchSpec("escaped", query=parse_query("$.status=FAILED")))
    assert [r[2] for r in found] == [0]


async def test_ranges_of_offsets_times_and_partitions(broker: EmbeddedBroker) -> None:
    produce(broker.bootstrap, "orders")
    by_offset = SearchSpec(
        "orders",
        partitions=(1,),
        start=StartPosition(StartMode.OFFSET, 100),
        end=StartPosition(StartMode.OFFSET, 200),
    )
    found, done = await search(broker, by_offset)
    assert places(found) == {(1, offset) for offset in range(100, 200)}
    assert done.progress.total == 100
    by_time = SearchSpec(
        "orders",
        start=StartPosition(StartMode.TIMESTAMP, T0 + 3000),
        end=StartPosition(StartMode.TIMESTAMP, T0 + 3030),
    )
    found, _ = await search(broker, by_time)
    assert places(found) == expected(range(3000, 3030))
    last = SearchSpec("orders", start=StartPosition(StartMode.LAST, 2))
    found, _ = await search(broker, last)
    assert places(found) == expected(range(COUNT - 6, COUNT))


async def test_a_search_stops_at_its_limit_or_when_cancelled(broker: EmbeddedBroker) -> None:
    produce(broker.bootstrap, "orders")
    found, done = await search(broker, SearchSpec("orders", query=parse_query("OK"), limit=50))
    assert len(found) == 50 and done.progress.outcome == "stopped at 50 matches"
    topic_search = TopicSearch(from_properties(broker.bootstrap, {}), SearchSpec("orders"))
    await topic_search.run(lambda hits: topic_search.cancel())
    assert topic_search.progress.outcome == "cancelled"
    assert topic_search.progress.scanned < COUNT


async def test_a_topic_that_is_not_there_is_one_error(broker: EmbeddedBroker) -> None:
    with pytest.raises(KafkaToolError, match="nowhere"):
        await search(broker, SearchSpec("nowhere"))
