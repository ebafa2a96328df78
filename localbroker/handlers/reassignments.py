"""AlterPartitionReassignments and ListPartitionReassignments (`kafka-reassign-partitions`).

Kafka's brokers forward both to the active controller, which authorises them (ALTER,
resp. DESCRIBE, on the cluster) and answers from the metadata log. In cluster mode this
broker authorises, forwards at the client's version and, for an alteration, answers once its
own metadata shows every accepted partition on its way (or back, for a cancellation), so
that the client's next Metadata here sees the move; REQUEST_TIMED_OUT when no controller
answered within the request's timeout.

A single broker is what a single Kafka node answers: it is the only registered broker, so
the only target it accepts is itself (a no-op), any other broker is
INVALID_REPLICA_ASSIGNMENT, a cancellation is NO_REASSIGNMENT_IN_PROGRESS and nothing is
ever listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..cluster.placement import check_manual_assignment
from ..cluster.reassignment_control import no_reassignment, unknown_partition, unknown_topic
from ..errors import KafkaError
from ..protocol.names import AclResourceType, ApiKey, ErrorCode
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

_NONE = {"error_code": ErrorCode.none, "error_message": None}
_TIMED_OUT = {"error_code": ErrorCode.request_timed_out, "error_message": None}


@handles(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 0, 1)
def alter_partition_reassignments(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    access.require(state, ctx, AclResourceType.CLUSTER)
    if state.controller_channel is not None:  # cluster mode
        return _forward_alter(state, ctx, request)
    responses = [
        {
            "name": topic.name,
            "partitions": [
                {"partition_index": p.partition_index, **_alone(state, topic.name, p)}
                for p in topic.partitions
            ],
        }
        for topic in request.topics
    ]
    return ctx.respond(_answer(request, responses))


@handles(ApiKey.LIST_PARTITION_REASSIGNMENTS, 0, 0)
def list_partition_reassignments(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    access.require(state, ctx, AclResourceType.CLUSTER)
    if state.controller_channel is not None:  # cluster mode
        return _forward_list(state, ctx, request)
    return ctx.respond({"throttle_time": 0, **_NONE, "topics": []})


def _answer(request: Any, responses: list[dict[str, Any]]) -> dict[str, Any]:
    allow = getattr(request, "allow_replication_factor_change", True)  # v1+
    return {
        "throttle_time": 0,
        **_NONE,
        "responses": responses,
        "allow_replication_factor_change": allow,
    }


def _alone(state: BrokerState, topic: str, partition: Any) -> dict[str, Any]:
    """One partition's answer on a single broker, in the controller's order of checks."""
    try:
        record = state.topics.get(topic)
        if record is None:
            raise unknown_topic(topic)
        if not 0 <= partition.partition_index < record.partitions:
            raise unknown_partition(topic, partition.partition_index)
        if partition.replicas is None:
            raise no_reassignment()
        check_manual_assignment(partition.replicas, (state.node_id,), None)
    except KafkaError as exc:
        return {"error_code": exc.code, "error_message": exc.message or None}
    return _NONE


def _timeout_s(request: Any) -> float:
    return max(float(request.timeout.total_seconds()), 1.0)


async def _forward_alter(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    channel = state.controller_channel
    assert channel is not None
    answer = await channel.forward(request, _timeout_s(request))
    if answer is None:
        responses = [
            {
                "name": topic.name,
                "partitions": [
                    {"partition_index": p.partition_index, **_TIMED_OUT} for p in topic.partitions
                ],
            }
            for topic in request.topics
        ]
        return ctx.respond(_answer(request, responses))
    accepted = {
        (topic.name, partition.partition_index): partition.error_code == ErrorCode.none
        for topic in answer.responses
        for partition in topic.partitions
    }
    targets = [
        (topic.name, p.partition_index, p.replicas)
        for topic in request.topics
        for p in topic.partitions
        if accepted.get((topic.name, p.partition_index), False)
    ]

    def shown() -> bool:
        return all(_shows(state, *target) for target in targets)

    await channel.watch.until(shown, _timeout_s(request))
    return answer


def _shows(state: BrokerState, topic: str, partition: int, replicas: Any) -> bool:
    """Whether this broker's metadata shows the move to `replicas` under way or done (the
    target replicas first), or for a cancellation (None) none under way."""
    registration = state.cluster.partition(topic, partition)
    if registration is None:
        return True  # deleted meanwhile: nothing more to wait for
    if replicas is None:
        return not registration.reassigning
    return registration.replicas[: len(replicas)] == tuple(replicas)


async def _forward_list(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    channel = state.controller_channel
    assert channel is not None
    answer = await channel.forward(request, _timeout_s(request))
    if answer is None:
        return ctx.respond({"throttle_time": 0, **_TIMED_OUT, "topics": []})
    return answer
