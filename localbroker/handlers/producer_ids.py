"""InitProducerId: for idempotent producers here, for transactional ones in the transaction
coordinator.

Like Kafka, an idempotent producer always gets a fresh producer id with epoch 0, also when it
sends its old id and epoch after UNKNOWN_PRODUCER_ID (KIP-360): nothing needs persisting
beyond the id counter, which is allocated in blocks so ids are never reused after a restart.
A transactional id keeps its producer id and gets its epoch bumped, fencing older producers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import AclResourceType, ApiKey
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


def _refusal(state: BrokerState, ctx: RequestContext, transactional_id: str | None) -> Any:
    """KafkaApis' checks, in its order: WRITE on the transactional id; without one,
    IDEMPOTENT_WRITE on the cluster or WRITE on at least one topic (a producer that may write
    somewhere may be idempotent there). None when they pass."""
    if transactional_id is not None:
        kind = AclResourceType.TRANSACTIONAL_ID
        allowed = access.permits(state, ctx, kind, transactional_id)
    else:
        kind = AclResourceType.CLUSTER
        allowed = access.permits(state, ctx, kind, quiet=True) or access.permits_some(
            state, ctx, AclResourceType.TOPIC
        )
    return None if allowed else access.refusal(kind).code


PRODUCER_FENCED_SINCE = 4
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1


def _answer(ctx: RequestContext, error: ErrorCode, producer_id: int, epoch: int) -> Any:
    if error == ErrorCode.producer_fenced and ctx.api_version < PRODUCER_FENCED_SINCE:
        error = ErrorCode.invalid_producer_epoch  # what older clients understand
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": error,
            "producer_id": producer_id,
            "producer_epoch": epoch,
        }
    )


@handles(ApiKey.INIT_PRODUCER_ID, 0, 5)
async def init_producer_id(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    transactional_id = request.transactional_id
    error = _refusal(state, ctx, transactional_id)
    if error is not None:
        return _answer(ctx, error, NO_PRODUCER_ID, NO_PRODUCER_EPOCH)
    try:  # in cluster mode a broker waiting for its next block of ids says so (KafkaError)
        if transactional_id is None:
            return _answer(ctx, ErrorCode.none, state.next_producer_id(), 0)
        producer_id = getattr(request, "producer_id", NO_PRODUCER_ID)
        epoch = getattr(request, "producer_epoch", NO_PRODUCER_EPOCH)
        if (producer_id == NO_PRODUCER_ID) != (epoch == NO_PRODUCER_EPOCH):
            return _answer(ctx, ErrorCode.invalid_request, NO_PRODUCER_ID, NO_PRODUCER_EPOCH)
        expected = None if producer_id == NO_PRODUCER_ID else (producer_id, epoch)
        timeout_ms = int(request.transaction_timeout.total_seconds() * 1000)
        result = state.transactions.init_producer_id(
            transactional_id, timeout_ms, expected, ctx.now_ms
        )
    except KafkaError as exc:
        return _answer(ctx, exc.code, NO_PRODUCER_ID, NO_PRODUCER_EPOCH)
    error = await state.transaction_replicated(result.error, transactional_id)
    if result.abort is not None:
        await state.end_transaction(result.abort)
    if error != result.error:
        return _answer(ctx, error, NO_PRODUCER_ID, NO_PRODUCER_EPOCH)
    return _answer(ctx, result.error, result.producer_id, result.producer_epoch)
