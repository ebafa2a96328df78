"""ListOffsets: earliest, latest, by timestamp, max timestamp, and the tiered-storage sentinels;
v0's list of segment offsets for the clients that still send it (Kafka 4.0 removed v0)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..log.partition import LEADER_EPOCH
from ..protocol.names import AclResourceType, ApiKey, IsolationLevel, ListOffsetsTimestamp
from . import access
from .leader import NO_EPOCH, partition_error
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..log.partition import PartitionLog
    from ..state import BrokerState


def _lookup(partition_log: PartitionLog, timestamp: int, read_committed: bool) -> tuple[int, int]:
    """(timestamp, offset) answering one ListOffsets query; (-1, -1) when nothing matches.
    The latest offset of a read_committed consumer is the last stable offset."""
    if timestamp == ListOffsetsTimestamp.LATEST:
        if read_committed:
            return -1, partition_log.last_stable_offset
        return -1, partition_log.high_watermark
    if timestamp in (ListOffsetsTimestamp.EARLIEST, ListOffsetsTimestamp.EARLIEST_LOCAL):
        return -1, partition_log.log_start_offset
    if timestamp in (
        ListOffsetsTimestamp.LATEST_TIERED,
        ListOffsetsTimestamp.EARLIEST_PENDING_UPLOAD,
    ):
        return -1, -1  # nothing is ever in remote storage here
    found = (
        partition_log.max_timestamp()
        if timestamp == ListOffsetsTimestamp.MAX_TIMESTAMP
        else partition_log.offset_for_timestamp(timestamp)
    )
    if found is None or (read_committed and found.offset >= partition_log.last_stable_offset):
        return -1, -1  # Kafka answers only offsets below what the isolation level may fetch
    return found.timestamp, found.offset


def _legacy_offsets(
    partition_log: PartitionLog, timestamp: int, max_num_offsets: int, now_ms: int
) -> list[int]:
    """ListOffsets v0's answer, as Kafka 3.9's UnifiedLog.legacyFetchOffsetsBefore gives it: the
    base offsets of the segments last modified at or before `timestamp` (and the log end offset
    as of now, after a non-empty last segment), newest first, at most `max_num_offsets`."""
    points = [
        (
            max(segment.base_offset, partition_log.log_start_offset),
            int(os.fstat(segment.fd).st_mtime * 1000),
        )
        for segment in partition_log.segments
    ]
    if partition_log.active.size > 0:
        points.append((partition_log.high_watermark, now_ms))
    if timestamp == ListOffsetsTimestamp.LATEST:
        eligible = points
    elif timestamp == ListOffsetsTimestamp.EARLIEST:
        eligible = points[:1]
    else:
        last = max(
            (i for i, (_, modified) in enumerate(points) if modified <= timestamp), default=-1
        )
        eligible = points[: last + 1]
    return sorted((offset for offset, _ in eligible[::-1][: max(max_num_offsets, 0)]), reverse=True)


DEBUGGING_REPLICA_ID = -2
"""The replica id of a tool asking any replica, not only the leader (ListOffsetsRequest's)."""

_SPECIAL_SINCE: dict[int, int] = {
    ListOffsetsTimestamp.LATEST: 0,
    ListOffsetsTimestamp.EARLIEST: 0,
    ListOffsetsTimestamp.MAX_TIMESTAMP: 7,
    ListOffsetsTimestamp.EARLIEST_LOCAL: 8,
    ListOffsetsTimestamp.LATEST_TIERED: 9,
    ListOffsetsTimestamp.EARLIEST_PENDING_UPLOAD: 11,
}
"""The first ListOffsets version each special timestamp may be asked in; Kafka answers any
other negative timestamp, or one asked in an older version, with UNSUPPORTED_VERSION
(ReplicaManager.isListOffsetsTimestampUnsupported)."""


def _unsupported(timestamp: int, version: int) -> bool:
    return timestamp < 0 and _SPECIAL_SINCE.get(timestamp, version + 1) > version


@handles(ApiKey.LIST_OFFSETS, 0, 10)
def list_offsets(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """One answer per partition asked: a partition asked twice is refused once
    (INVALID_REQUEST), as Kafka answers from a map keyed by partition."""
    topics = []
    read_committed = (
        getattr(request, "isolation_level", IsolationLevel.READ_UNCOMMITTED)
        == IsolationLevel.READ_COMMITTED
    )
    for topic in request.topics:
        partitions: dict[int, dict[str, Any]] = {}
        described = access.permits(state, ctx, AclResourceType.TOPIC, topic.name)
        for partition in topic.partitions:
            index = partition.partition_index
            entry: dict[str, Any] = {"partition_index": index, "error_code": ErrorCode.none}
            if index in partitions:
                partitions[index] = {**entry, "error_code": ErrorCode.invalid_request}
                continue
            if not described:
                entry["error_code"] = ErrorCode.topic_authorization_failed
                partitions[index] = entry
                continue
            try:
                if _unsupported(partition.timestamp, ctx.api_version):
                    raise KafkaError(ErrorCode.unsupported_version)
                partition_log = state.partition_log(topic.name, index)
                error = partition_error(
                    state,
                    topic.name,
                    index,
                    getattr(partition, "current_leader_epoch", NO_EPOCH),  # v4+
                    require_leader=request.replica_id != DEBUGGING_REPLICA_ID,
                )
                if error is not None:
                    raise KafkaError(error)
            except KafkaError as exc:
                entry["error_code"] = exc.code
                partitions[index] = entry
                continue
            if ctx.api_version == 0:
                entry["old_style_offsets"] = _legacy_offsets(
                    partition_log, partition.timestamp, partition.max_num_offsets, ctx.now_ms
                )
                partitions[index] = entry
                continue
            timestamp, offset = _lookup(partition_log, partition.timestamp, read_committed)
            entry.update(
                timestamp=timestamp, offset=offset, leader_epoch=LEADER_EPOCH if offset >= 0 else -1
            )
            partitions[index] = entry
        topics.append({"name": topic.name, "partitions": list(partitions.values())})
    return ctx.respond({"throttle_time": 0, "topics": topics})
