"""Topics described as Kafka's admin client describes them (Admin.describeTopics).

Kafka 4's client asks with DescribeTopicPartitions when the broker serves it, which adds each
partition's eligible leader replicas (KIP-966), and a page at a time (a cursor marks where the
next page starts); against an older broker it falls back to Metadata, which has none. kwb
topics --describe prints them as kafka-topics.sh does (`Elr: ` when there are none, `Elr: N/A`
when the broker could not say).

As kafka-topics.sh, each partition comes with the reassignment under way, if any
(ListPartitionReassignments, where the broker serves it and lets this principal ask: without
either the tool shows none).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from localbroker.public import ApiKey, ErrorCode, kafka_uuid_string

from .admin import KafkaAdmin, partition_info, raise_for_topic
from .errors import raise_for
from .models import PartitionInfo, Reassignment, TopicInfo, TopicPartition

PARTITIONS_PER_PAGE = 2000
"""What kafka-topics.sh asks for (--partition-size-limit-per-response's default)."""


async def describe_topics(admin: KafkaAdmin, names: list[str]) -> list[TopicInfo]:
    """The named topics (each must exist), sorted by name, with their partitions."""
    if not names:
        return []
    served = await admin.api_versions()
    if ApiKey.DESCRIBE_TOPIC_PARTITIONS not in served:
        described = await admin.topics(names)
    else:
        described = await _described(admin, names)
    if ApiKey.LIST_PARTITION_REASSIGNMENTS not in served:
        return described
    moving = await _reassignments(admin, described)
    return [
        dataclasses.replace(
            topic,
            partitions=tuple(
                dataclasses.replace(p, reassignment=moving.get((topic.name, p.partition)))
                for p in topic.partitions
            ),
        )
        for topic in described
    ]


async def _reassignments(
    admin: KafkaAdmin, topics: list[TopicInfo]
) -> dict[TopicPartition, Reassignment]:
    """The moves under way among these topics' partitions; none where the broker refuses
    to tell (CLUSTER_AUTHORIZATION_FAILED), as kafka-topics.sh ignores that refusal."""
    wanted = [
        {"name": t.name, "partition_indexes": [p.partition for p in t.partitions]} for t in topics
    ]
    response = await admin.send(
        ApiKey.LIST_PARTITION_REASSIGNMENTS, {"timeout": 30_000, "topics": wanted}
    )
    if response.error_code == ErrorCode.cluster_authorization_failed:
        return {}
    raise_for(response.error_code, response.error_message, "ListPartitionReassignments")
    return {
        (topic.name, p.partition_index): Reassignment(
            tuple(p.adding_replicas), tuple(p.removing_replicas)
        )
        for topic in response.topics
        for p in topic.partitions
    }


async def _described(admin: KafkaAdmin, names: list[str]) -> list[TopicInfo]:
    """DescribeTopicPartitions, a page at a time."""
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
