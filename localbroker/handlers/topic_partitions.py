"""DescribeTopicPartitions (KIP-966): topics and their partitions, a page at a time.

Kafka's admin client (4.x) describes topics with this API when the broker offers it and falls
back to Metadata otherwise, and then has no eligible leader replicas to show:
kafka-topics.sh --describe prints `Elr: N/A  LastKnownElr: N/A` instead of Kafka's empty
lists. Serving it keeps the tool's output what it is on Apache Kafka.

Paging is KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse's: the topics sorted by
name from the cursor's topic on, at most `response_partition_limit` partitions (capped by
max.request.partition.size.limit, at least one), and a next cursor where a page ends. Asked
for every topic, unknown names cannot occur; asked for names, each unknown one gets an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import INTERNAL_TOPICS, AclOperation, AclResourceType, ApiKey
from ..state import validate_topic_name
from . import access
from .brokers import live_nodes
from .metadata import registrations, topic_entry
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

NO_ELR: dict[str, list[int]] = {"eligible_leader_replicas": [], "last_known_elr": []}
"""No partition has eligible leader replicas to list: the controller keeps none (KIP-966's
ELR is not implemented)."""


def _unknown(name: str) -> dict[str, Any]:
    """A requested topic that does not exist, or whose name no topic could have."""
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


def _invalid(ctx: RequestContext, request: Any) -> Any:
    """Kafka's answer to a cursor it cannot follow: INVALID_REQUEST for every topic asked."""
    return ctx.respond(
        {
            "throttle_time": 0,
            "topics": [
                {"error_code": ErrorCode.invalid_request, "name": t.name, "partitions": []}
                for t in request.topics
            ],
            "next_cursor": None,
        }
    )


@handles(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, 0)
def describe_topic_partitions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    cursor = request.cursor
    from_topic = cursor.topic_name if cursor is not None else ""
    every_topic = not request.topics
    asked = state.topics.keys() if every_topic else {t.name for t in request.topics}
    names = sorted(name for name in asked if name >= from_topic)
    if cursor is not None and (
        cursor.partition_index < 0 or (not every_topic and cursor.topic_name not in names)
    ):
        return _invalid(ctx, request)
    limit = state.config.int_value("max.request.partition.size.limit")
    remaining = max(min(limit, request.response_partition_limit), 1)
    topics: list[dict[str, Any]] = []
    next_cursor = None
    alive = live_nodes(state, ctx.listener).keys()
    for name in names:
        if remaining <= 0:
            next_cursor = {"topic_name": name, "partition_index": 0}
            break
        if not access.permits(
            state, ctx, AclResourceType.TOPIC, name, AclOperation.DESCRIBE, quiet=every_topic
        ):
            if not every_topic:  # every topic: those the principal may not see are left out
                topics.append(_refused(name, ErrorCode.topic_authorization_failed))
            continue
        topic = state.topics.get(name)
        if topic is None:
            topics.append(_unknown(name))
            continue
        first = cursor.partition_index if cursor is not None and name == cursor.topic_name else 0
        last = min(topic.partitions, first + remaining)
        entry = topic_entry(topic, registrations(state, topic), alive)
        # no error for a partition without a leader here, unlike Metadata (Kafka's
        # getPartitionMetadataForDescribeTopicResponse sets none)
        partitions = [
            {**p, **NO_ELR, "error_code": ErrorCode.none} for p in entry["partitions"][first:last]
        ]
        topics.append({**entry, "partitions": partitions})
        if last < topic.partitions:
            next_cursor = {"topic_name": name, "partition_index": last}
            break
        remaining -= len(partitions)
    for entry in topics:  # as Kafka: for every topic answered, but one the principal may not see
        if entry["error_code"] != ErrorCode.topic_authorization_failed:
            entry["topic_authorized_operations"] = access.authorized_operations(
                state, ctx, AclResourceType.TOPIC, entry["name"]
            )
    return ctx.respond({"throttle_time": 0, "topics": topics, "next_cursor": next_cursor})
