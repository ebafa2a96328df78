"""CreateAcls, DescribeAcls and DeleteAcls, over the authorizer's ACLs (security/acls.py).
Without an authorizer Kafka answers SECURITY_DISABLED, and so does localbroker."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from ..errors import KafkaError
from ..protocol.names import (
    AclOperation,
    AclPermissionType,
    AclResourceType,
    ApiKey,
    ErrorCode,
    PatternType,
)
from ..security.acl_binding import AclBinding
from ..security.acls import AclFilter
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

_DISABLED = "No Authorizer is configured."
V0_PATTERN_TYPE = PatternType.LITERAL
"""The v0 requests (Kafka 3.9 served them) predate KIP-290's prefixed ACLs: they mean literal."""
_DESCRIBE_DISABLED = "No Authorizer is configured on the broker"
"""Kafka's AclApis words DescribeAcls' refusal apart from the others'."""


def _enum(kind: Any, value: int) -> Any:
    try:
        return kind(value)
    except ValueError:
        return kind.UNKNOWN


def _filter(item: Any) -> AclFilter:
    return AclFilter(
        item.resource_type_filter,
        item.resource_name_filter,
        getattr(item, "pattern_type_filter", V0_PATTERN_TYPE),
        item.principal_filter,
        item.host_filter,
        item.operation,
        item.permission_type,
    )


def _acl_fields(acl: AclBinding) -> dict[str, Any]:
    return {
        "principal": acl.principal,
        "host": acl.host,
        "operation": acl.operation,
        "permission_type": acl.permission_type,
    }


@handles(ApiKey.CREATE_ACLS, 0, 3)
def create_acls(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    results: list[tuple[ErrorCode, str | None]]
    if not state.authorizer.enabled:
        results = [(ErrorCode.security_disabled, _DISABLED)] * len(request.creations)
    elif not access.permits(state, ctx, AclResourceType.CLUSTER):
        results = [(ErrorCode.cluster_authorization_failed, None)] * len(request.creations)
    else:
        results = state.authorizer.create(
            [
                AclBinding(
                    _enum(AclResourceType, c.resource_type),
                    c.resource_name,
                    _enum(PatternType, getattr(c, "resource_pattern_type", V0_PATTERN_TYPE)),
                    c.principal,
                    c.host,
                    _enum(AclOperation, c.operation),
                    _enum(AclPermissionType, c.permission_type),
                )
                for c in request.creations
            ]
        )
    return ctx.respond(
        {
            "throttle_time": 0,
            "results": [
                {"error_code": code, "error_message": message} for code, message in results
            ],
        }
    )


@handles(ApiKey.DESCRIBE_ACLS, 0, 3)
def describe_acls(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if not state.authorizer.enabled:
        return ctx.respond(
            {"throttle_time": 0, "error_code": ErrorCode.security_disabled,
             "error_message": _DESCRIBE_DISABLED, "resources": []}
        )  # fmt: skip
    access.require(state, ctx, AclResourceType.CLUSTER)
    acls = sorted(
        state.authorizer.describe(_filter(request)),
        key=lambda a: (a.resource_type, a.resource_name, a.pattern_type),
    )
    resources = [
        {
            "resource_type": resource_type,
            "resource_name": name,
            "pattern_type": pattern_type,
            "acls": [_acl_fields(acl) for acl in group],
        }
        for (resource_type, name, pattern_type), group in groupby(
            acls, key=lambda a: (a.resource_type, a.resource_name, a.pattern_type)
        )
    ]
    return ctx.respond(
        {"throttle_time": 0, "error_code": ErrorCode.none, "error_message": None,
         "resources": resources}
    )  # fmt: skip


@handles(ApiKey.DELETE_ACLS, 0, 3)
def delete_acls(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if not state.authorizer.enabled:
        results = [
            {"error_code": ErrorCode.security_disabled, "error_message": _DISABLED,
             "matching_acls": []}
            for _ in request.filters
        ]  # fmt: skip
    elif not access.permits(state, ctx, AclResourceType.CLUSTER):
        results = [
            {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
             "matching_acls": []}
            for _ in request.filters
        ]  # fmt: skip
    else:
        try:
            deleted = state.authorizer.delete([_filter(item) for item in request.filters])
        except KafkaError as exc:
            failed = {"error_code": exc.code, "error_message": exc.message, "matching_acls": []}
            return ctx.respond(
                {"throttle_time": 0, "filter_results": [failed] * len(request.filters)}
            )
        results = [
            {
                "error_code": ErrorCode.none,
                "error_message": None,
                "matching_acls": [
                    {
                        "error_code": ErrorCode.none,
                        "error_message": None,
                        "resource_type": acl.resource_type,
                        "resource_name": acl.resource_name,
                        "pattern_type": acl.pattern_type,
                        **_acl_fields(acl),
                    }
                    for acl in group
                ],
            }
            for group in deleted
        ]
    return ctx.respond({"throttle_time": 0, "filter_results": results})
