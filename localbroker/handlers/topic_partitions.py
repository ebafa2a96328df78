"""DescribeTopicPartitions (KIP-966): topics and their partitions a page at a time, what the
Java AdminClient's describeTopics and kafka-topics.sh --describe ask Kafka 4 brokers first.

As Kafka's DescribeTopicPartitionsRequestHandler and KRaftMetadataCache.describeTopicResponse:
topics in name order from the cursor on, at most response_partition_limit partitions per
answer with next_cursor where the next page starts; eligible leader replicas are empty lists
(one replica, nothing to elect), never null as Metadata leaves them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import INTERNAL_TOPICS, AclOperation, AclResourceType, ApiKey
from ..state import validate_topic_name
from . import access
from .metadata import topic_entry
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

MAX_PARTITIONS = 2000
"""Kafka's max.request.partition.size.limit default: the most partitions one answer holds."""


@handles(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, 0)
def describe_topic_partitions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    cursor = request.cursor
    start_topic = cursor.topic_name if cursor is not None else ""
    all_topics = not request.topics
    wanted = state.topics if all_topics else [topic.name for topic in request.topics]
    names = sorted({name for name in wanted if name >= start_topic})
    if cursor is not None and not all_topics and start_topic not in names:
        raise KafkaError(
            ErrorCode.invalid_request,
            "DescribeTopicPartitionsRequest topic list should contain the cursor topic: "
            + start_topic,
        )
    if cursor is not None and cursor.partition_index < 0:
        raise KafkaError(
            ErrorCode.invalid_request,
            "DescribeTopicPartitionsRequest cursor partition must be valid",
        )
    remaining = max(min(MAX_PARTITIONS, request.response_partition_limit), 1)
    topics: list[dict[str, Any]] = []
    next_cursor = None
    for name in names:
        if remaining == 0:  # the previous topic filled the page: the next one starts it
            next_cursor = {"topic_name": name, "partition_index": 0}
            break
        if not access.permits(
            state, ctx, AclResourceType.TOPIC, name, AclOperation.DESCRIBE, quiet=all_topics
        ):
            if not all_topics:  # all topics: the ones the principal may not see are left out
                topics.append(_refused(name, ErrorCode.topic_authorization_failed))
            continue
        record = state.topics.get(name)
        if record is None:
            if not all_topics:
                topics.append(_missing(name))
            continue
        first = cursor.partition_index if cursor is not None and name == start_topic else 0
        last = min(record.partitions, first + remaining)
        entry = topic_entry(state, record)
        entry["partitions"] = [
            {**partition, "eligible_leader_replicas": [], "last_known_elr": []}
            for partition in entry["partitions"][first:last]
        ]
        topics.append(entry)
        if last < record.partitions:
            next_cursor = {"topic_name": name, "partition_index": last}
            break
        remaining -= last - first
    for entry in topics:  # as Kafka: for every topic answered, but one the principal may not see
        if entry["error_code"] != ErrorCode.topic_authorization_failed:
            entry["topic_authorized_operations"] = access.authorized_operations(
                state, ctx, AclResourceType.TOPIC, entry["name"]
            )
    return ctx.respond({"throttle_time": 0, "topics": topics, "next_cursor": next_cursor})


def _missing(name: str) -> dict[str, Any]:
    try:
        validate_topic_name(name)
        error = ErrorCode.unknown_topic_or_partition
    except KafkaError as exc:
        error = exc.code
    return _refused(name, error)


def _refused(name: str, error: ErrorCode) -> dict[str, Any]:
    return {
        "error_code": error,
        "name": name,
        "topic_id": None,
        "is_internal": name in INTERNAL_TOPICS,
        "partitions": [],
    }
