"""InitProducerId for idempotent producers (transactions come with the transaction coordinator).

Like Kafka, an idempotent producer always gets a fresh producer id with epoch 0, also when it
sends its old id and epoch after UNKNOWN_PRODUCER_ID (KIP-360): nothing needs persisting
beyond the id counter, which is allocated in blocks so ids are never reused after a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

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


@handles(ApiKey.INIT_PRODUCER_ID, 0, 5)
def init_producer_id(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    error = _refusal(state, ctx, request.transactional_id)
    if error is None and request.transactional_id is not None:
        error = ErrorCode.unsupported_version
    if error is not None:
        return ctx.respond(
            {"throttle_time": 0, "error_code": error, "producer_id": -1, "producer_epoch": -1}
        )
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "producer_id": state.next_producer_id(),
            "producer_epoch": 0,
        }
    )
