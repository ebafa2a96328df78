"""Authorization in the handlers: the authorizer's question asked with the request's principal
and client host, and the gate for APIs that check one resource as a whole.

APIs that check topics one by one (Produce, Fetch, Metadata, ListOffsets, CreateTopics,
DeleteTopics) do so in their handlers, per topic, as KafkaApis does; the gate covers the rest
with the check Kafka makes before anything else (ALTER on the cluster for ACL and SCRAM changes,
READ on a group for membership, ...). Where Kafka checks finer than the gate does (per topic in
an OffsetCommit, say), the gate asks for the cluster-wide right instead: stricter, never looser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol.names import (
    CLUSTER_RESOURCE_NAME,
    AclOperation,
    AclResourceType,
    ApiKey,
    CoordinatorType,
    ErrorCode,
)
from .registry import RequestContext

if TYPE_CHECKING:
    from ..state import BrokerState

_GROUP = AclResourceType.GROUP
_CLUSTER = AclResourceType.CLUSTER
# API -> (operation, resource type) of the check made before the handler runs; the resource's
# name is the request's group id, or the cluster's.
_GATES: dict[int, tuple[AclOperation, AclResourceType]] = {
    ApiKey.JOIN_GROUP: (AclOperation.READ, _GROUP),
    ApiKey.SYNC_GROUP: (AclOperation.READ, _GROUP),
    ApiKey.HEARTBEAT: (AclOperation.READ, _GROUP),
    ApiKey.LEAVE_GROUP: (AclOperation.READ, _GROUP),
    ApiKey.OFFSET_COMMIT: (AclOperation.READ, _GROUP),
    ApiKey.OFFSET_FETCH: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.OFFSET_DELETE: (AclOperation.DELETE, _GROUP),
    ApiKey.DESCRIBE_GROUPS: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.LIST_GROUPS: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.DELETE_GROUPS: (AclOperation.DELETE, _CLUSTER),
    ApiKey.DESCRIBE_ACLS: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.ALTER_USER_SCRAM_CREDENTIALS: (AclOperation.ALTER, _CLUSTER),
    ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.DESCRIBE_CONFIGS: (AclOperation.DESCRIBE_CONFIGS, _CLUSTER),
    ApiKey.ALTER_CONFIGS: (AclOperation.ALTER_CONFIGS, _CLUSTER),
    ApiKey.INCREMENTAL_ALTER_CONFIGS: (AclOperation.ALTER_CONFIGS, _CLUSTER),
    ApiKey.CREATE_PARTITIONS: (AclOperation.ALTER, _CLUSTER),
    ApiKey.DELETE_RECORDS: (AclOperation.DELETE, _CLUSTER),
    ApiKey.DESCRIBE_LOG_DIRS: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.OFFSET_FOR_LEADER_EPOCH: (AclOperation.DESCRIBE, _CLUSTER),
    ApiKey.INIT_PRODUCER_ID: (AclOperation.IDEMPOTENT_WRITE, _CLUSTER),
}
_REFUSALS = {
    _GROUP: ErrorCode.group_authorization_failed,
    _CLUSTER: ErrorCode.cluster_authorization_failed,
}


def allowed(
    state: BrokerState,
    ctx: RequestContext,
    operation: AclOperation,
    resource_type: AclResourceType,
    name: str = CLUSTER_RESOURCE_NAME,
) -> bool:
    return state.authorizer.authorize(
        ctx.principal, ctx.client_host, operation, resource_type, name
    )


def refusal(state: BrokerState, ctx: RequestContext, request: Any) -> ErrorCode | None:
    """The error to answer before running the handler, or None to run it."""
    if not state.authorizer.enabled:
        return None
    gate = _GATES.get(ctx.header.api_key)
    if gate is None:
        return _find_coordinator_refusal(state, ctx, request)
    operation, resource_type = gate
    name = request.group_id if resource_type is _GROUP else CLUSTER_RESOURCE_NAME
    if allowed(state, ctx, operation, resource_type, name):
        return None
    return _REFUSALS[resource_type]


def _find_coordinator_refusal(
    state: BrokerState, ctx: RequestContext, request: Any
) -> ErrorCode | None:
    if ctx.header.api_key != ApiKey.FIND_COORDINATOR:
        return None
    keys = list(request.coordinator_keys) if ctx.api_version >= 4 else [request.key]
    if getattr(request, "key_type", CoordinatorType.GROUP) == CoordinatorType.TRANSACTION:
        kind, error = (
            AclResourceType.TRANSACTIONAL_ID,
            ErrorCode.transactional_id_authorization_failed,
        )
    else:
        kind, error = _GROUP, ErrorCode.group_authorization_failed
    if all(allowed(state, ctx, AclOperation.DESCRIBE, kind, key) for key in keys):
        return None
    return error
