"""Brokers with their doors locked, and clients with the keys: SASL listeners with PLAIN users
and SCRAM credentials, for the security tests.

Every secured broker also has a PLAINTEXT listener, the way in for setting things up
(credentials, ACLs) and for checking that both kinds of listener answer side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kio.schema.errors import ErrorCode
from wire import RawClient

from localbroker.protocol.names import ApiKey, ScramMechanism
from localbroker.security.scram import salted_password

PLAIN_USERS = {"admin": "admin-secret", "alice": "alice-secret"}
JAAS = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required"
    ' username="admin" password="admin-secret"'
    + "".join(f' user_{name}="{password}"' for name, password in PLAIN_USERS.items())
    + ";"
)
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
SCRAM_USER, SCRAM_PASSWORD = "bob", "bob-secret"


def sasl_config(protocol: str = "SASL_PLAINTEXT", **extra: str) -> dict[str, str]:
    """Server properties for PLAINTEXT and `protocol` listeners, all three mechanisms on."""
    return {
        "listeners": f"PLAINTEXT://127.0.0.1:0,{protocol}://127.0.0.1:0",
        "sasl.enabled.mechanisms": ",".join(MECHANISMS),
        f"listener.name.{protocol.lower()}.plain.sasl.jaas.config": JAAS,
        **extra,
    }


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
