"""DescribeTopicPartitions answered as Apache Kafka answers it: the same requests to both
brokers, the answers compared field by field (topic ids aside), paging cursors included.

Kafka's admin client describes topics with this API when the broker offers it, so
kafka-topics.sh --describe shows what Kafka shows (`Elr: ` and not `Elr: N/A`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from confluent_kafka.admin import AdminClient, NewTopic
from reference_kafka import ReferenceKafka
from wire import RawClient

from localbroker.protocol.names import ApiKey

TIMEOUT = 30.0
TOPICS = {"dtp-a": 3, "dtp-b": 2}


def create_topics(bootstrap: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, count, 1) for name, count in TOPICS.items()])
    for future in futures.values():
        future.result(TIMEOUT)


def plain(value: Any) -> Any:
    """A kio response as nested dicts and lists, topic ids left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "topic_id"
        }
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value


def describe(bootstrap: str, topics: list[str], limit: int, cursor: Any = None) -> Any:
    with RawClient(bootstrap) as client:
        response = client.call(
            ApiKey.DESCRIBE_TOPIC_PARTITIONS,
            0,
            {
                "topics": [{"name": name} for name in topics],
                "response_partition_limit": limit,
                "cursor": cursor,
            },
        )
    return plain(response)


REQUESTS = [
    # every topic asked for, unknown and invalid names among them: sorted by name
    (["dtp-b", "dtp-a", "dtp-missing", "bad name!"], 2000, None),
    # a page ends inside a topic, then inside the next one
    (["dtp-a", "dtp-b"], 2, None),
    (["dtp-a", "dtp-b"], 2, {"topic_name": "dtp-a", "partition_index": 2}),
    # a page ends exactly at a topic's end: the cursor points at the next topic
    (["dtp-a", "dtp-b"], 3, None),
    # a limit below one still serves one partition
    (["dtp-b"], 0, None),
    # cursors Kafka refuses: a topic not asked for, a negative partition
    (["dtp-a"], 10, {"topic_name": "dtp-b", "partition_index": 0}),
    (["dtp-a"], 10, {"topic_name": "dtp-a", "partition_index": -1}),
]


def test_answers_match_apache_kafka(reference_kafka: ReferenceKafka, start_broker) -> None:
    broker = start_broker({"node.id": "1"})  # Kafka's reference node is 1
    create_topics(broker.bootstrap)
    create_topics(reference_kafka.bootstrap)
    for topics, limit, cursor in REQUESTS:
        ours = describe(broker.bootstrap, topics, limit, cursor)
        kafkas = describe(reference_kafka.bootstrap, topics, limit, cursor)
        assert ours == kafkas, (topics, limit, cursor)


def test_every_topic_from_a_cursor(start_broker) -> None:
    """Asked for no topic in particular, every topic is described, internal ones too, in
    name order from the cursor's topic on."""
    broker = start_broker()
    create_topics(broker.bootstrap)
    response = describe(broker.bootstrap, [], 2000, {"topic_name": "dtp-a", "partition_index": 1})
    described = [
        (topic["name"], [p["partition_index"] for p in topic["partitions"]])
        for topic in response["topics"]
    ]
    assert described == [("dtp-a", [1, 2]), ("dtp-b", [0, 1])]
    assert response["next_cursor"] is None
