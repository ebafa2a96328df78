"""SCRAM (RFC 5802, RFC 7677) as Kafka's ScramSaslServer and ScramFormatter do it.

A credential is what the broker keeps of a password: a random salt, an iteration count and two
keys derived from them (ScramCredential). The password itself is never stored: the stored key
checks a client's proof and the server key signs the answer, so a stolen metadata file does not
reveal it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..protocol.names import ScramMechanism
from .mechanism import MechanismServer, SaslFailure

MIN_ITERATIONS = 4096
MAX_ITERATIONS = 16384
"""Kafka's bounds (ScramMechanism.minIterations, and AlterUserScramCredentials' maximum)."""
DEFAULT_ITERATIONS = 4096
_HASHES = {ScramMechanism.SCRAM_SHA_256: "sha256", ScramMechanism.SCRAM_SHA_512: "sha512"}
_GENERIC_FAILURE = "invalid credentials"


def _hash(mechanism: ScramMechanism) -> str:
    return _HASHES[mechanism]


def _hmac(mechanism: ScramMechanism, key: bytes, data: bytes) -> bytes:
    return hmac.digest(key, data, _hash(mechanism))


@dataclass(frozen=True, slots=True)
class ScramCredential:
    """What the broker stores for one user and mechanism (never the password)."""

    mechanism: ScramMechanism
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    def to_json(self) -> dict[str, Any]:
        encode = base64.b64encode
        return {
            "salt": encode(self.salt).decode(),
            "iterations": self.iterations,
            "stored_key": encode(self.stored_key).decode(),
            "server_key": encode(self.server_key).decode(),
        }

    @classmethod
    def from_json(cls, mechanism: ScramMechanism, document: dict[str, Any]) -> ScramCredential:
        decode = base64.b64decode
        return cls(
            mechanism,
            decode(document["salt"]),
            int(document["iterations"]),
            decode(document["stored_key"]),
            decode(document["server_key"]),
        )


def salted_password(
    mechanism: ScramMechanism, password: bytes, salt: bytes, iterations: int
) -> bytes:
    """Hi(password, salt, i): PBKDF2 with the mechanism's HMAC."""
    return hashlib.pbkdf2_hmac(_hash(mechanism), password, salt, iterations)


def credential_from_salted(
    mechanism: ScramMechanism, salt: bytes, iterations: int, salted: bytes
) -> ScramCredential:
    """The stored credential from a salted password (AlterUserScramCredentials sends this)."""
    client_key = _hmac(mechanism, salted, b"Client Key")
    stored_key = hashlib.new(_hash(mechanism), client_key).digest()
    server_key = _hmac(mechanism, salted, b"Server Key")
    return ScramCredential(mechanism, salt, iterations, stored_key, server_key)


def new_credential(
    mechanism: ScramMechanism, password: str, iterations: int = DEFAULT_ITERATIONS
) -> ScramCredential:
    salt = secrets.token_bytes(32)
    salted = salted_password(mechanism, password.encode(), salt, iterations)
    return credential_from_salted(mechanism, salt, iterations, salted)


def _attributes(message: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for part in message.split(","):
        key, sep, value = part.partition("=")
        if not sep or len(key) != 1:
            raise SaslFailure("Invalid SCRAM message", public=False)
        attributes.setdefault(key, value)
    return attributes


def _username(sasl_name: str) -> str:
    """RFC 5802's saslname: `=2C` is a comma, `=3D` an equals sign."""
    return sasl_name.replace("=2C", ",").replace("=3D", "=")


class ScramServer(MechanismServer):
    """The broker's side of one SCRAM exchange: client-first in, server-first out,
    client-final in, server-final out (ScramSaslServer's states)."""

    def __init__(
        self,
        mechanism: ScramMechanism,
        credentials: Callable[[str, ScramMechanism], ScramCredential | None],
    ) -> None:
        self.mechanism = mechanism
        self._credentials = credentials
        self._credential: ScramCredential | None = None
        self._client_first_bare = ""
        self._server_first = ""
        self._nonce = ""
        self.authorization_id: str | None = None
        self.complete = False

    def evaluate(self, token: bytes) -> bytes:
        if self._credential is None:
            return self._first(token)
        return self._final(token)

    def _first(self, token: bytes) -> bytes:
        try:
            message = token.decode()
        except UnicodeDecodeError:
            raise SaslFailure("Invalid SCRAM client first message", public=False) from None
        gs2, authzid_part, bare = [*message.split(",", 2), "", ""][:3]
        if gs2 not in ("n", "y") or not bare:
            raise SaslFailure("Invalid SCRAM client first message", public=False)
        attributes = _attributes(bare)
        if "n" not in attributes or "r" not in attributes:
            raise SaslFailure("Invalid SCRAM client first message", public=False)
        username = _username(attributes["n"])
        authzid = authzid_part[2:] if authzid_part.startswith("a=") else ""
        credential = self._credentials(username, self.mechanism)
        if credential is None:
            raise SaslFailure("Authentication failed: Invalid user credentials", public=False)
        if authzid and authzid != username:
            raise SaslFailure(
                "Authentication failed: Client requested an authorization id that is different"
                " from username"
            )
        self._credential = credential
        self.authorization_id = username
        self._client_first_bare = bare
        self._nonce = attributes["r"] + secrets.token_urlsafe(24)
        salt = base64.b64encode(credential.salt).decode()
        self._server_first = f"r={self._nonce},s={salt},i={credential.iterations}"
        return self._server_first.encode()

    def _final(self, token: bytes) -> bytes:
        credential = self._credential
        assert credential is not None
        if self.complete:
            raise SaslFailure("Unexpected challenge in Sasl server state COMPLETE")
        try:
            message = token.decode()
        except UnicodeDecodeError:
            raise SaslFailure("Invalid SCRAM client final message", public=False) from None
        without_proof, _, proof_part = message.rpartition(",p=")
        attributes = _attributes(without_proof)
        # endswith, as Kafka checks: old librdkafka (kcat 1.7) repeats the client's nonce.
        if not attributes.get("r", "").endswith(self._nonce) or not proof_part:
            raise SaslFailure("Invalid client nonce in the final client message.", public=False)
        auth_message = f"{self._client_first_bare},{self._server_first},{without_proof}".encode()
        signature = _hmac(self.mechanism, credential.stored_key, auth_message)
        try:
            proof = base64.b64decode(proof_part, validate=True)
        except ValueError:
            raise SaslFailure("Invalid SCRAM client final message", public=False) from None
        if len(proof) != len(signature):
            raise SaslFailure(_GENERIC_FAILURE, public=False)
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        computed = hashlib.new(_hash(self.mechanism), client_key).digest()
        if not hmac.compare_digest(computed, credential.stored_key):
            raise SaslFailure(_GENERIC_FAILURE, public=False)
        server_signature = _hmac(self.mechanism, credential.server_key, auth_message)
        self.complete = True
        return b"v=" + base64.b64encode(server_signature)
