"""Every kwb command with each way of proving who you are: SASL_PLAINTEXT with PLAIN,
SASL_SSL with SCRAM-SHA-512, and SSL with a client certificate, against one localbroker with
those three listeners and StandardAuthorizer on.

Kafka's client properties are given unchanged (`--command-config`, `--producer.config`,
`--consumer.config`), the principal each one authenticates as is a super user, and no secret
(password or private key) appears in any output or on any command line `ps` would show.
(test_tls.py runs perf, consumer-perf and SCRAM users over SASL_SSL as well.)
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from brokers import running_broker
from certificates import Certificates
from secured import PLAIN_USERS, SCRAM_PASSWORD, SCRAM_USER, add_scram_user, sasl_config

from tui.embedded import EmbeddedBroker

TIMEOUT = 60.0
CERTIFICATE_USER = "carol"


@dataclass(frozen=True)
class Mechanism:
    listener: str
    properties: dict[str, str]
    secret: str
    """What must never be printed: the password, or the private key's base64 text."""


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, certificates: Certificates
) -> Iterator[EmbeddedBroker]:
    config = {
        **sasl_config("SASL_PLAINTEXT"),
        "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,"
        "SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": sasl_config("SASL_SSL")[
            "listener.name.sasl_ssl.plain.sasl.jaas.config"
        ],
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certificates.server_keystore),
        "listener.name.ssl.ssl.client.auth": "required",
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(certificates.ca),
        "ssl.principal.mapping.rules": "RULE:^CN=(.*?),.*$/$1/,DEFAULT",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:ANONYMOUS;User:alice;User:{SCRAM_USER};User:{CERTIFICATE_USER}",
    }
    with running_broker(tmp_path_factory.mktemp("secured"), config) as broker:
        add_scram_user(broker.bootstrap_for("PLAINTEXT"))
        yield broker


def mechanism(kind: str, certificates: Certificates, tmp_path: Path) -> Mechanism:
    trust = {"ssl.truststore.type": "PEM", "ssl.truststore.location": str(certificates.ca)}
    if kind == "PLAIN":
        jaas = "plain.PlainLoginModule"
        user, password = "alice", PLAIN_USERS["alice"]
        protocol, tls = "SASL_PLAINTEXT", {}
    elif kind == "SCRAM-SHA-512":
        jaas = "scram.ScramLoginModule"
        user, password = SCRAM_USER, SCRAM_PASSWORD
        protocol, tls = "SASL_SSL", trust
    else:
        certificate, key = certificates.client(CERTIFICATE_USER)
        keystore = tmp_path / "carol-keystore.pem"
        keystore.write_text(key.read_text() + certificate.read_text())
        properties = {"security.protocol": "SSL", "ssl.keystore.type": "PEM",
                      "ssl.keystore.location": str(keystore), **trust}  # fmt: skip
        return Mechanism("SSL", properties, key.read_text().splitlines()[1])
    properties = {
        "security.protocol": protocol,
        "sasl.mechanism": kind,
        "sasl.jaas.config": f"org.apache.kafka.common.security.{jaas} required"
        f' username="{user}" password="{password}";',
        **tls,
    }
    return Mechanism(protocol, properties, password)


def write_properties(path: Path, broker: EmbeddedBroker, chosen: Mechanism) -> str:
    lines = {"bootstrap.servers": broker.bootstrap_for(chosen.listener), **chosen.properties}
    path.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
    return str(path)


def kwb_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kind", ["PLAIN", "SCRAM-SHA-512", "client-certificate"])
def test_every_kwb_command_with_each_mechanism(
    secured: EmbeddedBroker, certificates: Certificates, kwb: Any, tmp_path: Path, kind: str
) -> None:
    chosen = mechanism(kind, certificates, tmp_path)
    config = write_properties(tmp_path / "client.properties", secured, chosen)
    topic, group = f"t-{kind.lower()}", f"g-{kind.lower()}"
    runs = [kwb("topics", "--command-config", config, "--create", "--topic", topic)]
    consumer = kwb_process("consume", "--consumer.config", config, "--topic", topic,
                           "--from-beginning", "--group", group, "--max-messages", "2")  # fmt: skip
    try:
        shown_by_ps = Path(f"/proc/{consumer.pid}/cmdline").read_bytes()
        runs.append(kwb("produce", "--producer.config", config, "--topic", topic,
                        input="a\nb\n"))  # fmt: skip
        consumed, errors = consumer.communicate(timeout=TIMEOUT)
    finally:
        consumer.kill()
    assert chosen.secret.encode() not in shown_by_ps
    assert consumed == "a\nb\n", errors
    runs += [
        kwb("groups", "--command-config", config, "--list"),
        kwb("configs", "--command-config", config, "--describe", "--topic", topic),
        kwb("acls", "--command-config", config, "--add", "--allow-principal", "User:dave",
            "--operation", "Read", "--topic", topic),
    ]  # fmt: skip
    for run in runs:
        assert run.returncode == 0, (run.args, run.stderr)
        assert chosen.secret not in run.stdout + run.stderr + errors
    groups, described, acls = (run.stdout for run in runs[2:])
    assert group in groups.split()
    assert described == f"Dynamic configs for topic {topic} are:\n"
    assert "(principal=User:dave, host=*, operation=READ, permissionType=ALLOW)" in acls
