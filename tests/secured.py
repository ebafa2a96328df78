"""Brokers with their doors locked, and clients with the keys: SASL listeners with PLAIN users
and SCRAM credentials, for the security tests.

Every secured broker also has a PLAINTEXT listener, the way in for setting things up
(credentials, ACLs) and for checking that both kinds of listener answer side by side.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AioPartition
from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpPartition
from kio.schema.errors import ErrorCode
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import ApiKey, ScramMechanism
from localbroker.security.scram import salted_password

PLAIN_USERS = {"admin": "admin-secret", "alice": "alice-secret"}
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
TIMEOUT = 30.0
SCRAM_USER, SCRAM_PASSWORD = "bob", "bob-secret"


def sasl_config(
    protocol: str = "SASL_PLAINTEXT", users: dict[str, str] = PLAIN_USERS, **extra: str
) -> dict[str, str]:
    """Server properties for PLAINTEXT and `protocol` listeners, all three mechanisms on."""
    return {
        "listeners": f"PLAINTEXT://127.0.0.1:0,{protocol}://127.0.0.1:0",
        "sasl.enabled.mechanisms": ",".join(MECHANISMS),
        f"listener.name.{protocol.lower()}.plain.sasl.jaas.config": plain_jaas(users),
        **extra,
    }


def plain_jaas(users: dict[str, str]) -> str:
    """A broker's PlainLoginModule entry with `users` (and admin, the broker's own login)."""
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required"
        ' username="admin" password="admin-secret"'
        + "".join(f' user_{name}="{password}"' for name, password in users.items())
        + ";"
    )


def authenticated(bootstrap: str, name: str, password: str) -> RawClient:
    """A raw connection through SaslHandshake v1 and SaslAuthenticate with PLAIN."""
    client = RawClient(bootstrap)
    try:
        handshake = client.call(ApiKey.SASL_HANDSHAKE, 1, {"mechanism": "PLAIN"})
        assert handshake.error_code == ErrorCode.none
        token = f"\0{name}\0{password}".encode()
        done = client.call(ApiKey.SASL_AUTHENTICATE, 2, {"auth_bytes": token})
        assert done.error_code == ErrorCode.none, done.error_message
    except BaseException:
        client.sock.close()
        raise
    return client


def user_for(mechanism: str) -> tuple[str, str]:
    """The user and password that `mechanism` authenticates (see add_scram_user)."""
    if mechanism == "PLAIN":
        return "alice", PLAIN_USERS["alice"]
    return SCRAM_USER, SCRAM_PASSWORD


def add_scram_user(bootstrap: str, name: str = SCRAM_USER, password: str = SCRAM_PASSWORD) -> None:
    """SCRAM-SHA-256 and -512 credentials for `name`, set over the wire as an admin would
    (one request per mechanism: Kafka refuses a user twice in one request)."""
    with RawClient(bootstrap) as client:
        for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
            salt = b"salt-of-" + name.encode()
            response = client.call(
                ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
                0,
                {
                    "deletions": [],
                    "upsertions": [
                        {
                            "name": name,
                            "mechanism": mechanism,
                            "iterations": 4096,
                            "salt": salt,
                            "salted_password": salted_password(
                                mechanism, password.encode(), salt, 4096
                            ),
                        }
                    ],
                },
            )
            assert [r.error_code for r in response.results] == [ErrorCode.none]


def librdkafka_settings(bootstrap: str, mechanism: str, protocol: str) -> dict[str, Any]:
    name, password = user_for(mechanism)
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": protocol,
        "sasl.mechanism": mechanism,
        "sasl.username": name,
        "sasl.password": password,
    }


def python_client_settings(bootstrap: str, mechanism: str, protocol: str) -> dict[str, Any]:
    """aiokafka's and kafka-python's arguments (they share the names)."""
    name, password = user_for(mechanism)
    return {
        "bootstrap_servers": bootstrap,
        "security_protocol": protocol,
        "sasl_mechanism": mechanism,
        "sasl_plain_username": name,
        "sasl_plain_password": password,
    }


def client_properties(
    path: Path, bootstrap: str, mechanism: str, protocol: str, **extra: str
) -> Path:
    """A Kafka client.properties file (as kafka-*.sh and kwb read) for `mechanism`."""
    name, password = user_for(mechanism)
    module = "plain.PlainLoginModule" if mechanism == "PLAIN" else "scram.ScramLoginModule"
    lines = {
        "bootstrap.servers": bootstrap,
        "security.protocol": protocol,
        "sasl.mechanism": mechanism,
        "sasl.jaas.config": f"org.apache.kafka.common.security.{module} required"
        f' username="{name}" password="{password}";',
        **extra,
    }
    path.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
    return path


# -- a record there and back with each client -------------------------------------------


def topic_name() -> str:
    return f"sasl-{uuid.uuid4().hex[:8]}"


# -- real clients ---------------------------------------------------------------------------


def confluent_round_trip(bootstrap: str, mechanism: str, protocol: str, **extra: Any) -> bytes:
    settings = {**librdkafka_settings(bootstrap, mechanism, protocol), **extra}
    topic = topic_name()
    producer = Producer(settings)
    producer.produce(topic, b"hello " + mechanism.encode())
    assert producer.flush(TIMEOUT) == 0, "the record was not acknowledged"
    consumer = Consumer({**settings, "group.id": topic, "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])

        def value() -> bytes | None:
            message = consumer.poll(0.5)
            return None if message is None or message.error() else bytes(message.value())

        return wait_until(value, f"a record from {topic}")
    finally:
        consumer.close()


async def aiokafka_round_trip(bootstrap: str, mechanism: str, protocol: str, **extra: Any) -> bytes:
    settings = {**python_client_settings(bootstrap, mechanism, protocol), **extra}
    topic = topic_name()
    producer = AIOKafkaProducer(**settings)
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"aio " + mechanism.encode()), TIMEOUT)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(**settings, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([AioPartition(topic, 0)])
        consumer.seek(AioPartition(topic, 0), 0)
        record = await asyncio.wait_for(consumer.getone(), TIMEOUT)
        return bytes(record.value)
    finally:
        await consumer.stop()


def kafka_python_round_trip(bootstrap: str, mechanism: str, protocol: str, **extra: Any) -> bytes:
    settings = {**python_client_settings(bootstrap, mechanism, protocol), **extra}
    topic = topic_name()
    producer = KafkaProducer(**settings)
    try:
        producer.send(topic, b"kp " + mechanism.encode()).get(TIMEOUT)
    finally:
        producer.close()
    consumer = KafkaConsumer(**settings, enable_auto_commit=False, consumer_timeout_ms=15_000)
    try:
        consumer.assign([KpPartition(topic, 0)])
        consumer.seek(KpPartition(topic, 0), 0)
        return bytes(next(iter(consumer)).value)
    finally:
        consumer.close()


# -- the broker as a process -------------------------------------------------------------


def localbroker(tmp_path: Path, *overrides: str) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "localbroker", "--data-dir", str(tmp_path / "data")]
    for override in overrides:
        args += ["--override", override]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def refused_start(tmp_path: Path, *overrides: str) -> str:
    """What localbroker says on stderr when it refuses to start (it must exit non-zero)."""
    process = localbroker(tmp_path, *overrides)
    try:
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode != 0, "localbroker started"
    return stderr


def acl_blocks(stdout: str) -> list[tuple[str, frozenset[str]]]:
    """kafka-acls.sh output as each header line with the set of ACL lines (tab-indented) under
    it: Kafka prints a resource's ACLs in hash order, kwb sorts them."""
    found: list[tuple[str, set[str]]] = []
    for line in stdout.splitlines():
        if line.strip().startswith("("):
            found[-1][1].add(line.strip())
        elif line:
            found.append((line, set()))
    return sorted((header, frozenset(lines)) for header, lines in found)
