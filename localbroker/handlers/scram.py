"""DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554): SCRAM users kept in
the broker's security metadata (security/credentials.py does the work)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..protocol.names import AclResourceType, ApiKey, ErrorCode
from ..security import credentials
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


@handles(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0)
def describe_user_scram_credentials(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    users = None if request.users is None else [user.name for user in request.users]
    if not access.permits(state, ctx, AclResourceType.CLUSTER):
        # DescribeUserScramCredentialsRequest.getErrorResponse: the error, and once more per
        # user named, without the name. (Kafka 4.1 fails with a NullPointerException and never
        # answers when no user is named; here that gets the error with no results.)
        refused = access.refusal(AclResourceType.CLUSTER)
        error = {"error_code": refused.code, "error_message": refused.message}
        return ctx.respond(
            {"throttle_time": 0, **error, "results": [{"user": "", **error} for _ in users or ()]}
        )
    results = credentials.describe(state.security, users)
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "error_message": None,
            "results": [
                {
                    "user": result.user,
                    "error_code": result.error,
                    "error_message": result.message,
                    "credential_infos": [
                        {"mechanism": mechanism, "iterations": iterations}
                        for mechanism, iterations in result.credentials
                    ],
                }
                for result in results
            ],
        }
    )


@handles(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, 0, 0)
def alter_user_scram_credentials(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if not access.permits(state, ctx, AclResourceType.CLUSTER):
        # AlterUserScramCredentialsRequest.getErrorResponse: each user named, once, sorted
        named = {d.name for d in request.deletions} | {u.name for u in request.upsertions}
        refused = access.refusal(AclResourceType.CLUSTER)
        return ctx.respond(
            {
                "throttle_time": 0,
                "results": [
                    {"user": user, "error_code": refused.code, "error_message": refused.message}
                    for user in sorted(named)
                ],
            }
        )
    results = credentials.alter(
        state.security,
        [credentials.Deletion(d.name, d.mechanism) for d in request.deletions],
        [
            credentials.Upsertion(u.name, u.mechanism, u.iterations, u.salt, u.salted_password)
            for u in request.upsertions
        ],
    )
    return ctx.respond(
        {
            "throttle_time": 0,
            "results": [
                {"user": r.user, "error_code": r.error, "error_message": r.message} for r in results
            ],
        }
    )
