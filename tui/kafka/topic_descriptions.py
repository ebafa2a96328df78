"""Topics described as Kafka's admin client describes them (Admin.describeTopics).

Kafka 4's client asks with DescribeTopicPartitions when the broker serves it, which adds each
partition's eligible leader replicas (KIP-966), and a page at a time (a cursor marks where the
next page starts); against an older broker it falls back to Metadata, which has none. kwb
topics --describe prints them as kafka-topics.sh does (`Elr: ` when there are none, `Elr: N/A`
when the broker could not say).
"""

from __future__ import annotations

from typing import Any

from localbroker.public import ApiKey, kafka_uuid_string

from .admin import KafkaAdmin, partition_info, raise_for_topic
from .models import PartitionInfo, TopicInfo

PARTITIONS_PER_PAGE = 2000
"""What kafka-topics.sh asks for (--partition-size-limit-per-response's default)."""


async def describe_topics(admin: KafkaAdmin, names: list[str]) -> list[TopicInfo]:
    """The named topics (each must exist), sorted by name, with their partitions."""
    if not names:
        return []
    if ApiKey.DESCRIBE_TOPIC_PARTITIONS not in await admin.api_versions():
        return await admin.topics(names)
    partitions: dict[str, list[PartitionInfo]] = {}
    described: dict[str, Any] = {}
    cursor = None
    while True:
        response = await admin.send(
            ApiKey.DESCRIBE_TOPIC_PARTITIONS,
            {
                "topics": [{"name": name} for name in names],
                "response_partition_limit": PARTITIONS_PER_PAGE,
                "cursor": cursor,
            },
        )
        for topic in response.topics:
            raise_for_topic(topic)
            described[topic.name] = topic
            partitions.setdefault(topic.name, []).extend(map(partition_info, topic.partitions))
        if response.next_cursor is None:
            break
        cursor = {
            "topic_name": response.next_cursor.topic_name,
            "partition_index": response.next_cursor.partition_index,
        }
    return [
        TopicInfo(
            name,
            kafka_uuid_string(topic.topic_id) if topic.topic_id else "",
            topic.is_internal,
            tuple(sorted(partitions[name], key=lambda p: p.partition)),
        )
        for name, topic in sorted(described.items())
    ]
