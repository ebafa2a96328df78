"""A SASL mechanism's server side (javax.security.sasl.SaslServer, as Kafka uses it), and
PLAIN's (RFC 4616, Kafka's PlainSaslServer)."""

from __future__ import annotations

import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping


class SaslFailure(Exception):
    """Authentication failed. A `public` message may go to the client (Kafka's
    SaslAuthenticationException); any other is replaced by Kafka's generic one, which does not
    tell a stranger whether the user exists (a SaslException)."""

    def __init__(self, message: str, *, public: bool = True) -> None:
        super().__init__(message)
        self.public = public


class MechanismServer(ABC):
    authorization_id: str | None
    complete: bool

    @abstractmethod
    def evaluate(self, token: bytes) -> bytes:
        """The challenge to send back for the client's `token`; SaslFailure when refused."""


class PlainServer(MechanismServer):
    """`[authzid] NUL authcid NUL passwd`, checked against the JAAS `user_<name>` options."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = users
        self.authorization_id: str | None = None
        self.complete = False

    def evaluate(self, token: bytes) -> bytes:
        try:
            parts = token.decode().split("\0")
        except UnicodeDecodeError:
            raise SaslFailure("Invalid SASL/PLAIN response", public=False) from None
        if len(parts) != 3:
            raise SaslFailure(f"Invalid SASL/PLAIN response: expected 3 tokens, got {len(parts)}")
        authzid, username, password = parts
        if not username:
            raise SaslFailure("Authentication failed: username not specified")
        if not password:
            raise SaslFailure("Authentication failed: password not specified")
        expected = self._users.get(username)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise SaslFailure("Authentication failed: Invalid username or password")
        if authzid and authzid != username:
            raise SaslFailure(
                "Authentication failed: Client requested an authorization id that is different"
                " from username"
            )
        self.authorization_id = username
        self.complete = True
        return b""
