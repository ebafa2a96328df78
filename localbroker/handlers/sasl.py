"""SaslHandshake and SaslAuthenticate: the connection's `Session` does the work; here are
only Kafka's answers. On an authenticated connection they are KafkaApis's: a handshake
re-authenticates when the client can (KIP-368) and is otherwise ILLEGAL_SASL_STATE; a second
SaslAuthenticate fails."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..protocol.names import ApiKey, ErrorCode
from ..security.mechanism import SaslFailure
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

log = logging.getLogger(__name__)


@handles(ApiKey.SASL_HANDSHAKE, 0, 1)
def sasl_handshake(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    session = ctx.session
    error = session.handshake(ctx.api_version, request.mechanism)
    if error == ErrorCode.unsupported_sasl_mechanism:
        ctx.close_after_response = True
    return ctx.respond({"error_code": error, "mechanisms": list(session.listener.mechanisms)})


@handles(ApiKey.SASL_AUTHENTICATE, 0, 2)
def sasl_authenticate(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    session = ctx.session
    if session.authenticated:
        return ctx.respond(
            {
                "error_code": ErrorCode.sasl_authentication_failed,
                "error_message": "SaslAuthenticate request received after successful"
                " authentication",
                "auth_bytes": b"",
                "session_lifetime": 0,
            }
        )
    renewing = session.reauthenticating
    try:
        token, lifetime = session.authenticate(request.auth_bytes, ctx.api_version, ctx.now_ms)
    except SaslFailure as failure:
        ctx.close_after_response = True
        return ctx.respond(
            {
                "error_code": ErrorCode.sasl_authentication_failed,
                "error_message": str(failure),
                "auth_bytes": b"",
                "session_lifetime": 0,
            }
        )
    if session.authenticated:
        log.debug(
            "%s %s from %s:%d with %s (session lifetime %d ms)",
            session.principal,
            "re-authenticated" if renewing else "authenticated",
            ctx.client_host,
            ctx.client_port,
            session.mechanism,
            lifetime,
        )
    return ctx.respond(
        {
            "error_code": ErrorCode.none,
            "error_message": None,
            "auth_bytes": token,
            "session_lifetime": lifetime,
        }
    )
