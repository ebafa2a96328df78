"""SASL listeners (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with real clients and by hand.

Each client authenticates with each mechanism and round-trips a record; a wrong password is
refused with Kafka's message; requests before authentication are refused as Kafka refuses them
(a closed connection, or ILLEGAL_SASL_STATE and then a closed connection); the bare-token path
of SaslHandshake v0 and KIP-368 re-authentication work on one connection; and a SASL listener
the broker cannot serve stops start-up instead of serving everyone.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from secured import (
    MECHANISMS,
    PLAIN_USERS,
    add_scram_user,
    aiokafka_round_trip,
    confluent_round_trip,
    kafka_python_round_trip,
    librdkafka_settings,
    localbroker,
    refused_start,
    sasl_config,
    user_for,
)
from waiting import wait_until
from wire import RawClient, framed, request_body, request_bytes

from localbroker.protocol.names import ApiKey, ErrorCode
from tui.embedded import EmbeddedBroker

TIMEOUT = 30.0
PROTOCOL = "SASL_PLAINTEXT"


@pytest.fixture
def sasl_broker(start_broker: Callable[..., EmbeddedBroker]) -> EmbeddedBroker:
    broker = start_broker(sasl_config(PROTOCOL))
    add_scram_user(broker.bootstrap_for("PLAINTEXT"))
    return broker


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_authenticates_with_each_mechanism(
    sasl_broker: EmbeddedBroker, mechanism: str
) -> None:
    value = confluent_round_trip(sasl_broker.bootstrap_for(PROTOCOL), mechanism, PROTOCOL)
    assert value == b"hello " + mechanism.encode()


@pytest.mark.parametrize("mechanism", MECHANISMS)
async def test_aiokafka_authenticates_with_each_mechanism(
    sasl_broker: EmbeddedBroker, mechanism: str
) -> None:
    value = await aiokafka_round_trip(sasl_broker.bootstrap_for(PROTOCOL), mechanism, PROTOCOL)
    assert value == b"aio " + mechanism.encode()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_kafka_python_authenticates(sasl_broker: EmbeddedBroker, mechanism: str) -> None:
    value = kafka_python_round_trip(sasl_broker.bootstrap_for(PROTOCOL), mechanism, PROTOCOL)
    assert value == b"kp " + mechanism.encode()


def test_kcat_lists_metadata_with_scram(sasl_broker: EmbeddedBroker) -> None:
    bootstrap = sasl_broker.bootstrap_for(PROTOCOL)
    name, password = user_for("SCRAM-SHA-256")
    listed = subprocess.run(
        ["kcat", "-b", bootstrap, "-L", "-J", "-X", f"security.protocol={PROTOCOL}",
         "-X", "sasl.mechanism=SCRAM-SHA-256", "-X", f"sasl.username={name}",
         "-X", f"sasl.password={password}", "-m", "15"],
        capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["brokers"] == [{"id": 0, "name": bootstrap}]


def test_metadata_names_the_listener_the_client_came_in_on(sasl_broker: EmbeddedBroker) -> None:
    for listener in ("PLAINTEXT", PROTOCOL):
        bootstrap = sasl_broker.bootstrap_for(listener)
        settings = (
            {"bootstrap.servers": bootstrap}
            if listener == "PLAINTEXT"
            else librdkafka_settings(bootstrap, "PLAIN", PROTOCOL)
        )
        brokers = AdminClient(settings).list_topics(timeout=TIMEOUT).brokers
        assert [f"{b.host}:{b.port}" for b in brokers.values()] == [bootstrap]


def test_a_wrong_password_is_refused_with_kafkas_message(sasl_broker: EmbeddedBroker) -> None:
    errors: list[str] = []
    settings = {
        **librdkafka_settings(sasl_broker.bootstrap_for(PROTOCOL), "PLAIN", PROTOCOL),
        "sasl.password": "not-the-password",
        "error_cb": lambda error: errors.append(error.str()),
    }
    producer = Producer(settings)
    producer.produce("refused", b"x")

    def refused() -> bool:
        producer.poll(0.2)
        return any("Invalid username or password" in e for e in errors)

    wait_until(refused, "an authentication error")
    producer.purge()
    assert "refused" not in sasl_broker.state.topics


# -- by hand ----------------------------------------------------------------------------------


def plain_token(name: str, password: str) -> bytes:
    return f"\0{name}\0{password}".encode()


def authenticate(client: RawClient, version: int = 2) -> Any:
    handshake = client.call(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": "PLAIN"})
    assert handshake.error_code == ErrorCode.none
    return client.call(
        ApiKey.SASL_AUTHENTICATE, version, {"auth_bytes": plain_token("alice", "alice-secret")}
    )


METADATA = {"topics": None, "allow_auto_topic_creation": False}


def test_a_request_before_authentication_closes_the_connection(
    sasl_broker: EmbeddedBroker,
) -> None:
    with RawClient(sasl_broker.bootstrap_for(PROTOCOL)) as client:
        client.send(request_body(ApiKey.METADATA, 1, METADATA))
        client.expect_closed()


def test_after_the_handshake_only_sasl_authenticate_is_legal(sasl_broker: EmbeddedBroker) -> None:
    with RawClient(sasl_broker.bootstrap_for(PROTOCOL)) as client:
        client.call(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": "PLAIN"})
        refused = client.call(ApiKey.LIST_GROUPS, 1, {})
        assert refused.error_code == ErrorCode.illegal_sasl_state
        client.expect_closed()


def test_a_failed_authentication_is_answered_then_closed(sasl_broker: EmbeddedBroker) -> None:
    with RawClient(sasl_broker.bootstrap_for(PROTOCOL)) as client:
        client.call(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": "PLAIN"})
        failed = client.call(
            ApiKey.SASL_AUTHENTICATE, 2, {"auth_bytes": plain_token("alice", "wrong")}
        )
        assert failed.error_code == ErrorCode.sasl_authentication_failed
        assert failed.error_message == "Authentication failed: Invalid username or password"
        client.expect_closed()


def test_bare_tokens_after_a_version_0_handshake(sasl_broker: EmbeddedBroker) -> None:
    with RawClient(sasl_broker.bootstrap_for(PROTOCOL)) as client:
        assert client.call(ApiKey.SASL_HANDSHAKE, 0, {"mechanism": "PLAIN"}).error_code == 0
        token = plain_token("alice", "alice-secret")
        client.send_raw(len(token).to_bytes(4, "big") + token)
        assert client.recv_frame() == b"", "PLAIN answers an empty token"
        assert client.call(ApiKey.METADATA, 1, METADATA).brokers


def test_a_malformed_sasl_authenticate_is_not_dumped_into_the_log(
    sasl_broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG the broker logs the start of a frame it cannot parse; a SaslAuthenticate's
    frame carries a password (in PLAIN's token), which must stay out of the log."""
    caplog.set_level(logging.DEBUG, logger="localbroker")
    password = PLAIN_USERS["alice"]
    token = plain_token("alice", password)
    with RawClient(sasl_broker.bootstrap_for(PROTOCOL)) as client:
        client.call(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": "PLAIN"})
        body = request_body(ApiKey.SASL_AUTHENTICATE, 2, {"auth_bytes": token})
        client.send_raw(framed(request_bytes(body, client.next_id())[:-1]))  # cut short
        client.expect_closed()
    wait_until(lambda: "SaslAuthenticate v2 does not parse" in caplog.text, "the warning")
    assert password not in caplog.text and token.hex() not in caplog.text


def test_re_authentication_on_the_same_connection(start_broker: Any) -> None:
    broker = start_broker(sasl_config(PROTOCOL, **{"connections.max.reauth.ms": "600000"}))
    with RawClient(broker.bootstrap_for(PROTOCOL)) as client:
        assert authenticate(client).session_lifetime.total_seconds() == 600
        assert client.call(ApiKey.METADATA, 1, METADATA).brokers
        renewed = authenticate(client)
        assert (renewed.error_code, renewed.session_lifetime.total_seconds()) == (0, 600)
        assert client.call(ApiKey.METADATA, 1, METADATA).brokers


def test_librdkafka_re_authenticates_on_its_own_while_producing(
    start_broker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """KIP-368 with librdkafka and SCRAM (a new nonce exchange each time; PLAIN is renewed by
    hand above): sessions of 2 s, records sent every 50 ms until the producer's connections
    have been re-authenticated three times; every record acknowledged, no error reported, no
    connection closed."""
    mechanism = "SCRAM-SHA-512"
    caplog.set_level(logging.INFO, logger="localbroker.server")
    caplog.set_level(logging.DEBUG, logger="localbroker.handlers.sasl")  # the handler's too
    broker = start_broker(sasl_config(PROTOCOL, **{"connections.max.reauth.ms": "2000"}))
    add_scram_user(broker.bootstrap_for("PLAINTEXT"))
    errors: list[str] = []
    delivered: list[int] = []
    settings = librdkafka_settings(broker.bootstrap_for(PROTOCOL), mechanism, PROTOCOL)
    producer = Producer({**settings, "linger.ms": 0, "error_cb": lambda e: errors.append(str(e))})
    name = user_for(mechanism)[0]

    def report(error: Any, message: Any) -> None:
        if error is not None:
            errors.append(str(error))
        else:
            delivered.append(message.offset())

    sent = 0

    def renewed_three_times() -> bool:
        nonlocal sent
        producer.produce("reauth", str(sent).encode(), on_delivery=report)
        sent += 1
        producer.poll(0.05)
        renewals = [r for r in caplog.records if "re-authenticated" in r.getMessage()]
        return len(renewals) >= 3 and all(name in r.getMessage() for r in renewals)

    wait_until(renewed_three_times, "three re-authentications")
    assert producer.flush(TIMEOUT) == 0
    assert errors == []
    assert sorted(delivered) == list(range(sent))
    assert not any("closing connection" in r.getMessage() for r in caplog.records)


def test_without_connections_max_reauth_ms_a_session_does_not_expire(
    sasl_broker: EmbeddedBroker,
) -> None:
    with RawClient(sasl_broker.bootstrap_for(PROTOCOL)) as client:
        assert authenticate(client).session_lifetime.total_seconds() == 0


# -- start-up -----------------------------------------------------------------------------------


def test_sasl_without_users_refuses_to_start_instead_of_serving_everyone(tmp_path: Path) -> None:
    """The issue's reproduction: this used to start and serve every client unauthenticated."""
    stderr = refused_start(
        tmp_path, "listeners=SASL_PLAINTEXT://127.0.0.1:0", "sasl.enabled.mechanisms=PLAIN"
    )
    assert "listener.name.sasl_plaintext.plain.sasl.jaas.config" in stderr


def test_binding_every_interface_without_advertising_a_host_is_refused(tmp_path: Path) -> None:
    stderr = refused_start(tmp_path, "listeners=PLAINTEXT://0.0.0.0:0")
    assert "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0" in stderr


def test_an_open_listener_on_every_interface_is_announced_loudly(tmp_path: Path) -> None:
    process = localbroker(
        tmp_path,
        "listeners=PLAINTEXT://0.0.0.0:0",
        "advertised.listeners=PLAINTEXT://127.0.0.1:0",
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready = process.stdout.readline()
        assert "localbroker listening on" in ready
        process.terminate()
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert "WITHOUT AUTHENTICATION" in stderr
