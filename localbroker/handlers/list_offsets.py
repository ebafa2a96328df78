"""ListOffsets: earliest, latest, by timestamp, max timestamp, and the tiered-storage sentinels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..log.partition import LEADER_EPOCH
from ..protocol.names import AclResourceType, ApiKey, ListOffsetsTimestamp
from . import access
from .leader import leader_epoch_error
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..log.partition import PartitionLog
    from ..state import BrokerState


def _lookup(partition_log: PartitionLog, timestamp: int) -> tuple[int, int]:
    """(timestamp, offset) answering one ListOffsets query; (-1, -1) when nothing matches."""
    if timestamp == ListOffsetsTimestamp.LATEST:
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
    if found is None:
        return -1, -1
    return found.timestamp, found.offset


@handles(ApiKey.LIST_OFFSETS, 1, 10)
def list_offsets(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    topics = []
    for topic in request.topics:
        partitions = []
        described = access.permits(state, ctx, AclResourceType.TOPIC, topic.name)
        for partition in topic.partitions:
            entry: dict[str, Any] = {
                "partition_index": partition.partition_index,
                "error_code": ErrorCode.none,
            }
            if not described:
                entry["error_code"] = ErrorCode.topic_authorization_failed
                partitions.append(entry)
                continue
            error = leader_epoch_error(getattr(partition, "current_leader_epoch", -1))
            if error is None and partition.timestamp < min(ListOffsetsTimestamp):
                error = ErrorCode.invalid_request
            if error is not None:
                entry["error_code"] = error
                partitions.append(entry)
                continue
            try:
                partition_log = state.partition_log(topic.name, partition.partition_index)
            except KafkaError as exc:
                entry["error_code"] = exc.code
                partitions.append(entry)
                continue
            timestamp, offset = _lookup(partition_log, partition.timestamp)
            entry.update(
                timestamp=timestamp, offset=offset, leader_epoch=LEADER_EPOCH if offset >= 0 else -1
            )
            partitions.append(entry)
        topics.append({"name": topic.name, "partitions": partitions})
    return ctx.respond({"throttle_time": 0, "topics": topics})
