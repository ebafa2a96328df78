"""InitProducerId for idempotent producers (transactions come with the transaction coordinator).

Like Kafka, an idempotent producer always gets a fresh producer id with epoch 0, also when it
sends its old id and epoch after UNKNOWN_PRODUCER_ID (KIP-360): nothing needs persisting
beyond the id counter, which is allocated in blocks so ids are never reused after a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..protocol.names import ApiKey
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


@handles(ApiKey.INIT_PRODUCER_ID, 0, 5)
def init_producer_id(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if request.transactional_id is not None:
        return ctx.respond(
            {
                "throttle_time": 0,
                "error_code": ErrorCode.unsupported_version,
                "producer_id": -1,
                "producer_epoch": -1,
            }
        )
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "producer_id": state.next_producer_id(),
            "producer_epoch": 0,
        }
    )
