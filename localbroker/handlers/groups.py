"""FindCoordinator and the classic group membership APIs: JoinGroup, SyncGroup, Heartbeat,
LeaveGroup, ListGroups, DescribeGroups and DeleteGroups.

JoinGroup and SyncGroup park until the coordinator answers (when the rebalance reaches that
point or times out); everything else answers at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..groups.coordinator import JoinRequest
from ..groups.group import JoinResult, SyncResult
from ..protocol.names import (
    OFFSETS_TOPIC,
    TRANSACTION_STATE_TOPIC,
    AclResourceType,
    ApiKey,
    CoordinatorType,
    GroupState,
)
from . import access
from .brokers import live_node
from .leader import coordinates, require_coordinator
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

CLASSIC = "classic"
NOT_AVAILABLE = "The coordinator is not available."
"""COORDINATOR_NOT_AVAILABLE's message (Errors.COORDINATOR_NOT_AVAILABLE), which Kafka sends
before v4, when it answers with the error's exception."""
PROTOCOL_IN_SYNC_VERSION = 5


_KEY_RESOURCES: dict[int, AclResourceType] = {
    CoordinatorType.GROUP: AclResourceType.GROUP,
    CoordinatorType.TRANSACTION: AclResourceType.TRANSACTIONAL_ID,
}
_KEY_TOPICS: dict[int, str] = {
    CoordinatorType.GROUP: OFFSETS_TOPIC,
    CoordinatorType.TRANSACTION: TRANSACTION_STATE_TOPIC,
}


def _no_coordinator(key: str, error: KafkaError) -> dict[str, Any]:
    return {
        "key": key,
        "node_id": -1,
        "host": "",
        "port": -1,
        "error_code": error.code,
        "error_message": error.message,
    }


def _coordinator_entry(
    state: BrokerState, ctx: RequestContext, key: str, key_type: int
) -> dict[str, Any]:
    """One coordinator answer: the leader of the key's partition of the coordinator's topic
    (`__consumer_offsets`, `__transaction_state`), created on first use, or
    COORDINATOR_NOT_AVAILABLE while that partition has no leader live on the client's listener
    (KafkaApis.getCoordinator). Like Kafka, the key itself is not validated (an empty group id
    is a group like any other)."""
    resource_type = _KEY_RESOURCES[key_type]
    if not access.permits(state, ctx, resource_type, key):
        return _no_coordinator(key, access.refusal(resource_type))
    try:
        topic = state.ensure_internal_topic(_KEY_TOPICS[key_type]).name
    except KafkaError as exc:  # cluster mode: the controller is creating it
        return _no_coordinator(key, exc)
    registration = state.cluster.partition(topic, _coordinator_partition(state, key_type, key))
    node = None if registration is None else live_node(state, registration.leader, ctx.listener)
    if node is None:
        return _no_coordinator(key, KafkaError(ErrorCode.coordinator_not_available, NOT_AVAILABLE))
    return {
        "key": key,
        "node_id": node["node_id"],
        "host": node["host"],
        "port": node["port"],
        "error_code": ErrorCode.none,
        "error_message": "",
    }


def _coordinator_partition(state: BrokerState, key_type: int, key: str) -> int:
    if key_type == CoordinatorType.GROUP:
        return state.offsets_topic.partition_of(key)
    return state.transaction_log.topic.partition_of(key)


@handles(ApiKey.FIND_COORDINATOR, 0, 6)
def find_coordinator(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    key_type = getattr(request, "key_type", CoordinatorType.GROUP)
    keys = list(request.coordinator_keys) if ctx.api_version >= 4 else [request.key]
    if key_type not in _KEY_RESOURCES:
        message = f"Unknown coordinator type received: {key_type}"
        unknown = KafkaError(ErrorCode.invalid_request, message)
        entries = [_no_coordinator(key, unknown) for key in keys]
    else:
        entries = [_coordinator_entry(state, ctx, key, key_type) for key in keys]
    if ctx.api_version >= 4:
        return ctx.respond({"throttle_time": 0, "coordinators": entries})
    (entry,) = entries
    if entry["error_code"] == ErrorCode.none:
        entry["error_message"] = "NONE"  # Kafka sends Errors.NONE.message() here
    return ctx.respond({"throttle_time": 0, **entry})


@handles(ApiKey.JOIN_GROUP, 0, 9)
async def join_group(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if not access.permits(state, ctx, AclResourceType.GROUP, request.group_id):
        return _joined(ctx, JoinResult(error=ErrorCode.group_authorization_failed))
    if not coordinates(state, request.group_id):
        return _joined(ctx, JoinResult(error=ErrorCode.not_coordinator))
    session_timeout = int(request.session_timeout.total_seconds() * 1000)
    rebalance = getattr(request, "rebalance_timeout", None)
    join = JoinRequest(
        group_id=request.group_id,
        member_id=request.member_id,
        group_instance_id=getattr(request, "group_instance_id", None),
        client_id=ctx.header.client_id or "",
        client_host=f"/{ctx.client_host}",
        session_timeout_ms=session_timeout,
        rebalance_timeout_ms=int(rebalance.total_seconds() * 1000)
        if rebalance
        else session_timeout,
        protocol_type=request.protocol_type,
        protocols=[(p.name, p.metadata) for p in request.protocols],
        api_version=ctx.api_version,
        reason=getattr(request, "reason", None),
    )
    result: JoinResult = await state.coordinate_parked(
        lambda groups, done: groups.join(join, ctx.now_ms, done)
    )
    return _joined(ctx, result)


def _joined(ctx: RequestContext, result: JoinResult) -> Any:
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": result.error,
            "generation_id": result.generation_id,
            "protocol_type": result.protocol_type,
            "protocol_name": result.protocol_name
            if ctx.api_version >= 7 or result.protocol_name
            else "",
            "leader": result.leader_id,
            "skip_assignment": result.skip_assignment,
            "member_id": result.member_id,
            "members": [
                {"member_id": member_id, "group_instance_id": instance_id, "metadata": metadata}
                for member_id, instance_id, metadata in result.members
            ],
        }
    )


@handles(ApiKey.SYNC_GROUP, 0, 5)
async def sync_group(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if ctx.api_version >= PROTOCOL_IN_SYNC_VERSION and (
        request.protocol_type is None or request.protocol_name is None
    ):
        return _synced(ctx, SyncResult(error=ErrorCode.inconsistent_group_protocol))
    if not access.permits(state, ctx, AclResourceType.GROUP, request.group_id):
        return _synced(ctx, SyncResult(error=ErrorCode.group_authorization_failed))
    if not coordinates(state, request.group_id):
        return _synced(ctx, SyncResult(error=ErrorCode.not_coordinator))
    assignments = {a.member_id: a.assignment for a in request.assignments}
    result: SyncResult = await state.coordinate_parked(
        lambda groups, done: groups.sync(
            request.group_id,
            request.generation_id,
            request.member_id,
            getattr(request, "group_instance_id", None),
            getattr(request, "protocol_type", None),
            getattr(request, "protocol_name", None),
            assignments,
            ctx.now_ms,
            done,
        ),
    )
    return _synced(ctx, result)


def _synced(ctx: RequestContext, result: SyncResult) -> Any:
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": result.error,
            "protocol_type": result.protocol_type,
            "protocol_name": result.protocol_name,
            "assignment": result.assignment,
        }
    )


@handles(ApiKey.HEARTBEAT, 0, 4)
async def heartbeat(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    access.require(state, ctx, AclResourceType.GROUP, request.group_id)
    require_coordinator(state, request.group_id)
    error = await state.coordinate(
        lambda groups: groups.heartbeat(
            request.group_id,
            request.generation_id,
            request.member_id,
            getattr(request, "group_instance_id", None),
            ctx.now_ms,
        )
    )
    return ctx.respond({"throttle_time": 0, "error_code": error})


@handles(ApiKey.LEAVE_GROUP, 0, 5)
async def leave_group(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    access.require(state, ctx, AclResourceType.GROUP, request.group_id)
    require_coordinator(state, request.group_id)
    if ctx.api_version >= 3:
        members = [(m.member_id, m.group_instance_id) for m in request.members]
    else:
        members = [(request.member_id, None)]
    error, errors = await state.coordinate(
        lambda groups: groups.leave(request.group_id, members, ctx.now_ms)
    )
    if ctx.api_version < 3:
        first = next((e for e in errors if e != ErrorCode.none), ErrorCode.none)
        return ctx.respond(
            {"throttle_time": 0, "error_code": error if error != ErrorCode.none else first}
        )
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": error,
            "members": [
                {
                    "member_id": member_id,
                    "group_instance_id": instance_id,
                    "error_code": member_error,
                }
                for (member_id, instance_id), member_error in zip(members, errors, strict=True)
            ]
            if error == ErrorCode.none
            else [],
        }
    )


@handles(ApiKey.LIST_GROUPS, 0, 5)
def list_groups(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    types = {t.lower() for t in getattr(request, "types_filter", ())}
    if types and CLASSIC not in types:
        listed = []
    else:
        listed = [
            group
            for group in state.list_groups(getattr(request, "states_filter", ()))
            if access.permits(state, ctx, AclResourceType.GROUP, group.group_id)
        ]
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "groups": [
                {
                    "group_id": g.group_id,
                    "protocol_type": g.protocol_type or "",
                    "group_state": g.state.value,
                    "group_type": CLASSIC,
                }
                for g in listed
            ],
        }
    )


@handles(ApiKey.DESCRIBE_GROUPS, 0, 6)
def describe_groups(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    described: list[dict[str, Any]] = []
    with_operations = getattr(request, "include_authorized_operations", False)
    for group_id in request.groups:
        group = state.groups.get(group_id)
        if not access.permits(state, ctx, AclResourceType.GROUP, group_id):
            described.append(_group_refused(group_id, ErrorCode.group_authorization_failed))
            continue
        if not coordinates(state, group_id):
            described.append(_group_refused(group_id, ErrorCode.not_coordinator))
            continue
        if group is None:
            missing = ctx.api_version >= 6
            described.append(
                {
                    "error_code": ErrorCode.group_id_not_found if missing else ErrorCode.none,
                    "error_message": f"Group {group_id} not found." if missing else None,
                    "group_id": group_id,
                    "group_state": GroupState.DEAD.value,
                    "protocol_type": "",
                    "protocol_data": "",
                    "members": [],
                }
            )
            continue
        described.append(
            {
                "error_code": ErrorCode.none,
                "group_id": group_id,
                "group_state": group.state.value,
                "protocol_type": group.protocol_type or "",
                "protocol_data": group.protocol_name or "",
                "members": group.describe_members(),
            }
        )
    if with_operations:
        for entry in described:
            if entry["error_code"] == ErrorCode.none:
                entry["authorized_operations"] = access.authorized_operations(
                    state, ctx, AclResourceType.GROUP, entry["group_id"]
                )
    return ctx.respond({"throttle_time": 0, "groups": described})


def _group_refused(group_id: str, error: ErrorCode) -> dict[str, Any]:
    """DescribeGroupsResponse.groupError: no state, protocol or members."""
    return {
        "error_code": error,
        "group_id": group_id,
        "group_state": "",
        "protocol_type": "",
        "protocol_data": "",
        "members": [],
    }


@handles(ApiKey.DELETE_GROUPS, 0, 2)
async def delete_groups(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    names = list(request.groups_names)
    refusals = [_deletion_refused(state, ctx, name) for name in names]
    deletable = [name for name, refused in zip(names, refusals, strict=True) if refused is None]
    deleted = iter(
        await state.coordinate(
            lambda groups: [groups.delete_group(group_id, ctx.now_ms) for group_id in deletable]
        )
        if deletable
        else []
    )
    results = [
        {
            "group_id": group_id,
            "error_code": next(deleted) if refused is None else refused,
        }
        for group_id, refused in zip(names, refusals, strict=True)
    ]
    return ctx.respond({"throttle_time": 0, "results": results})


def _deletion_refused(state: BrokerState, ctx: RequestContext, group_id: str) -> ErrorCode | None:
    if not access.permits(state, ctx, AclResourceType.GROUP, group_id):
        return ErrorCode.group_authorization_failed
    if not coordinates(state, group_id):
        return ErrorCode.not_coordinator
    return None
