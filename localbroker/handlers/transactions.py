"""The transactional producer's APIs: AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and
EndTxn (InitProducerId is in producer_ids.py).

Which transaction version a request speaks goes by its version, as in Kafka
(TransactionVersion.transactionVersionForEndTxn and ...ForAddPartitionsToTxn): EndTxn v5 and
TxnOffsetCommit v5 are version 2 (KIP-890 part 2: an epoch bump per transaction, offsets
partitions added by TxnOffsetCommit itself), AddPartitionsToTxn v4+ comes from brokers adding
partitions for Produce v12, and the older versions are version 0.

Authorization and the checks before the coordinator are KafkaApis'; the coordinator's
answers are translated for old versions as KafkaApis translates them (PRODUCER_FENCED, new in
each API's v2 (InitProducerId's v4), is INVALID_PRODUCER_EPOCH before).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..groups.coordinator import GroupCoordinator
from ..protocol.names import AclResourceType, ApiKey
from ..transactions.coordinator import EndResult
from ..transactions.epoch_bump import EPOCH_BUMP_VERSION
from ..transactions.metadata import PendingOffset, TopicPartition
from . import access
from .leader import coordinates
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

PRODUCER_FENCED_SINCE = 2
"""The version of AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit that first
knows PRODUCER_FENCED (KIP-588)."""
TRANSACTION_ABORTABLE_SINCE = 4
"""TxnOffsetCommit's first version to know TRANSACTION_ABORTABLE (KIP-890)."""


def fenced_for(version: int, error: ErrorCode, since: int = PRODUCER_FENCED_SINCE) -> ErrorCode:
    if error == ErrorCode.producer_fenced and version < since:
        return ErrorCode.invalid_producer_epoch
    return error


BATCHED_SINCE = 4
"""AddPartitionsToTxn v4 on: several transactions per request, sent by brokers (which may
also only ask whether partitions are in a transaction: KIP-890's verification), of
transaction version 2."""
EPOCH_BUMP_SINCE = 5
"""EndTxn's and TxnOffsetCommit's first version of transaction version 2."""


@dataclass(frozen=True, slots=True)
class _Adding:
    transactional_id: str
    producer_id: int
    producer_epoch: int
    verify_only: bool
    partitions: list[tuple[str, int]]


async def _added(
    state: BrokerState, ctx: RequestContext, adding: _Adding
) -> dict[TopicPartition, Any]:
    """Each partition's answer. Any partition refused (not authorized, unknown) fails the
    whole transaction's request: the others are answered OPERATION_NOT_ATTEMPTED, as Kafka
    does. Clients (v0-3) need WRITE on the id and the topics; brokers (v4+) are trusted."""
    asked = adding.partitions
    from_client = ctx.api_version < BATCHED_SINCE
    tid = adding.transactional_id
    if from_client and not access.permits(state, ctx, AclResourceType.TRANSACTIONAL_ID, tid):
        return dict.fromkeys(asked, ErrorCode.transactional_id_authorization_failed)
    refused = {
        tp: ErrorCode.topic_authorization_failed
        for tp in asked
        if from_client and not access.permits(state, ctx, AclResourceType.TOPIC, tp[0])
    }
    refused.update(
        (tp, ErrorCode.unknown_topic_or_partition)
        for tp in asked
        if tp not in refused and not state.partition_exists(*tp)
    )
    if refused:
        return {tp: refused.get(tp, ErrorCode.operation_not_attempted) for tp in asked}
    transactions = state.transactions
    if adding.verify_only:
        return {
            tp: transactions.verify(tid, adding.producer_id, adding.producer_epoch, tp)
            for tp in asked
        }
    version = EPOCH_BUMP_VERSION if not from_client else 0
    error = transactions.add_partitions(
        tid, adding.producer_id, adding.producer_epoch, asked, ctx.now_ms, version
    )
    error = await state.transaction_replicated(error, tid)
    return dict.fromkeys(asked, fenced_for(ctx.api_version, error))


def _by_topic(errors: dict[TopicPartition, Any]) -> list[dict[str, Any]]:
    """One result per partition, grouped by topic in the order of `errors`."""
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for (topic, partition), error in errors.items():
        by_topic.setdefault(topic, []).append(
            {"partition_index": partition, "partition_error_code": error}
        )
    return [{"name": t, "results_by_partition": results} for t, results in by_topic.items()]


@handles(ApiKey.ADD_PARTITIONS_TO_TXN, 0, 5)
async def add_partitions_to_txn(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if ctx.api_version < BATCHED_SINCE:
        adding = _Adding(
            request.v3_and_below_transactional_id,
            request.v3_and_below_producer_id,
            request.v3_and_below_producer_epoch,
            False,
            [(t.name, p) for t in request.v3_and_below_topics for p in t.partitions],
        )
        results = _by_topic(await _added(state, ctx, adding))
        return ctx.respond({"throttle_time": 0, "results_by_topic_v3_and_below": results})
    access.require(state, ctx, AclResourceType.CLUSTER)
    transactions = [
        _Adding(
            t.transactional_id,
            t.producer_id,
            t.producer_epoch,
            t.verify_only,
            [(topic.name, p) for topic in t.topics for p in topic.partitions],
        )
        for t in request.transactions
    ]
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "results_by_transaction": [
                {
                    "transactional_id": adding.transactional_id,
                    "topic_results": _by_topic(await _added(state, ctx, adding)),
                }
                for adding in transactions
            ],
        }
    )


@handles(ApiKey.ADD_OFFSETS_TO_TXN, 0, 4)
async def add_offsets_to_txn(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    access.require(state, ctx, AclResourceType.TRANSACTIONAL_ID, request.transactional_id)
    access.require(state, ctx, AclResourceType.GROUP, request.group_id)
    state.ensure_offsets_topic()
    error = _add_offsets(state, ctx, request, 0)
    error = await state.transaction_replicated(error, request.transactional_id)
    return ctx.respond({"throttle_time": 0, "error_code": fenced_for(ctx.api_version, error)})


def _add_offsets(state: BrokerState, ctx: RequestContext, request: Any, version: int) -> ErrorCode:
    """The group's offsets into the transaction: by AddOffsetsToTxn (transaction version 0)
    or by TxnOffsetCommit v5 itself (version 2)."""
    return state.transactions.add_offsets(
        request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        request.group_id,
        ctx.now_ms,
        version,
    )


@handles(ApiKey.END_TXN, 0, 5)
async def end_txn(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """v5 answers the producer id and epoch to go on with (-1 with an error)."""
    access.require(state, ctx, AclResourceType.TRANSACTIONAL_ID, request.transactional_id)
    result = state.transactions.end(
        request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        request.committed,
        ctx.now_ms,
        epoch_bump=ctx.api_version >= EPOCH_BUMP_SINCE,
    )
    completion = result.completion
    if completion is not None:
        replicated = await state.transaction_replicated(result.error, request.transactional_id)
        if replicated != ErrorCode.none:  # decided all the same: its end is finished later
            result = EndResult(replicated)
        else:
            await state.end_transaction(completion)
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": fenced_for(ctx.api_version, result.error),
            "producer_id": result.producer_id,
            "producer_epoch": result.producer_epoch,
        }
    )


def _staged(
    state: BrokerState,
    ctx: RequestContext,
    request: Any,
    groups: GroupCoordinator,
    offsets: dict[tuple[str, int], PendingOffset],
) -> ErrorCode:
    """Add the group's offsets to the transaction (v5, as AddOffsetsToTxn would), check the
    member (v3+ name one) and stage the offsets in the transaction."""
    if ctx.api_version >= EPOCH_BUMP_SINCE:
        added = _add_offsets(state, ctx, request, EPOCH_BUMP_VERSION)
        if added != ErrorCode.none:
            return _as_verification(ctx, added)
    error = groups.offsets.transactional_commit_error(
        request.group_id,
        getattr(request, "generation_id", -1),
        getattr(request, "member_id", ""),
        getattr(request, "group_instance_id", None),
    )
    if error is not None:
        return error
    staged = state.transactions.stage_offsets(
        request.transactional_id,
        request.producer_id,
        request.producer_epoch,
        request.group_id,
        offsets,
        ctx.now_ms,
    )
    return _as_verification(ctx, staged)


def _as_verification(ctx: RequestContext, error: ErrorCode) -> ErrorCode:
    """The coordinator's answer as Kafka's transaction verification gives it to TxnOffsetCommit
    (AddPartitionsToTxnManager)."""
    if error == ErrorCode.producer_fenced:
        return ErrorCode.invalid_producer_epoch
    if error == ErrorCode.transaction_abortable and ctx.api_version < TRANSACTION_ABORTABLE_SINCE:
        return ErrorCode.invalid_txn_state
    return error


@handles(ApiKey.TXN_OFFSET_COMMIT, 0, 5)
async def txn_offset_commit(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """Partitions of topics the principal may not read, or that do not exist, are refused
    each; the others are staged together (KafkaApis.handleTxnOffsetCommitRequest)."""
    refused: ErrorCode | None = None
    if not access.permits(state, ctx, AclResourceType.TRANSACTIONAL_ID, request.transactional_id):
        refused = ErrorCode.transactional_id_authorization_failed
    elif not access.permits(state, ctx, AclResourceType.GROUP, request.group_id):
        refused = ErrorCode.group_authorization_failed
    elif not coordinates(state, request.group_id):
        refused = ErrorCode.not_coordinator
    errors: dict[tuple[str, int], ErrorCode] = {}
    offsets: dict[tuple[str, int], PendingOffset] = {}
    for topic in request.topics:
        allowed = refused is None and access.permits(state, ctx, AclResourceType.TOPIC, topic.name)
        for p in topic.partitions:
            key = (topic.name, p.partition_index)
            if refused is not None:
                errors[key] = refused
            elif not allowed:
                errors[key] = ErrorCode.topic_authorization_failed
            elif not state.partition_exists(*key):
                errors[key] = ErrorCode.unknown_topic_or_partition
            else:
                offsets[key] = PendingOffset(
                    p.committed_offset,
                    getattr(p, "committed_leader_epoch", -1),
                    p.committed_metadata or "",
                )
    if offsets:
        error = await state.coordinate(lambda groups: _staged(state, ctx, request, groups, offsets))
        error = await state.transaction_replicated(error, request.transactional_id)
        errors.update(dict.fromkeys(offsets, error))
    return ctx.respond(
        {
            "throttle_time": 0,
            "topics": [
                {
                    "name": topic.name,
                    "partitions": [
                        {
                            "partition_index": p.partition_index,
                            "error_code": errors[(topic.name, p.partition_index)],
                        }
                        for p in topic.partitions
                    ],
                }
                for topic in request.topics
            ],
        }
    )
