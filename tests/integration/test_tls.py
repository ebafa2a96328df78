"""TLS listeners (SSL and SASL_SSL) with Kafka's PEM settings and real clients.

Server keys come as one PEM keystore file or inline PEM text; clients verify the server against
the test CA. With ssl.client.auth=required a client without a certificate is turned away at the
handshake. SCRAM over TLS is what a locked-down cluster runs: librdkafka (confluent-kafka and
kcat), aiokafka and kafka-python use it, and so does every kwb command.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from certificates import Certificates
from confluent_kafka.admin import AdminClient
from secured import (
    MECHANISMS,
    add_scram_user,
    aiokafka_round_trip,
    client_properties,
    confluent_round_trip,
    kafka_python_round_trip,
    refused_start,
    sasl_config,
    user_for,
)
from wire import framed, request_body, request_bytes

from localbroker.protocol.names import ApiKey
from tui.embedded import EmbeddedBroker

TIMEOUT = 30.0


def tls_config(certificates: Certificates, protocol: str = "SSL", **extra: str) -> dict[str, str]:
    base = (
        sasl_config(protocol)
        if protocol == "SASL_SSL"
        else {"listeners": f"PLAINTEXT://127.0.0.1:0,{protocol}://127.0.0.1:0"}
    )
    return {
        **base,
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certificates.server_keystore),
        **extra,
    }


@pytest.fixture
def sasl_ssl_broker(start_broker: Any, certificates: Certificates) -> EmbeddedBroker:
    broker = start_broker(tls_config(certificates, "SASL_SSL"))
    add_scram_user(broker.bootstrap_for("PLAINTEXT"))
    return broker


def test_an_ssl_listener_serves_librdkafka(start_broker: Any, certificates: Certificates) -> None:
    broker = start_broker(tls_config(certificates))
    bootstrap = broker.bootstrap_for("SSL")
    settings = {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SSL",
        "ssl.ca.location": str(certificates.ca),
    }
    brokers = AdminClient(settings).list_topics(timeout=TIMEOUT).brokers
    assert [f"{b.host}:{b.port}" for b in brokers.values()] == [bootstrap]


def test_inline_pem_keys_serve_aiokafka(start_broker: Any, certificates: Certificates) -> None:
    broker = start_broker(
        {
            "listeners": "SSL://127.0.0.1:0",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.key": certificates.server_key.read_text(),
            "ssl.keystore.certificate.chain": certificates.server_certificate.read_text(),
        }
    )

    async def produce() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=broker.bootstrap_for("SSL"),
            security_protocol="SSL",
            ssl_context=ssl.create_default_context(cafile=str(certificates.ca)),
        )
        await producer.start()
        try:
            await producer.send_and_wait("inline", b"x")
        finally:
            await producer.stop()

    asyncio.run(produce())
    assert "inline" in broker.state.topics


def test_required_client_certificates(start_broker: Any, certificates: Certificates) -> None:
    broker = start_broker(
        tls_config(
            certificates,
            **{
                "ssl.client.auth": "required",
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(certificates.ca),
            },
        )
    )
    certificate, key = certificates.client("alice")
    settings = {
        "bootstrap.servers": broker.bootstrap_for("SSL"),
        "security.protocol": "SSL",
        "ssl.ca.location": str(certificates.ca),
        "socket.timeout.ms": 5000,
    }
    with_certificate = {
        **settings,
        "ssl.certificate.location": str(certificate),
        "ssl.key.location": str(key),
    }
    assert AdminClient(with_certificate).list_topics(timeout=TIMEOUT).brokers
    assert not answered_without_certificate(broker.bootstrap_for("SSL"), certificates)


def answered_without_certificate(bootstrap: str, certificates: Certificates) -> bool:
    """Whether an ApiVersions over TLS without a client certificate gets an answer."""
    context = ssl.create_default_context(cafile=str(certificates.ca))
    host, port = bootstrap.split(":")
    request = framed(request_bytes(request_body(ApiKey.API_VERSIONS, 0, {}), 1))
    try:
        with (
            socket.create_connection((host, int(port)), timeout=TIMEOUT) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(request)
            return tls.recv(4) != b""
    except (ssl.SSLError, ConnectionError):
        return False


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_over_sasl_ssl(
    sasl_ssl_broker: EmbeddedBroker, certificates: Certificates, mechanism: str
) -> None:
    value = confluent_round_trip(
        sasl_ssl_broker.bootstrap_for("SASL_SSL"),
        mechanism,
        "SASL_SSL",
        **{"ssl.ca.location": str(certificates.ca)},
    )
    assert value == b"hello " + mechanism.encode()


async def test_aiokafka_over_sasl_ssl(
    sasl_ssl_broker: EmbeddedBroker, certificates: Certificates
) -> None:
    context = ssl.create_default_context(cafile=str(certificates.ca))
    value = await aiokafka_round_trip(
        sasl_ssl_broker.bootstrap_for("SASL_SSL"), "SCRAM-SHA-512", "SASL_SSL", ssl_context=context
    )
    assert value == b"aio SCRAM-SHA-512"


def test_kafka_python_over_sasl_ssl(
    sasl_ssl_broker: EmbeddedBroker, certificates: Certificates
) -> None:
    value = kafka_python_round_trip(
        sasl_ssl_broker.bootstrap_for("SASL_SSL"),
        "SCRAM-SHA-256",
        "SASL_SSL",
        ssl_cafile=str(certificates.ca),
    )
    assert value == b"kp SCRAM-SHA-256"


def test_kcat_over_sasl_ssl_with_scram(
    sasl_ssl_broker: EmbeddedBroker, certificates: Certificates
) -> None:
    bootstrap = sasl_ssl_broker.bootstrap_for("SASL_SSL")
    name, password = user_for("SCRAM-SHA-512")
    listed = subprocess.run(
        ["kcat", "-b", bootstrap, "-L", "-J", "-m", "15", "-X", "security.protocol=SASL_SSL",
         "-X", "sasl.mechanism=SCRAM-SHA-512", "-X", f"sasl.username={name}",
         "-X", f"sasl.password={password}", "-X", f"ssl.ca.location={certificates.ca}"],
        capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["brokers"] == [{"id": 0, "name": bootstrap}]


# -- kwb ------------------------------------------------------------------------------------


def kwb_properties(
    tmp_path: Path, broker: EmbeddedBroker, certificates: Certificates, mechanism: str
) -> Path:
    return client_properties(
        tmp_path / f"{mechanism}.properties",
        broker.bootstrap_for("SASL_SSL"),
        mechanism,
        "SASL_SSL",
        **{"ssl.truststore.type": "PEM", "ssl.truststore.location": str(certificates.ca)},
    )


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kwb_connects_with_each_mechanism(
    sasl_ssl_broker: EmbeddedBroker,
    certificates: Certificates,
    kwb: Any,
    tmp_path: Path,
    mechanism: str,
) -> None:
    config = str(kwb_properties(tmp_path, sasl_ssl_broker, certificates, mechanism))
    created = kwb("topics", "--command-config", config, "--create", "--topic", mechanism.lower())
    assert created.returncode == 0, created.stderr
    listed = kwb("topics", "--command-config", config, "--list")
    assert mechanism.lower() in listed.stdout.split()


def test_every_kwb_command_over_sasl_ssl(
    sasl_ssl_broker: EmbeddedBroker, certificates: Certificates, kwb: Any, tmp_path: Path
) -> None:
    config = str(kwb_properties(tmp_path, sasl_ssl_broker, certificates, "SCRAM-SHA-512"))
    sent = kwb("produce", "--producer.config", config, "--topic", "t", input="a\nb\n")
    assert sent.returncode == 0, sent.stderr
    got = kwb("consume", "--consumer.config", config, "--topic", "t", "--from-beginning",
              "--group", "g", "--max-messages", "2")  # fmt: skip
    assert got.stdout == "a\nb\n", got.stderr
    groups = kwb("groups", "--command-config", config, "--list")
    assert groups.stdout.split() == ["g"], groups.stderr
    described = kwb("configs", "--command-config", config, "--describe", "--topic", "t")
    assert described.stdout == "Dynamic configs for topic t are:\n", described.stderr
    users = kwb("configs", "--command-config", config, "--describe", "--entity-type", "users")
    assert "SCRAM-SHA-512=iterations=4096" in users.stdout, users.stderr
    perf = kwb("perf", "--producer.config", config, "--topic", "p", "--num-records", "50",
               "--record-size", "10", "--throughput", "-1")  # fmt: skip
    assert perf.returncode == 0 and "50 records sent" in perf.stdout, perf.stderr
    read = kwb("consumer-perf", "--consumer.config", config, "--topic", "p", "--messages", "50")
    assert read.returncode == 0, read.stderr
    for run in (sent, got, groups, described, users, perf, read):
        assert user_for("SCRAM-SHA-512")[1] not in run.stdout + run.stderr


def test_a_keystore_python_cannot_read_stops_start_up(tmp_path: Path) -> None:
    stderr = refused_start(
        tmp_path,
        "listeners=SSL://127.0.0.1:0",
        "ssl.keystore.location=/nonexistent.jks",
        "ssl.keystore.type=JKS",
    )
    assert "ssl.keystore.type=JKS" in stderr
