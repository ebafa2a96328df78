"""Who may do what: every API's authorization, in one table, as Kafka's KafkaApis,
ControllerApis and AclApis ask the authorizer (Kafka 4.1).

`RULES` lists, per API, each question its handler asks: an operation on a kind of resource,
and how Kafka answers a refusal (the scope). Handlers ask only through this module, naming the
resource: `permits` for one entry or the whole request, `require` to refuse the whole request
with its top-level error code, `permits_some` for "on at least one resource of the type"
(Authorizer.authorizeByResourceType). Asking a question the table does not list is a
programming error, so the table stays the complete description of what each API checks; a
test checks that every API the broker serves is in it.

Without an authorizer (authorizer.class.name unset) every question is answered yes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING

from ..errors import KafkaError
from ..protocol.names import (
    CLUSTER_RESOURCE_NAME,
    SUPPORTED_OPERATIONS,
    AclOperation,
    AclResourceType,
    ApiKey,
    ErrorCode,
)
from .registry import RequestContext

if TYPE_CHECKING:
    from ..state import BrokerState

audit = logging.getLogger("localbroker.authorizer")
"""Refusals, one line each (Kafka's kafka.authorizer.logger)."""


class Scope(Enum):
    """How a refusal is answered."""

    REQUEST = "the whole request gets the API's error response"
    ENTRY = "each topic, partition, group, config resource or key gets its own error"
    LISTING = "what may not be described is left out of a listing, without an error"
    ANY_RESOURCE = "allowed on at least one resource of the type (authorizeByResourceType)"


@dataclass(frozen=True, slots=True)
class Rule:
    operation: AclOperation
    resource_type: AclResourceType
    scope: Scope
    granted_by: AclOperation | None = None
    """An operation on the cluster that grants this one on every resource of the type (CREATE
    on the cluster lets CreateTopics create any topic), checked first as Kafka does."""


_R, _E, _L, _A = Scope.REQUEST, Scope.ENTRY, Scope.LISTING, Scope.ANY_RESOURCE
_T, _G, _C = AclResourceType.TOPIC, AclResourceType.GROUP, AclResourceType.CLUSTER
_X = AclResourceType.TRANSACTIONAL_ID
_Op = AclOperation
_GROUP_MEMBER = (Rule(_Op.READ, _G, _R),)

RULES: dict[ApiKey, tuple[Rule, ...]] = {
    ApiKey.PRODUCE: (Rule(_Op.WRITE, _X, _R), Rule(_Op.WRITE, _T, _E)),
    ApiKey.FETCH: (
        Rule(_Op.READ, _T, _E),  # from consumers
        Rule(_Op.CLUSTER_ACTION, _C, _R),  # from followers: every partition refused
    ),
    ApiKey.LIST_OFFSETS: (Rule(_Op.DESCRIBE, _T, _E),),
    ApiKey.METADATA: (Rule(_Op.DESCRIBE, _T, _E), Rule(_Op.CREATE, _T, _E, _Op.CREATE)),
    ApiKey.OFFSET_COMMIT: (Rule(_Op.READ, _G, _R), Rule(_Op.READ, _T, _E)),
    ApiKey.OFFSET_FETCH: (Rule(_Op.DESCRIBE, _G, _E), Rule(_Op.DESCRIBE, _T, _E)),
    ApiKey.FIND_COORDINATOR: (Rule(_Op.DESCRIBE, _G, _E), Rule(_Op.DESCRIBE, _X, _E)),
    ApiKey.JOIN_GROUP: _GROUP_MEMBER,
    ApiKey.HEARTBEAT: _GROUP_MEMBER,
    ApiKey.LEAVE_GROUP: _GROUP_MEMBER,
    ApiKey.SYNC_GROUP: _GROUP_MEMBER,
    ApiKey.DESCRIBE_GROUPS: (Rule(_Op.DESCRIBE, _G, _E),),
    ApiKey.DESCRIBE_TOPIC_PARTITIONS: (Rule(_Op.DESCRIBE, _T, _E),),  # all topics: filtered
    ApiKey.LIST_GROUPS: (Rule(_Op.DESCRIBE, _G, _L, _Op.DESCRIBE),),
    ApiKey.CREATE_TOPICS: (
        Rule(_Op.CREATE, _T, _E, _Op.CREATE),
        Rule(_Op.DESCRIBE_CONFIGS, _T, _E),  # the configs in the response
    ),
    ApiKey.DELETE_TOPICS: (
        Rule(_Op.DELETE, _T, _E, _Op.DELETE),
        Rule(_Op.DESCRIBE, _T, _E, _Op.DELETE),  # whether a topic id's name may be told
    ),
    ApiKey.DELETE_RECORDS: (Rule(_Op.DELETE, _T, _E),),
    ApiKey.INIT_PRODUCER_ID: (
        Rule(_Op.WRITE, _X, _R),  # with a transactional id
        Rule(_Op.IDEMPOTENT_WRITE, _C, _R),  # without one: this, or WRITE on any topic
        Rule(_Op.WRITE, _T, _A),
    ),
    ApiKey.ADD_PARTITIONS_TO_TXN: (
        Rule(_Op.WRITE, _X, _E),  # v0-3, from clients
        Rule(_Op.WRITE, _T, _E),
        Rule(_Op.CLUSTER_ACTION, _C, _R),  # v4+, from brokers
    ),
    ApiKey.ADD_OFFSETS_TO_TXN: (Rule(_Op.WRITE, _X, _R), Rule(_Op.READ, _G, _R)),
    ApiKey.END_TXN: (Rule(_Op.WRITE, _X, _R),),
    ApiKey.TXN_OFFSET_COMMIT: (
        Rule(_Op.WRITE, _X, _E),  # every partition gets the refusal
        Rule(_Op.READ, _G, _E),
        Rule(_Op.READ, _T, _E),
    ),
    ApiKey.DESCRIBE_TRANSACTIONS: (Rule(_Op.DESCRIBE, _X, _E), Rule(_Op.DESCRIBE, _T, _L)),
    ApiKey.LIST_TRANSACTIONS: (Rule(_Op.DESCRIBE, _X, _L),),
    ApiKey.DESCRIBE_PRODUCERS: (Rule(_Op.READ, _T, _E),),
    ApiKey.WRITE_TXN_MARKERS: (Rule(_Op.CLUSTER_ACTION, _C, _R, _Op.ALTER),),
    ApiKey.OFFSET_FOR_LEADER_EPOCH: (Rule(_Op.DESCRIBE, _T, _E, _Op.CLUSTER_ACTION),),
    ApiKey.DESCRIBE_ACLS: (Rule(_Op.DESCRIBE, _C, _R),),
    ApiKey.CREATE_ACLS: (Rule(_Op.ALTER, _C, _R),),  # answered per creation
    ApiKey.DELETE_ACLS: (Rule(_Op.ALTER, _C, _R),),  # answered per filter
    ApiKey.DESCRIBE_CONFIGS: (
        Rule(_Op.DESCRIBE_CONFIGS, _C, _E),  # a broker's configs
        Rule(_Op.DESCRIBE_CONFIGS, _T, _E),
        Rule(_Op.DESCRIBE_CONFIGS, _G, _E),
    ),
    ApiKey.ALTER_CONFIGS: (
        Rule(_Op.ALTER_CONFIGS, _C, _E),
        Rule(_Op.ALTER_CONFIGS, _T, _E),
        Rule(_Op.ALTER_CONFIGS, _G, _E),
    ),
    ApiKey.DESCRIBE_LOG_DIRS: (Rule(_Op.DESCRIBE, _C, _R),),
    ApiKey.ELECT_LEADERS: (Rule(_Op.ALTER, _C, _R),),  # every partition asked for refused
    ApiKey.CREATE_PARTITIONS: (Rule(_Op.ALTER, _T, _E),),
    ApiKey.DELETE_GROUPS: (Rule(_Op.DELETE, _G, _E),),
    ApiKey.OFFSET_DELETE: (Rule(_Op.DELETE, _G, _R), Rule(_Op.READ, _T, _E)),
    ApiKey.ALTER_PARTITION_REASSIGNMENTS: (Rule(_Op.ALTER, _C, _R),),
    ApiKey.LIST_PARTITION_REASSIGNMENTS: (Rule(_Op.DESCRIBE, _C, _R),),
    ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS: (Rule(_Op.DESCRIBE, _C, _R),),
    ApiKey.ALTER_USER_SCRAM_CREDENTIALS: (Rule(_Op.ALTER, _C, _R),),  # answered per user
    # Anyone may ask these; DescribeCluster tells the cluster's authorized operations only to
    # principals that may DESCRIBE it (0 to others), and the SASL APIs come before a principal.
    ApiKey.DESCRIBE_CLUSTER: (),
    ApiKey.API_VERSIONS: (),
    ApiKey.SASL_HANDSHAKE: (),
    ApiKey.SASL_AUTHENTICATE: (),
}
RULES[ApiKey.INCREMENTAL_ALTER_CONFIGS] = RULES[ApiKey.ALTER_CONFIGS]

_REFUSALS = {
    _T: (ErrorCode.topic_authorization_failed, "Topic authorization failed."),
    _G: (ErrorCode.group_authorization_failed, "Group authorization failed."),
    _C: (ErrorCode.cluster_authorization_failed, "Cluster authorization failed."),
    _X: (ErrorCode.transactional_id_authorization_failed, "Transactional Id authorization failed."),
}


def refusal(resource_type: AclResourceType) -> KafkaError:
    """The error that refuses a kind of resource (AclEntry.authorizationError), with the message
    Kafka's Errors enum gives it."""
    return KafkaError(*_REFUSALS[resource_type])


@cache
def rule(
    api_key: int, resource_type: AclResourceType, operation: AclOperation | None = None
) -> Rule:
    """The table's rule for this API and resource type (and operation, where the API asks
    more than one question about the same kind of resource)."""
    matching = [
        r
        for r in RULES[ApiKey(api_key)]
        if r.resource_type is resource_type and operation in (None, r.operation)
    ]
    assert len(matching) == 1, f"{ApiKey(api_key).kafka_name} asks no such question"
    return matching[0]


def _authorize(
    state: BrokerState,
    ctx: RequestContext,
    operation: AclOperation,
    resource_type: AclResourceType,
    name: str,
) -> bool:
    return state.authorizer.authorize(
        ctx.principal, ctx.client_host, operation, resource_type, name
    )


def permits(
    state: BrokerState,
    ctx: RequestContext,
    resource_type: AclResourceType,
    name: str = CLUSTER_RESOURCE_NAME,
    operation: AclOperation | None = None,
    *,
    quiet: bool = False,
) -> bool:
    """Whether this request's principal passes the API's check on the resource `name`.

    A refusal is logged as Kafka's authorizer logs it (kafka.authorizer.logger, INFO), except
    in listings and where `quiet` (Kafka's logIfDenied=false: "all topics" in Metadata, the
    configs CreateTopics answers with): a developer sees who was refused what, and why."""
    asked = rule(ctx.header.api_key, resource_type, operation)
    if asked.granted_by is not None and _authorize(
        state, ctx, asked.granted_by, _C, CLUSTER_RESOURCE_NAME
    ):
        return True
    allowed = _authorize(state, ctx, asked.operation, resource_type, name)
    if not allowed and not quiet and asked.scope is not Scope.LISTING:
        audit.info(
            "Principal = %s is Denied operation = %s from host = %s on resource ="
            " ResourcePattern(resourceType=%s, name=%s, patternType=LITERAL) for request = %s",
            ctx.principal,
            asked.operation.name,
            ctx.client_host,
            resource_type.name,
            name,
            ApiKey(ctx.header.api_key).name,
        )
    return allowed


def require(
    state: BrokerState,
    ctx: RequestContext,
    resource_type: AclResourceType,
    name: str = CLUSTER_RESOURCE_NAME,
) -> None:
    """Refuse the whole request unless the principal passes the API's check on `name`: for
    APIs whose error response is their top-level error code alone (the server answers the
    KafkaError raised here that way); the others build their refusal themselves."""
    assert rule(ctx.header.api_key, resource_type).scope is Scope.REQUEST
    if not permits(state, ctx, resource_type, name):
        raise refusal(resource_type)


def permits_some(state: BrokerState, ctx: RequestContext, resource_type: AclResourceType) -> bool:
    """Whether the principal passes the API's check on at least one resource of the type."""
    asked = rule(ctx.header.api_key, resource_type)
    assert asked.scope is Scope.ANY_RESOURCE
    return state.authorizer.authorize_any(
        ctx.principal, ctx.client_host, asked.operation, resource_type
    )


def authorized_operations(
    state: BrokerState,
    ctx: RequestContext,
    resource_type: AclResourceType,
    name: str = CLUSTER_RESOURCE_NAME,
) -> int:
    """The operations the principal may perform on the resource, as the bit field Metadata,
    DescribeCluster and DescribeGroups report (KIP-430): bit n set for operation code n."""
    return sum(
        1 << operation
        for operation in SUPPORTED_OPERATIONS[resource_type]
        if _authorize(state, ctx, operation, resource_type, name)
    )


def cluster_operations(state: BrokerState, ctx: RequestContext) -> int:
    """The cluster's authorized operations as Metadata (v8-10) and DescribeCluster report them:
    told only to principals that may DESCRIBE the cluster, 0 to others."""
    if not _authorize(state, ctx, _Op.DESCRIBE, _C, CLUSTER_RESOURCE_NAME):
        return 0
    return authorized_operations(state, ctx, _C)
