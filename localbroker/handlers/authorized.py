"""Authorized operations as Kafka answers them without an authorizer: every operation the
resource type supports (AuthHelper.authorizedOperations over AclEntry.supportedOperations),
as a bit field. localbroker has no authorizer, so this is always its answer when a client asks
(Metadata, DescribeCluster, DescribeGroups); when it does not ask, the field keeps its schema
default, INT32 minimum, "not given"."""

from __future__ import annotations

from ..protocol.names import AclOperation as Op


def _bit_field(*operations: Op) -> int:
    """Kafka's Utils.to32BitField."""
    return sum(1 << operation for operation in set(operations))


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
