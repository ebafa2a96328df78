"""A connection's SASL state as Kafka's SaslServerAuthenticator keeps it, without a socket:
what may be sent before authentication, PLAIN and SCRAM exchanges, and re-authentication."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from localbroker.protocol.names import ApiKey, ErrorCode, ScramMechanism, SecurityProtocol
from localbroker.security.listeners import Endpoint
from localbroker.security.mechanism import SaslFailure
from localbroker.security.scram import ScramCredential, new_credential
from localbroker.security.session import ListenerSecurity, Session, Verdict

SASL = Endpoint("SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT, "127.0.0.1", 9092)
LISTENER = ListenerSecurity(SASL, ("PLAIN", "SCRAM-SHA-256"), {"alice": "a-secret"}, 0)
SHA256 = ScramMechanism.SCRAM_SHA_256
CREDENTIALS = {("bob", SHA256): new_credential(SHA256, "b-secret")}


def lookup(name: str, mechanism: ScramMechanism) -> ScramCredential | None:
    return CREDENTIALS.get((name, mechanism))


def session(listener: ListenerSecurity = LISTENER) -> Session:
    return Session(listener, lookup)


def plain(user: str, password: str) -> bytes:
    return f"\0{user}\0{password}".encode()


def scram_exchange(state: Session, user: str, password: str) -> bytes:
    """A SCRAM-SHA-256 client (RFC 5802) against the session; returns the server's final."""
    first_bare = f"n={user},r=clientnonce"
    server_first = state.authenticate(f"n,,{first_bare}".encode(), 2, 0)[0].decode()
    fields = dict(part.split("=", 1) for part in server_first.split(","))
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"])
    )
    without_proof = f"c=biws,r={fields['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True)))
    final = state.authenticate(f"{without_proof},p={proof.decode()}".encode(), 2, 0)[0]
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    expected = b"v=" + base64.b64encode(hmac.digest(server_key, auth_message, "sha256"))
    assert final == expected, "the server's signature proves it knows the credential"
    return final


def test_before_a_handshake_only_api_versions_once_and_sasl_handshake_pass() -> None:
    state = session()
    assert state.admit(ApiKey.API_VERSIONS, 0) is Verdict.PASS
    assert state.admit(ApiKey.API_VERSIONS, 0) is Verdict.CLOSE
    assert session().admit(ApiKey.METADATA, 0) is Verdict.CLOSE
    assert session().admit(ApiKey.SASL_AUTHENTICATE, 0) is Verdict.CLOSE
    assert session().admit(ApiKey.SASL_HANDSHAKE, 0) is Verdict.PASS


def test_after_a_handshake_anything_but_sasl_authenticate_is_illegal_sasl_state() -> None:
    state = session()
    assert state.handshake(1, "PLAIN") == ErrorCode.none
    assert state.admit(ApiKey.METADATA, 0) is Verdict.REFUSE
    assert state.admit(ApiKey.SASL_AUTHENTICATE, 0) is Verdict.PASS


def test_plain_authenticates_the_jaas_users_only() -> None:
    state = session()
    state.handshake(1, "PLAIN")
    state.authenticate(plain("alice", "a-secret"), 1, 0)
    assert (state.authenticated, state.principal) == (True, "User:alice")
    assert state.admit(ApiKey.PRODUCE, 0) is Verdict.PASS
    refused = session()
    refused.handshake(1, "PLAIN")
    with pytest.raises(SaslFailure, match="Invalid username or password"):
        refused.authenticate(plain("alice", "wrong"), 1, 0)
    assert refused.admit(ApiKey.SASL_AUTHENTICATE, 0) is Verdict.CLOSE


def test_an_unsupported_mechanism_is_refused() -> None:
    state = session()
    assert state.handshake(1, "SCRAM-SHA-512") == ErrorCode.unsupported_sasl_mechanism
    assert not state.authenticated


def test_scram_proves_the_password_without_the_broker_storing_it() -> None:
    state = session()
    state.handshake(1, "SCRAM-SHA-256")
    scram_exchange(state, "bob", "b-secret")
    assert state.principal == "User:bob"
    wrong = session()
    wrong.handshake(1, "SCRAM-SHA-256")
    with pytest.raises(SaslFailure, match="due to invalid credentials with SASL mechanism"):
        scram_exchange(wrong, "bob", "not-it")
    stranger = session()
    stranger.handshake(1, "SCRAM-SHA-256")
    with pytest.raises(SaslFailure) as failure:
        scram_exchange(stranger, "nobody", "x")
    assert "nobody" not in str(failure.value), "the answer must not say whether a user exists"


def test_a_session_ends_after_connections_max_reauth_ms_unless_renewed() -> None:
    state = session(ListenerSecurity(SASL, ("PLAIN",), {"alice": "a-secret"}, 1000))
    state.handshake(1, "PLAIN")
    assert state.authenticate(plain("alice", "a-secret"), 1, 5000) == (b"", 1000)
    assert state.admit(ApiKey.FETCH, 5999) is Verdict.PASS
    assert state.admit(ApiKey.FETCH, 6000) is Verdict.CLOSE
    assert state.admit(ApiKey.SASL_HANDSHAKE, 6000) is Verdict.PASS
    assert state.handshake(1, "PLAIN") == ErrorCode.none
    assert state.authenticate(plain("alice", "a-secret"), 1, 6000) == (b"", 1000)
    assert state.admit(ApiKey.FETCH, 6500) is Verdict.PASS


def test_re_authentication_keeps_the_principal() -> None:
    state = session(ListenerSecurity(SASL, ("PLAIN",), {"alice": "a", "eve": "e"}, 1000))
    state.handshake(1, "PLAIN")
    state.authenticate(plain("alice", "a"), 1, 0)
    state.handshake(1, "PLAIN")
    with pytest.raises(SaslFailure, match="Cannot change principals"):
        state.authenticate(plain("eve", "e"), 1, 10)


def test_without_sasl_authenticate_v1_a_handshake_after_authentication_is_illegal() -> None:
    state = session()
    state.handshake(1, "PLAIN")
    state.authenticate(plain("alice", "a-secret"), 0, 0)
    assert state.handshake(1, "PLAIN") == ErrorCode.illegal_sasl_state
