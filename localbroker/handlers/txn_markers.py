"""WriteTxnMarkers: a COMMIT or ABORT marker written into partitions on request, as
KafkaApis.handleWriteTxnMarkersRequest writes it.

Kafka's transaction coordinators send it to partition leaders; localbroker's own coordinator
writes its markers directly (transactions/markers.py), so what asks here is an admin ending a
hanging transaction (`kafka-transactions.sh abort`, Admin.abortTransaction) with the producer
id, epoch and coordinator epoch DescribeProducers told it. The marker goes through the same
log path as the coordinator's: producer state, last stable offset and `.txnindex` alike,
checked as Kafka's log checks a marker (an older producer epoch is INVALID_PRODUCER_EPOCH, an
older coordinator epoch TRANSACTION_COORDINATOR_FENCED). A producer with no transaction open
in the partition gets its marker written all the same, ending nothing, as in Kafka.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import AclResourceType, ApiKey
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
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


def _write(state: BrokerState, marker: Any, now_ms: int, errors: Errors) -> _Written:
    """Append one marker to each of its partitions; what each append must flush."""
    written: _Written = []
    for topic in marker.topics:
        by_partition = errors.setdefault(marker.producer_id, {}).setdefault(topic.name, {})
        for partition in topic.partition_indexes:
            try:
                partition_log = state.partition_log(topic.name, partition)
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
            if partition_log.flush_pending:
                written.append((partition_log, result.last_offset + 1, by_partition, partition))
    return written


@handles(ApiKey.WRITE_TXN_MARKERS, 1, 1)
async def write_txn_markers(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """ALTER on the cluster, or else CLUSTER_ACTION, or every partition is refused; then the
    markers in request order, answered (acks=all) once as durable as the flush policy asks."""
    errors: Errors = {}
    refused = not access.permits(state, ctx, AclResourceType.CLUSTER)
    written: _Written = []
    for marker in request.markers:
        if refused:
            for topic in marker.topics:
                by_partition = errors.setdefault(marker.producer_id, {}).setdefault(topic.name, {})
                for partition in topic.partition_indexes:
                    by_partition[partition] = ErrorCode.cluster_authorization_failed
        else:
            written += _write(state, marker, ctx.now_ms, errors)
    outcomes = await asyncio.gather(
        *(state.flush(log_, upto) for log_, upto, _, _ in written), return_exceptions=True
    )
    for (_, _, by_partition, partition), outcome in zip(written, outcomes, strict=True):
        if isinstance(outcome, KafkaError):
            by_partition[partition] = outcome.code
        elif isinstance(outcome, BaseException):
            raise outcome
    return _answer(ctx, errors)
