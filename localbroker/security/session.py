"""One connection's authentication: its SASL state, its principal and how long it lasts.

The states and refusals are Kafka's SaslServerAuthenticator's. Before authentication a SASL
connection may send ApiVersions (once) and SaslHandshake; anything else closes it. After a
SaslHandshake v1 only SaslAuthenticate may follow: another request is answered
ILLEGAL_SASL_STATE and the connection is closed. After a v0 handshake the client sends bare
SASL tokens, each only length-prefixed, and gets bare tokens back. A failed authentication
is answered, then the connection is closed. With `connections.max.reauth.ms` the session
ends at that age: the client re-authenticates on the same connection (KIP-368, a SaslHandshake
with the same mechanism and then the same principal) or its next request closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, auto

from ..protocol.names import ApiKey, ErrorCode, ScramMechanism
from .listeners import Endpoint
from .mechanism import MechanismServer, PlainServer, SaslFailure
from .principal import ANONYMOUS, user
from .scram import ScramCredential, ScramServer

PLAIN = "PLAIN"
SUPPORTED_MECHANISMS = (PLAIN, "SCRAM-SHA-256", "SCRAM-SHA-512")
CredentialLookup = Callable[[str, ScramMechanism], ScramCredential | None]


class SaslState(Enum):
    HANDSHAKE_OR_VERSIONS_REQUEST = auto()
    HANDSHAKE_REQUEST = auto()
    AUTHENTICATE = auto()
    COMPLETE = auto()
    FAILED = auto()


class Verdict(Enum):
    """What the server does with a request, before any handler sees it."""

    PASS = auto()
    REFUSE = auto()
    """Answer ILLEGAL_SASL_STATE, then close."""
    CLOSE = auto()


@dataclass(frozen=True, slots=True)
class ListenerSecurity:
    """What a listener asks of its connections (built from the config at start-up)."""

    endpoint: Endpoint
    mechanisms: tuple[str, ...] = ()
    plain_users: Mapping[str, str] | None = None
    reauth_ms: int = 0


class Session:
    """Authentication state of one connection, driven by the server and the SASL handlers."""

    def __init__(
        self,
        listener: ListenerSecurity,
        credentials: CredentialLookup,
        principal: str = ANONYMOUS,
    ) -> None:
        self.listener = listener
        self._credentials = credentials
        self.principal = principal
        self.mechanism: str | None = None
        self.raw_tokens = False
        self.expires_ms: int | None = None
        self._supports_reauth = False
        self._reauthenticating = False
        self._server: MechanismServer | None = None
        self._requested = ""
        uses_sasl = listener.endpoint.protocol.uses_sasl
        self.state = SaslState.HANDSHAKE_OR_VERSIONS_REQUEST if uses_sasl else SaslState.COMPLETE

    @property
    def authenticated(self) -> bool:
        return self.state is SaslState.COMPLETE

    @property
    def reauthenticating(self) -> bool:
        """Whether the authentication under way renews a complete one (KIP-368)."""
        return self._reauthenticating

    def admit(self, api_key: int, now_ms: int) -> Verdict:
        state = self.state
        if state is SaslState.COMPLETE:
            expired = self.expires_ms is not None and now_ms >= self.expires_ms
            if expired and api_key != ApiKey.SASL_HANDSHAKE:
                return Verdict.CLOSE
            return Verdict.PASS
        if state is SaslState.AUTHENTICATE:
            return Verdict.PASS if api_key == ApiKey.SASL_AUTHENTICATE else Verdict.REFUSE
        if api_key == ApiKey.SASL_HANDSHAKE:
            return Verdict.PASS
        if api_key == ApiKey.API_VERSIONS and state is SaslState.HANDSHAKE_OR_VERSIONS_REQUEST:
            self.state = SaslState.HANDSHAKE_REQUEST
            return Verdict.PASS
        return Verdict.CLOSE

    # -- SaslHandshake --------------------------------------------------------------------

    def handshake(self, version: int, mechanism: str) -> ErrorCode:
        """Start authenticating with `mechanism`, or re-authenticating when complete."""
        if self.state is SaslState.COMPLETE:
            if not (self._supports_reauth and self.listener.endpoint.protocol.uses_sasl):
                return ErrorCode.illegal_sasl_state
            self._reauthenticating = True
        if mechanism not in self.listener.mechanisms:
            self.state = SaslState.FAILED
            return ErrorCode.unsupported_sasl_mechanism
        if self._reauthenticating and mechanism != self.mechanism:
            self._server = None
        else:
            self._server = self._mechanism_server(mechanism)
        self.mechanism = self.mechanism if self._reauthenticating else mechanism
        self._requested = mechanism
        self.raw_tokens = version == 0
        self.state = SaslState.AUTHENTICATE
        return ErrorCode.none

    def _mechanism_server(self, mechanism: str) -> MechanismServer:
        if mechanism == PLAIN:
            return PlainServer(self.listener.plain_users or {})
        return ScramServer(ScramMechanism.from_mechanism_name(mechanism), self._credentials)

    # -- SaslAuthenticate (and bare v0 tokens) ----------------------------------------------

    def authenticate(self, token: bytes, version: int, now_ms: int) -> tuple[bytes, int]:
        """The token to answer with and, when complete, the session's lifetime in ms (0: no
        limit). SaslFailure (the session is then FAILED) with the message the client gets."""
        if version > 0:
            self._supports_reauth = True
        try:
            return self._evaluate(token, now_ms)
        except SaslFailure as failure:
            self.state = SaslState.FAILED
            if failure.public:
                raise
            phase = "re-authentication" if self._reauthenticating else "authentication"
            raise SaslFailure(
                f"Authentication failed during {phase} due to invalid credentials with SASL"
                f" mechanism {self._requested}"
            ) from None

    def _evaluate(self, token: bytes, now_ms: int) -> tuple[bytes, int]:
        server = self._server
        if server is None:
            raise SaslFailure(
                f"SASL mechanism '{self._requested}' requested by client is not supported for"
                f" re-authentication of mechanism '{self.mechanism}'"
            )
        challenge = server.evaluate(token)
        if not server.complete:
            return challenge, 0
        assert server.authorization_id is not None
        principal = user(server.authorization_id)
        if self._reauthenticating and principal != self.principal:
            raise SaslFailure(
                f"Cannot change principals during re-authentication from {self.principal}:"
                f" {principal}"
            )
        self.principal = principal
        self._server = None
        self._reauthenticating = False
        self.raw_tokens = False
        self.state = SaslState.COMPLETE
        lifetime = max(self.listener.reauth_ms, 0)
        self.expires_ms = now_ms + lifetime if lifetime else None
        return challenge, lifetime
