"""OffsetCommit, OffsetFetch (single and batched groups) and OffsetDelete.

As in Kafka, partitions of unknown topics are answered UNKNOWN_TOPIC_OR_PARTITION before the
coordinator sees the request; the coordinator only handles the rest.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..groups.offsets import CommitEntry
from ..protocol.names import AclResourceType, ApiKey
from . import access
from .leader import coordinates, require_coordinator
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

NO_OFFSET = -1
NO_RETENTION = -1
LAST_RETENTION_TIME_VERSION = 4
TOP_LEVEL_ERROR_VERSION = 2
"""OffsetFetch answers a group's error at the top level from v2 on (per partition before)."""
ZOOKEEPER_VERSION = 0
"""OffsetCommit and OffsetFetch v0 kept offsets in ZooKeeper: Kafka 3.9 in KRaft mode accepts
them and answers UNSUPPORTED_VERSION for every partition (KafkaApis, requireZkOrThrow)."""
UNKNOWN_PARTITION = ErrorCode.unknown_topic_or_partition
_Screened = tuple[Any, Any, ErrorCode | None]


def _screened(state: BrokerState, ctx: RequestContext, topics: Any) -> list[_Screened]:
    """(topic, partition, error) for every partition of the request, in order: as in Kafka, a
    topic the principal may not use is refused, and a partition that does not exist answered,
    before the coordinator sees the request (error None: the coordinator's to answer)."""
    screened: list[_Screened] = []
    for topic in topics:
        allowed = access.permits(state, ctx, AclResourceType.TOPIC, topic.name)
        for partition in topic.partitions:
            error = None
            if not allowed:
                error = ErrorCode.topic_authorization_failed
            elif not state.partition_exists(topic.name, partition.partition_index):
                error = UNKNOWN_PARTITION
            screened.append((topic, partition, error))
    return screened


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


@handles(ApiKey.OFFSET_COMMIT, 0, 9)
async def offset_commit(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    refusal = None
    if not access.permits(state, ctx, AclResourceType.GROUP, request.group_id):
        refusal = ErrorCode.group_authorization_failed
    elif ctx.api_version == ZOOKEEPER_VERSION:
        refusal = ErrorCode.unsupported_version
    elif not coordinates(state, request.group_id):
        refusal = ErrorCode.not_coordinator
    if refusal is not None:
        refused = itertools.repeat(refusal)
        return ctx.respond({"throttle_time": 0, "topics": _by_topic(request.topics, refused)})
    checked = _screened(state, ctx, request.topics)
    entries = [
        CommitEntry(
            topic.name,
            p.partition_index,
            p.committed_offset,
            getattr(p, "committed_leader_epoch", -1),
            p.committed_metadata,
            getattr(p, "commit_timestamp", -1),  # v1 only
        )
        for topic, p, error in checked
        if error is None
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
    errors = (next(results) if error is None else error for _, _, error in checked)
    return ctx.respond({"throttle_time": 0, "topics": _by_topic(request.topics, errors)})


def _partition_offset(partition: int, value: Any, error: ErrorCode) -> dict[str, Any]:
    return {
        "partition_index": partition,
        "committed_offset": value.offset if value else NO_OFFSET,
        "committed_leader_epoch": value.leader_epoch if value else -1,
        "metadata": value.metadata if value else "",
        "error_code": error,
    }


def _fetched_topics(
    state: BrokerState, ctx: RequestContext, group_id: str, topics: Any, require_stable: bool
) -> list[dict[str, Any]]:
    """A group's committed offsets. As in Kafka, a topic the principal may not describe is
    answered TOPIC_AUTHORIZATION_FAILED when named, and left out of "all topics"; with
    `require_stable`, an offset an open transaction will change is UNSTABLE_OFFSET_COMMIT."""
    described = functools.cache(
        lambda name: access.permits(state, ctx, AclResourceType.TOPIC, name)
    )
    refused = {t.name: t.partition_indexes for t in topics or () if not described(t.name)}
    wanted = (
        None
        if topics is None
        else [(t.name, p) for t in topics if t.name not in refused for p in t.partition_indexes]
    )
    committed = state.committed_offsets(group_id, wanted)
    by_topic: dict[str, list[dict[str, Any]]] = {topic.name: [] for topic in topics or ()}
    for (topic, partition), value in committed.items():
        if not described(topic):
            continue
        if require_stable and state.transactions.has_pending_offset(group_id, (topic, partition)):
            entry = _partition_offset(partition, None, ErrorCode.unstable_offset_commit)
        else:
            entry = _partition_offset(partition, value, ErrorCode.none)
        by_topic.setdefault(topic, []).append(entry)
    for name, indexes in refused.items():
        by_topic[name] = [
            _partition_offset(p, None, ErrorCode.topic_authorization_failed) for p in indexes
        ]
    return [{"name": name, "partitions": partitions} for name, partitions in by_topic.items()]


def _group_offsets(
    state: BrokerState, ctx: RequestContext, group_id: str, topics: Any, require_stable: bool
) -> dict[str, Any]:
    """One group's answer; a group the principal may not describe (or v0) is refused as
    OffsetFetchResponse.groupError does: per partition before v2, for the group after."""
    if not access.permits(state, ctx, AclResourceType.GROUP, group_id):
        refused = ErrorCode.group_authorization_failed
    elif ctx.api_version == ZOOKEEPER_VERSION:
        refused = ErrorCode.unsupported_version
    elif not coordinates(state, group_id):
        refused = ErrorCode.not_coordinator
    else:
        return {
            "group_id": group_id,
            "error_code": ErrorCode.none,
            "topics": _fetched_topics(state, ctx, group_id, topics, require_stable),
        }
    if ctx.api_version >= TOP_LEVEL_ERROR_VERSION:
        return {"group_id": group_id, "error_code": refused, "topics": []}
    return {
        "group_id": group_id,
        "error_code": ErrorCode.none,
        "topics": [
            {
                "name": topic.name,
                "partitions": [
                    _partition_offset(index, None, refused) for index in topic.partition_indexes
                ],
            }
            for topic in topics
        ],
    }


@handles(ApiKey.OFFSET_FETCH, 0, 9)
def offset_fetch(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    require_stable = getattr(request, "require_stable", False)
    if ctx.api_version >= 8:
        groups = [
            _group_offsets(state, ctx, g.group_id, g.topics, require_stable) for g in request.groups
        ]
        return ctx.respond({"throttle_time": 0, "groups": groups})
    group = _group_offsets(state, ctx, request.group_id, request.topics, require_stable)
    return ctx.respond({"throttle_time": 0, **group})


@handles(ApiKey.OFFSET_DELETE, 0, 0)
async def offset_delete(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    access.require(state, ctx, AclResourceType.GROUP, request.group_id)
    require_coordinator(state, request.group_id)
    checked = _screened(state, ctx, request.topics)
    partitions = [(topic.name, p.partition_index) for topic, p, error in checked if error is None]
    error, deleted = await state.coordinate(
        lambda groups: groups.offsets.delete(request.group_id, partitions)
    )
    if error != ErrorCode.none:
        return ctx.respond({"error_code": error, "throttle_time": 0, "topics": []})
    results = iter(deleted)
    errors = (next(results) if error is None else error for _, _, error in checked)
    return ctx.respond(
        {
            "error_code": ErrorCode.none,
            "throttle_time": 0,
            "topics": _by_topic(request.topics, errors),
        }
    )
