"""OffsetCommit, OffsetFetch (single and batched groups) and OffsetDelete.

As in Kafka, partitions of unknown topics are answered UNKNOWN_TOPIC_OR_PARTITION before the
coordinator sees the request; the coordinator only handles the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..groups.offsets import CommitEntry
from ..protocol.names import ApiKey
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

NO_OFFSET = -1
NO_RETENTION = -1
LAST_RETENTION_TIME_VERSION = 4
UNKNOWN_PARTITION = ErrorCode.unknown_topic_or_partition


def _known(state: BrokerState, topics: Any) -> list[tuple[Any, Any, bool]]:
    """(topic, partition, exists) for every partition of the request, in order."""
    return [
        (topic, partition, state.partition_exists(topic.name, partition.partition_index))
        for topic in topics
        for partition in topic.partitions
    ]


def _by_topic(topics: Any, errors: Iterator[ErrorCode]) -> list[dict[str, Any]]:
    return [
        {
            "name": topic.name,
            "partitions": [
                {"partition_index": p.partition_index, "error_code": next(errors)}
                for p in topic.partitions
            ],
        }
        for topic in topics
    ]


@handles(ApiKey.OFFSET_COMMIT, 2, 9)
async def offset_commit(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    checked = _known(state, request.topics)
    entries = [
        CommitEntry(
            topic.name,
            p.partition_index,
            p.committed_offset,
            getattr(p, "committed_leader_epoch", -1),
            p.committed_metadata,
        )
        for topic, p, exists in checked
        if exists
    ]
    retention = getattr(request, "retention_time", None)
    retention_ms = int(retention.total_seconds() * 1000) if retention is not None else -1
    expire = (
        ctx.now_ms + retention_ms
        if retention_ms != NO_RETENTION and (ctx.api_version <= LAST_RETENTION_TIME_VERSION)
        else -1
    )
    results = iter(
        await state.coordinate(
            lambda groups: groups.offsets.commit(
                request.group_id,
                request.generation_id_or_member_epoch,
                request.member_id,
                getattr(request, "group_instance_id", None),
                entries,
                ctx.now_ms,
                ctx.api_version,
                expire,
            )
        )
        if entries
        else []
    )
    errors = (next(results) if exists else UNKNOWN_PARTITION for _, _, exists in checked)
    return ctx.respond({"throttle_time": 0, "topics": _by_topic(request.topics, errors)})


def _fetched_topics(state: BrokerState, group_id: str, topics: Any) -> list[dict[str, Any]]:
    wanted = (
        None
        if topics is None
        else [(topic.name, partition) for topic in topics for partition in topic.partition_indexes]
    )
    committed = state.committed_offsets(group_id, wanted)
    by_topic: dict[str, list[dict[str, Any]]] = {}
    if topics is not None:
        for topic in topics:
            by_topic.setdefault(topic.name, [])
    for (topic, partition), value in committed.items():
        by_topic.setdefault(topic, []).append(
            {
                "partition_index": partition,
                "committed_offset": value.offset if value else NO_OFFSET,
                "committed_leader_epoch": value.leader_epoch if value else -1,
                "metadata": value.metadata if value else "",
                "error_code": ErrorCode.none,
            }
        )
    return [{"name": name, "partitions": partitions} for name, partitions in by_topic.items()]


@handles(ApiKey.OFFSET_FETCH, 1, 9)
def offset_fetch(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if ctx.api_version >= 8:
        return ctx.respond(
            {
                "throttle_time": 0,
                "groups": [
                    {
                        "group_id": g.group_id,
                        "error_code": ErrorCode.none,
                        "topics": _fetched_topics(state, g.group_id, g.topics),
                    }
                    for g in request.groups
                ],
            }
        )
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "topics": _fetched_topics(state, request.group_id, request.topics),
        }
    )


@handles(ApiKey.OFFSET_DELETE, 0, 0)
async def offset_delete(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    checked = _known(state, request.topics)
    partitions = [(topic.name, p.partition_index) for topic, p, exists in checked if exists]
    error, deleted = await state.coordinate(
        lambda groups: groups.offsets.delete(request.group_id, partitions)
    )
    if error != ErrorCode.none:
        return ctx.respond({"error_code": error, "throttle_time": 0, "topics": []})
    results = iter(deleted)
    errors = (next(results) if exists else UNKNOWN_PARTITION for _, _, exists in checked)
    return ctx.respond(
        {
            "error_code": ErrorCode.none,
            "throttle_time": 0,
            "topics": _by_topic(request.topics, errors),
        }
    )
