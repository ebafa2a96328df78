"""DescribeTopicPartitions (KIP-966), spoken raw: what the Java AdminClient's describeTopics
and kafka-topics.sh --describe ask Kafka 4 brokers, a page of partitions at a time."""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode
from wire import RawClient

from localbroker.protocol.names import ApiKey
from tui.embedded import EmbeddedBroker

NOT_GIVEN = -(2**31)


def describe(
    bootstrap: str, topics: list[str], limit: int = 2000, cursor: tuple[str, int] | None = None
) -> Any:
    with RawClient(bootstrap) as client:
        return client.call(
            ApiKey.DESCRIBE_TOPIC_PARTITIONS,
            0,
            {
                "topics": [{"name": name} for name in topics],
                "response_partition_limit": limit,
                "cursor": None
                if cursor is None
                else {"topic_name": cursor[0], "partition_index": cursor[1]},
            },
        )


def pages(answer: Any) -> list[tuple[str, list[int]]]:
    return [(t.name, [p.partition_index for p in t.partitions]) for t in answer.topics]


def cursor(answer: Any) -> tuple[str, int] | None:
    after = answer.next_cursor
    return None if after is None else (after.topic_name, after.partition_index)


def test_topics_in_name_order_with_their_partitions(broker: EmbeddedBroker) -> None:
    """As Kafka (DescribeTopicPartitionsRequestHandler, KRaftMetadataCache): topics sorted by
    name, each partition with its leader, replicas and ISR, and eligible leader replicas that
    are empty (never null); an unknown topic is UNKNOWN_TOPIC_OR_PARTITION and an invalid name
    INVALID_TOPIC_EXCEPTION, both without an id; every topic with its authorized operations."""
    broker.call(lambda: broker.state.create_topic("b", 2))
    broker.call(lambda: broker.state.create_topic("a", 1))
    answer = describe(broker.bootstrap, ["b", "missing", "a", "bad/name"])
    assert [(t.name, t.error_code) for t in answer.topics] == [
        ("a", ErrorCode.none),
        ("b", ErrorCode.none),
        ("bad/name", ErrorCode.invalid_topic_exception),
        ("missing", ErrorCode.unknown_topic_or_partition),
    ]
    _, b, bad, missing = answer.topics
    node = broker.call(lambda: broker.state.node_id)
    assert b.topic_id == broker.call(lambda: broker.state.topics["b"].topic_id)
    assert [p.partition_index for p in b.partitions] == [0, 1]
    partition = b.partitions[1]
    assert (partition.leader_id, partition.replica_nodes, partition.isr_nodes) == (
        node,
        (node,),
        (node,),
    )
    assert partition.eligible_leader_replicas == () and partition.last_known_elr == ()
    assert missing.topic_id is None and missing.partitions == () and bad.topic_id is None
    assert all(t.topic_authorized_operations != NOT_GIVEN for t in answer.topics)
    assert answer.next_cursor is None


def test_a_page_at_a_time(broker: EmbeddedBroker) -> None:
    """At most response_partition_limit partitions per answer; next_cursor says where the
    next page starts, and a request with that cursor goes on from there."""
    broker.call(lambda: broker.state.create_topic("one", 3))
    broker.call(lambda: broker.state.create_topic("two", 2))
    names = ["two", "one"]
    first = describe(broker.bootstrap, names, limit=2)
    assert (pages(first), cursor(first)) == ([("one", [0, 1])], ("one", 2))
    second = describe(broker.bootstrap, names, limit=2, cursor=cursor(first))
    assert (pages(second), cursor(second)) == ([("one", [2]), ("two", [0])], ("two", 1))
    third = describe(broker.bootstrap, names, limit=2, cursor=cursor(second))
    assert (pages(third), cursor(third)) == ([("two", [1])], None)
    # The page ends exactly at a topic's end: the cursor points at the next topic's start.
    exact = describe(broker.bootstrap, names, limit=3)
    assert (pages(exact), cursor(exact)) == ([("one", [0, 1, 2])], ("two", 0))


def test_no_topics_asks_for_all_of_them(broker: EmbeddedBroker) -> None:
    broker.call(lambda: broker.state.create_topic("only", 1))
    answer = describe(broker.bootstrap, [])
    assert pages(answer) == [("only", [0])]
