"""DeleteRecords: move a partition's log start offset forward (and drop whole segments below it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import AclResourceType, ApiKey
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


@handles(ApiKey.DELETE_RECORDS, 0, 2)
def delete_records(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    topics = []
    moved = False
    for topic in request.topics:
        partitions = []
        deletable = access.permits(state, ctx, AclResourceType.TOPIC, topic.name)
        for partition in topic.partitions:
            entry: dict[str, Any] = {
                "partition_index": partition.partition_index,
                "low_watermark": -1,
                "error_code": ErrorCode.none,
            }
            if not deletable:
                entry["error_code"] = ErrorCode.topic_authorization_failed
                partitions.append(entry)
                continue
            try:
                partition_log = state.partition_log(topic.name, partition.partition_index)
                entry["low_watermark"] = partition_log.delete_records_before(
                    partition.offset, ctx.now_ms
                )
                moved = True
            except KafkaError as exc:
                entry["error_code"] = exc.code
            partitions.append(entry)
        topics.append({"name": topic.name, "partitions": partitions})
    if moved:
        state.logs.write_checkpoints()
    return ctx.respond({"throttle_time": 0, "topics": topics})
