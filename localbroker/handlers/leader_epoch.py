"""OffsetForLeaderEpoch (KIP-320): where each leader epoch ends, for consumers validating their
position after a leader change and followers finding where their log diverged, answered
from the partition's leader-epoch cache as Kafka's Partition.lastOffsetForLeaderEpoch does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import AclResourceType, ApiKey
from . import access
from .leader import NO_EPOCH, partition_error
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


@handles(ApiKey.OFFSET_FOR_LEADER_EPOCH, 0, 4)
def offset_for_leader_epoch(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    topics = []
    for topic in request.topics:
        partitions = []
        described = access.permits(state, ctx, AclResourceType.TOPIC, topic.topic)
        for partition in topic.partitions:
            entry: dict[str, Any] = {
                "error_code": ErrorCode.none,
                "partition": partition.partition,
                "leader_epoch": NO_EPOCH,
                "end_offset": -1,
            }
            error = (
                # v2+: the client's epoch against the registration's; only the leader
                # answers (ReplicaManager.lastOffsetForLeaderEpoch: fetchOnlyFromLeader)
                partition_error(
                    state,
                    topic.topic,
                    partition.partition,
                    getattr(partition, "current_leader_epoch", NO_EPOCH),
                )
                if described
                else ErrorCode.topic_authorization_failed
            )
            try:
                if error is not None:
                    entry["error_code"] = error
                    partitions.append(entry)
                    continue
                partition_log = state.partition_log(topic.topic, partition.partition)
                epoch, end_offset = partition_log.epochs.end_offset_for(partition.leader_epoch)
                entry.update(leader_epoch=epoch, end_offset=end_offset)
            except KafkaError as exc:
                entry["error_code"] = exc.code
            partitions.append(entry)
        topics.append({"topic": topic.topic, "partitions": partitions})
    return ctx.respond({"throttle_time": 0, "topics": topics})
