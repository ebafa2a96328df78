"""How many partitions one request may create, and what the broker keeps for its connections.

Kafka refuses a CreateTopics or CreatePartitions request that would create more than 10,000
partitions in all (ReplicationControlManager.MAX_PARTITIONS_PER_BATCH, KAFKA-17870 and
KAFKA-19673) with POLICY_VIOLATION for every topic, before creating any. localbroker also
refuses partitions it has no file descriptors for, rather than running out of them and
leaving every client unable to connect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from brokers import BrokerProcess
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kio.schema.errors import ErrorCode
from wire import RawClient

from tui.embedded import EmbeddedBroker

CREATE_TOPICS, CREATE_PARTITIONS = 19, 37
TOO_MANY = "Excessively large number of partitions per request."


def create_topics(bootstrap: str, topics: list[dict[str, Any]], validate_only: bool = False) -> Any:
    data = {"topics": topics, "timeout": 30_000, "validate_only": validate_only}
    with RawClient(bootstrap) as client:
        return client.call(CREATE_TOPICS, 7, data).topics


def topic(name: str, partitions: int, **fields: Any) -> dict[str, Any]:
    return {"name": name, "num_partitions": partitions, "replication_factor": 1, **fields}


def partition_dirs(broker: EmbeddedBroker) -> list[str]:
    return sorted(p.name for p in broker.data_dir.iterdir() if p.is_dir())


def test_create_topics_over_ten_thousand_partitions_in_all_is_refused(
    broker: EmbeddedBroker,
) -> None:
    """5,000 + 5,000 + 1 partitions: every topic gets POLICY_VIOLATION, nothing is created.
    Kafka's count takes num.partitions for -1 and the assignments' length for manual ones."""
    request = [
        topic("a", 5000),
        topic("b", -1),  # num.partitions: 1
        topic(
            "c",
            -1,
            replication_factor=-1,
            assignments=[{"partition_index": i, "broker_ids": [0]} for i in range(5000)],
        ),
    ]
    answers = create_topics(broker.bootstrap, request)
    assert [(t.name, t.error_code, t.error_message) for t in answers] == [
        (name, ErrorCode.policy_violation, TOO_MANY) for name in "abc"
    ]
    assert partition_dirs(broker) == []
    huge = create_topics(broker.bootstrap, [topic("huge", 100_000)])
    assert [(t.error_code, t.error_message) for t in huge] == [
        (ErrorCode.policy_violation, TOO_MANY)
    ]


def test_ten_thousand_partitions_in_all_are_allowed(broker: EmbeddedBroker) -> None:
    """Exactly 10,000 passes the check (validate_only, so that none are made on disk)."""
    answers = create_topics(broker.bootstrap, [topic("a", 9999), topic("b", 1)], True)
    assert [t.error_code for t in answers] == [ErrorCode.none, ErrorCode.none]


def test_create_partitions_over_ten_thousand_new_ones_is_refused(broker: EmbeddedBroker) -> None:
    """What counts is the partitions added: 2 -> 5,002 and 1 -> 5,000 add 9,999 (allowed, as a
    dry run); 2 -> 5,004 and 1 -> 5,000 add 10,001 and both topics are refused."""
    assert [
        t.error_code for t in create_topics(broker.bootstrap, [topic("x", 2), topic("y", 1)])
    ] == [
        ErrorCode.none,
        ErrorCode.none,
    ]

    def grow(counts: dict[str, int], validate_only: bool) -> list[tuple[str, int, str | None]]:
        data = {
            "topics": [{"name": n, "count": c, "assignments": None} for n, c in counts.items()],
            "timeout": 30_000,
            "validate_only": validate_only,
        }
        with RawClient(broker.bootstrap) as client:
            results = client.call(CREATE_PARTITIONS, 3, data).results
        return [(r.name, r.error_code, r.error_message) for r in results]

    assert grow({"x": 5002, "y": 5000}, True) == [
        ("x", ErrorCode.none, None),
        ("y", ErrorCode.none, None),
    ]
    assert grow({"x": 5004, "y": 5000}, False) == [
        ("x", ErrorCode.policy_violation, TOO_MANY),
        ("y", ErrorCode.policy_violation, TOO_MANY),
    ]
    assert partition_dirs(broker) == ["x-0", "x-1", "y-0"]


def test_partitions_beyond_the_descriptor_limit_are_refused(tmp_path: Path) -> None:
    """A broker allowed 400 file descriptors refuses a 370-partition topic (a descriptor each)
    with a message naming the limit, creates nothing for it, and goes on serving: a client
    connects and creates a small topic."""
    broker = BrokerProcess(tmp_path / "data", descriptor_limit=400).start()
    try:
        [refused] = create_topics(broker.bootstrap, [topic("wide", 370)])
        assert refused.error_code == ErrorCode.policy_violation
        assert "file descriptors this broker may open (ulimit -n)" in refused.error_message
        assert not (tmp_path / "data" / "wide-0").exists()
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("narrow", 3)])["narrow"].result(30)
        assert sorted(p.name for p in (tmp_path / "data").glob("narrow-*")) == [
            f"narrow-{i}" for i in range(3)
        ]
    finally:
        broker.kill()


def test_the_offsets_topic_may_use_the_headroom(tmp_path: Path) -> None:
    """The headroom is kept for the broker's own needs: with clients' topics taking all but
    it, a consumer group still gets its __consumer_offsets (50 partitions) and commits."""
    broker = BrokerProcess(tmp_path / "data", descriptor_limit=240).start()
    try:
        [created] = create_topics(broker.bootstrap, [topic("wide", 120)])
        assert created.error_code == ErrorCode.none
        [refused] = create_topics(broker.bootstrap, [topic("more", 50)])
        assert refused.error_code == ErrorCode.policy_violation
        consumer = Consumer(
            {"bootstrap.servers": broker.bootstrap, "group.id": "g", "enable.auto.commit": False}
        )
        try:
            consumer.commit(offsets=[TopicPartition("wide", 0, 7)], asynchronous=False)
            [committed] = consumer.committed([TopicPartition("wide", 0)], timeout=30)
        finally:
            consumer.close()
        assert committed.offset == 7
    finally:
        broker.kill()
