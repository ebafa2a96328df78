"""CreateTopics, DeleteTopics and CreatePartitions in cluster mode: forwarded to the active
controller, as Kafka's brokers forward them.

The broker authorises each topic for its client first (the controller does not know the
client) and answers the refused ones itself; it forwards the request with the others, at
the client's API version (the controller serves every version clients may send), and
answers once its own metadata shows the controller's result, so that a client asking this
broker for Metadata next sees what it created or deleted. REQUEST_TIMED_OUT when no
controller answered within the request's timeout.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ..protocol.names import INTERNAL_TOPICS, AclOperation, AclResourceType, ErrorCode
from . import access
from .registry import RequestContext

if TYPE_CHECKING:
    from ..state import BrokerState

_TOPIC = AclResourceType.TOPIC
_REFUSED = {"error_code": ErrorCode.topic_authorization_failed, "error_message": None}
_TIMED_OUT = {"error_code": ErrorCode.request_timed_out, "error_message": None}


def _timeout_s(request: Any) -> float:
    return max(float(request.timeout.total_seconds()), 1.0)


async def _ask_controller(state: BrokerState, request: Any, field: str, kept: list[Any]) -> Any:
    """The controller's answer to `request` with only `kept` as its `field`; None if no
    controller answered in time."""
    channel = state.controller_channel
    assert channel is not None
    return await channel.forward(
        dataclasses.replace(request, **{field: tuple(kept)}), _timeout_s(request)
    )


async def _settled(state: BrokerState, request: Any, shown: Any) -> None:
    """Wait (within the request's timeout) until this node's topics show `shown()`."""
    channel = state.controller_channel
    assert channel is not None
    await channel.watch.until(shown, _timeout_s(request))


async def create_topics(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    internal = [t for t in request.topics if t.name in INTERNAL_TOPICS]
    kept = [
        t
        for t in request.topics
        if t not in internal and access.permits(state, ctx, _TOPIC, t.name, AclOperation.CREATE)
    ]
    own = [
        {"name": t.name, "configs": [], **_REFUSED}
        for t in request.topics
        if t not in kept and t not in internal
    ]
    own += [
        {
            "name": t.name,
            "configs": [],
            "error_code": ErrorCode.invalid_request,
            "error_message": f"Creation of internal topic {t.name} is prohibited.",
        }
        for t in internal
    ]
    answer = await _ask_controller(state, request, "topics", kept) if kept else None
    if answer is None:
        own += [{"name": t.name, "configs": [], **_TIMED_OUT} for t in kept]
        return ctx.respond({"throttle_time": 0, "topics": own})
    # (the topic id is in answers from v7 on; before, the name tells)
    created = {
        t.name: getattr(t, "topic_id", None)
        for t in answer.topics
        if t.error_code == ErrorCode.none
    }
    if not getattr(request, "validate_only", False):

        def shown() -> bool:
            return all(
                (t := state.topics.get(n)) is not None and i in (None, t.topic_id)
                for n, i in created.items()
            )

        await _settled(state, request, shown)
    refused = ctx.respond({"throttle_time": 0, "topics": own}).topics
    return dataclasses.replace(answer, topics=(*answer.topics, *refused))


async def delete_topics(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    field = "topics" if ctx.api_version >= 6 else "topic_names"
    entries = list(getattr(request, field))

    def name_of(entry: Any) -> str | None:
        if field == "topic_names":
            return str(entry)
        if entry.name is not None:
            return str(entry.name)
        record = state.topic_by_id(entry.topic_id)
        return None if record is None else record.name

    def deletable(entry: Any) -> bool:
        name = name_of(entry)
        return name is None or (
            access.permits(state, ctx, _TOPIC, name, AclOperation.DESCRIBE)
            and access.permits(state, ctx, _TOPIC, name, AclOperation.DELETE)
        )

    kept = [e for e in entries if deletable(e)]
    own = [{"name": name_of(e), **_REFUSED} for e in entries if e not in kept]
    answer = await _ask_controller(state, request, field, kept) if kept else None
    if answer is None:
        own += [{"name": name_of(e), **_TIMED_OUT} for e in kept]
        return ctx.respond({"throttle_time": 0, "responses": own})
    gone = [r for r in answer.responses if r.error_code == ErrorCode.none]

    def shown() -> bool:
        """No deleted topic is here any more (by id from v6 on; before, by name)."""
        return not any(
            state.topic_by_id(r.topic_id) if ctx.api_version >= 6 else r.name in state.topics
            for r in gone
        )

    await _settled(state, request, shown)
    refused = ctx.respond({"throttle_time": 0, "responses": own}).responses
    return dataclasses.replace(answer, responses=(*answer.responses, *refused))


async def create_partitions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    kept = [t for t in request.topics if access.permits(state, ctx, _TOPIC, t.name)]
    own = [{"name": t.name, **_REFUSED} for t in request.topics if t not in kept]
    answer = await _ask_controller(state, request, "topics", kept) if kept else None
    if answer is None:
        own += [{"name": t.name, **_TIMED_OUT} for t in kept]
        return ctx.respond({"throttle_time": 0, "results": own})
    grown = {r.name for r in answer.results if r.error_code == ErrorCode.none}
    counts = {t.name: t.count for t in kept if t.name in grown}
    if not request.validate_only:

        def shown() -> bool:
            return all(
                (t := state.topics.get(n)) is not None and t.partitions >= c
                for n, c in counts.items()
            )

        await _settled(state, request, shown)
    refused = ctx.respond({"throttle_time": 0, "results": own}).results
    return dataclasses.replace(answer, results=(*answer.results, *refused))
