"""Authorized operations, as Kafka answers them when a client asks (Metadata, DescribeCluster,
DescribeGroups): of the operations a resource type supports (AclEntry.supportedOperations),
those the principal may perform (AuthHelper.authorizedOperations), as a bit field. Without an
authorizer that is every supported operation. When a client does not ask, the field keeps its
schema default, INT32 minimum, "not given"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol.names import CLUSTER_RESOURCE_NAME, AclResourceType
from ..protocol.names import AclOperation as Op
from .access import allowed
from .registry import RequestContext

if TYPE_CHECKING:
    from ..state import BrokerState


def _bit_field(*operations: Op) -> int:
    """Kafka's Utils.to32BitField."""
    return sum(1 << operation for operation in set(operations))


def _operations(bits: int) -> list[Op]:
    return [operation for operation in Op if bits & (1 << operation)]


def authorized_operations(
    state: BrokerState,
    ctx: RequestContext,
    resource_type: AclResourceType,
    name: str = CLUSTER_RESOURCE_NAME,
) -> int:
    """The bit field of what `ctx`'s principal may do to one resource."""
    supported = _SUPPORTED[resource_type]
    if not state.authorizer.enabled:
        return supported
    return _bit_field(
        *(
            operation
            for operation in _operations(supported)
            if allowed(state, ctx, operation, resource_type, name)
        )
    )


TOPIC_OPERATIONS = _bit_field(
    Op.READ,
    Op.WRITE,
    Op.CREATE,
    Op.DESCRIBE,
    Op.DELETE,
    Op.ALTER,
    Op.DESCRIBE_CONFIGS,
    Op.ALTER_CONFIGS,
)
GROUP_OPERATIONS = _bit_field(
    Op.READ, Op.DESCRIBE, Op.DELETE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS
)
CLUSTER_OPERATIONS = _bit_field(
    Op.CREATE,
    Op.CLUSTER_ACTION,
    Op.DESCRIBE_CONFIGS,
    Op.ALTER_CONFIGS,
    Op.IDEMPOTENT_WRITE,
    Op.ALTER,
    Op.DESCRIBE,
)
_SUPPORTED = {
    AclResourceType.TOPIC: TOPIC_OPERATIONS,
    AclResourceType.GROUP: GROUP_OPERATIONS,
    AclResourceType.CLUSTER: CLUSTER_OPERATIONS,
}
