"""AlterConfigs and IncrementalAlterConfigs in cluster mode: forwarded to the active
controller, as Kafka's brokers forward them.

A change made only in this node's store would be undone by the next committed metadata
batch (every node's store follows the image), so the controller writes it as ConfigRecords.
The broker checks each resource first, as on one broker (configs.py), answers the refused
ones itself and forwards the others at the client's API version. It answers once its own
store shows what the controller accepted, so that the client's next DescribeConfigs here
sees it (bounded: a change someone else made meanwhile shows something else).
REQUEST_TIMED_OUT when no controller answered in time.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..protocol.names import ErrorCode
from .registry import RequestContext

if TYPE_CHECKING:
    from ..state import BrokerState
    from .configs import ConfigChange

FORWARD_TIMEOUT_S = 25.0
"""How long a change waits for the controller (AlterConfigs has no timeout of its own): a
little under clients' default request.timeout.ms (30 s), so the client hears why."""


async def alter(
    state: BrokerState,
    ctx: RequestContext,
    request: Any,
    responses: list[dict[str, Any]],
    checked: dict[int, ConfigChange],
) -> Any:
    """`responses` (one per resource, the refused ones answered) completed with the
    controller's answers for the `checked` ones."""
    channel = state.controller_channel
    assert channel is not None
    if checked:
        kept = tuple(request.resources[index] for index in checked)
        answer = await channel.forward(
            dataclasses.replace(request, resources=kept), FORWARD_TIMEOUT_S
        )
        results = [
            {"error_code": ErrorCode.request_timed_out, "error_message": None}
            if answer is None
            else {"error_code": r.error_code, "error_message": r.error_message}
            for r in (kept if answer is None else answer.responses)
        ]
        for index, result in zip(checked, results, strict=True):
            responses[index].update(result)
        accepted = [
            change
            for index, change in checked.items()
            if responses[index]["error_code"] == ErrorCode.none
        ]
        if accepted and not request.validate_only:
            await channel.watch.until(
                lambda: all(change.shown() for change in accepted), FORWARD_TIMEOUT_S
            )
    return ctx.respond({"throttle_time": 0, "responses": responses})
