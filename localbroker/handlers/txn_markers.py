"""WriteTxnMarkers: a COMMIT or ABORT marker written into partitions on request, as
KafkaApis.handleWriteTxnMarkersRequest writes it.

Kafka's transaction coordinators send it to partition leaders. A single broker's coordinator
writes its markers directly (transactions/markers.py), so what asks there is an admin ending
a hanging transaction (`kafka-transactions.sh abort`, Admin.abortTransaction) with the
producer id, epoch and coordinator epoch DescribeProducers told it; in cluster mode every
coordinator's markers come this way (cluster/txn_markers.py), only a partition's leader
writes them (NOT_LEADER_OR_FOLLOWER elsewhere, NOT_ENOUGH_REPLICAS while its ISR is below
min.insync.replicas) and the answer waits until the ISR holds them (acks=all, for
request.timeout.ms), as Kafka appends them. The marker goes through the same
log path as the coordinator's: producer state, last stable offset and `.txnindex` alike,
checked as Kafka's log checks a marker (an older producer epoch is INVALID_PRODUCER_EPOCH, an
older coordinator epoch TRANSACTION_COORDINATOR_FENCED). A producer with no transaction open
in the partition gets its marker written all the same, ending nothing, as in Kafka.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..cluster.replication.leader import ACKS_ALL
from ..errors import KafkaError
from ..protocol.names import AclResourceType, ApiKey
from . import access
from .leader import partition_error
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..cluster.replication.leading import LeaderReplica
    from ..log.partition import PartitionLog
    from ..state import BrokerState

Errors = dict[int, dict[str, dict[int, ErrorCode]]]
"""Each producer id's error by topic and partition, as Kafka's response map has them."""


def _answer(ctx: RequestContext, errors: Errors) -> Any:
    return ctx.respond(
        {
            "markers": [
                {
                    "producer_id": producer_id,
                    "topics": [
                        {
                            "name": topic,
                            "partitions": [
                                {"partition_index": p, "error_code": code}
                                for p, code in partitions.items()
                            ],
                        }
                        for topic, partitions in topics.items()
                    ],
                }
                for producer_id, topics in errors.items()
            ]
        }
    )


_Written = list[tuple["PartitionLog", int, dict[int, ErrorCode], int]]
"""Each log a marker went to, the offset a flush must cover, and where its error goes."""
_Replicated = list[tuple["LeaderReplica", int, dict[int, ErrorCode], int]]
"""Cluster mode: each leader a marker went to, the marker's offset, and where its error goes."""
REQUEST_TIMEOUT_MS = 30_000
"""request.timeout.ms's default: how long Kafka's handler waits for the ISR to hold a marker."""


def _write(
    state: BrokerState, marker: Any, now_ms: int, errors: Errors, replicated: _Replicated
) -> _Written:
    """Append one marker to each of its partitions; what each append must flush."""
    written: _Written = []
    for topic in marker.topics:
        by_partition = errors.setdefault(marker.producer_id, {}).setdefault(topic.name, {})
        for partition in topic.partition_indexes:
            leader = None
            try:
                partition_log = state.partition_log(topic.name, partition)
                if state.replicas is not None:
                    leader = _leader(state, topic.name, partition)
                result = partition_log.append_marker(
                    marker.producer_id,
                    marker.producer_epoch,
                    marker.transaction_result,
                    now_ms,
                    marker.coordinator_epoch,
                )
            except KafkaError as exc:
                by_partition[partition] = exc.code
                continue
            by_partition[partition] = ErrorCode.none
            if leader is not None:
                replicated.append((leader, result.last_offset, by_partition, partition))
            if partition_log.flush_pending:
                written.append((partition_log, result.last_offset + 1, by_partition, partition))
    return written


def _leader(state: BrokerState, topic: str, partition: int) -> LeaderReplica:
    """The partition's leader replica, once it may take an acks=all append."""
    assert state.replicas is not None
    error = partition_error(state, topic, partition)
    leader = state.replicas.leader_replica(topic, partition)
    if error is not None or leader is None:
        raise KafkaError(error or ErrorCode.not_leader_or_follower)
    leader.state.check_append(ACKS_ALL)
    return leader


@handles(ApiKey.WRITE_TXN_MARKERS, 1, 1)
async def write_txn_markers(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """ALTER on the cluster, or else CLUSTER_ACTION, or every partition is refused; then the
    markers in request order, answered (acks=all) once as durable as the flush policy asks."""
    errors: Errors = {}
    refused = not access.permits(state, ctx, AclResourceType.CLUSTER)
    written: _Written = []
    replicated: _Replicated = []
    for marker in request.markers:
        if refused:
            for topic in marker.topics:
                by_partition = errors.setdefault(marker.producer_id, {}).setdefault(topic.name, {})
                for partition in topic.partition_indexes:
                    by_partition[partition] = ErrorCode.cluster_authorization_failed
        else:
            written += _write(state, marker, ctx.now_ms, errors, replicated)
    outcomes, acks = await asyncio.gather(
        asyncio.gather(
            *(state.flush(log_, upto) for log_, upto, _, _ in written), return_exceptions=True
        ),
        asyncio.gather(
            *(leader.acks_all(offset, REQUEST_TIMEOUT_MS) for leader, offset, _, _ in replicated)
        ),
    )
    for (_, _, by_partition, partition), error in zip(replicated, acks, strict=True):
        if by_partition[partition] == ErrorCode.none:
            by_partition[partition] = error
    for (_, _, by_partition, partition), outcome in zip(written, outcomes, strict=True):
        if isinstance(outcome, KafkaError):
            by_partition[partition] = outcome.code
        elif isinstance(outcome, BaseException):
            raise outcome
    return _answer(ctx, errors)
