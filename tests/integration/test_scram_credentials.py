"""SCRAM credentials: AlterUserScramCredentials and DescribeUserScramCredentials by hand and
through `kwb configs --entity-type users` (kafka-configs.sh), kept hashed in a private file.

A user made with kwb then authenticates with librdkafka; Kafka's refusals (too few
iterations, deleting what does not exist, one user twice in a request) come with its
messages; the password is found neither in the broker's files nor in kwb's output.
"""

from __future__ import annotations

import stat
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from secured import sasl_config
from wire import RawClient

from localbroker.protocol.names import ApiKey, ErrorCode, ScramMechanism
from localbroker.security.store import SECURITY_FILE
from tui.embedded import EmbeddedBroker

PASSWORD = "carol-very-secret"
SHA512 = ScramMechanism.SCRAM_SHA_512


@pytest.fixture
def scram_broker(start_broker: Any) -> EmbeddedBroker:
    return start_broker(sasl_config("SASL_PLAINTEXT"))


def upsertion(name: str, iterations: int = 4096) -> dict[str, Any]:
    return {
        "name": name,
        "mechanism": SHA512,
        "iterations": iterations,
        "salt": b"salt",
        "salted_password": b"x" * 64,
    }


def test_kwb_configs_manages_scram_users_that_then_authenticate(
    scram_broker: EmbeddedBroker, kwb: Any
) -> None:
    plain = scram_broker.bootstrap_for("PLAINTEXT")
    added = kwb(
        "configs", "--bootstrap-server", plain, "--alter", "--entity-type", "users",
        "--entity-name", "carol", "--add-config",
        f"SCRAM-SHA-512=[iterations=8192,password={PASSWORD}]",
    )  # fmt: skip
    assert (added.returncode, added.stdout) == (0, "Completed updating config for user carol.\n")
    described = kwb("configs", "--bootstrap-server", plain, "--describe", "--entity-type", "users")
    assert described.stdout == (
        "SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-512=iterations=8192\n"
    )
    admin = AdminClient(
        {
            "bootstrap.servers": scram_broker.bootstrap_for("SASL_PLAINTEXT"),
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": "carol",
            "sasl.password": PASSWORD,
        }
    )
    assert admin.list_topics(timeout=30).brokers
    stored = scram_broker.data_dir / SECURITY_FILE
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    files = [p for p in scram_broker.data_dir.rglob("*") if p.is_file()]
    assert not [p for p in files if PASSWORD.encode() in p.read_bytes()]
    assert PASSWORD not in added.stdout + added.stderr + described.stdout
    deleted = kwb(
        "configs", "--bootstrap-server", plain, "--alter", "--entity-type", "users",
        "--entity-name", "carol", "--delete-config", "SCRAM-SHA-512",
    )  # fmt: skip
    assert deleted.returncode == 0, deleted.stderr
    gone = kwb("configs", "--bootstrap-server", plain, "--describe", "--user", "carol")
    assert "Attempt to describe a user credential that does not exist: carol" in gone.stderr


def test_credentials_survive_a_restart(start_broker: Any, tmp_path: Any) -> None:
    data = tmp_path / "kept"
    first = start_broker(sasl_config(), data)
    with RawClient(first.bootstrap_for("PLAINTEXT")) as client:
        client.call(
            ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
            0,
            {"deletions": [], "upsertions": [upsertion("d")]},
        )
    first.stop()
    second = start_broker(sasl_config(), data)
    with RawClient(second.bootstrap_for("PLAINTEXT")) as client:
        described = client.call(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, {"users": None})
    assert [(r.user, [i.iterations for i in r.credential_infos]) for r in described.results] == [
        ("d", [4096])
    ]


def test_kafkas_refusals(scram_broker: EmbeddedBroker) -> None:
    with RawClient(scram_broker.bootstrap_for("PLAINTEXT")) as client:
        altered = client.call(
            ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
            0,
            {
                "deletions": [{"name": "ghost", "mechanism": SHA512}],
                "upsertions": [
                    upsertion("few", iterations=100),
                    upsertion("many", iterations=20000),
                    upsertion("twice"),
                    upsertion("twice"),
                    upsertion(""),
                ],
            },
        )
        described = client.call(
            ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS,
            0,
            {"users": [{"name": "nobody"}, {"name": "x"}, {"name": "x"}]},
        )
    results = {r.user: (r.error_code, r.error_message) for r in altered.results}
    assert results == {
        "ghost": (
            ErrorCode.resource_not_found,
            "Attempt to delete a user credential that does not exist",
        ),
        "few": (ErrorCode.unacceptable_credential, "Too few iterations"),
        "many": (ErrorCode.unacceptable_credential, "Too many iterations"),
        "twice": (
            ErrorCode.duplicate_resource,
            "A user credential cannot be altered twice in the same request",
        ),
        "": (ErrorCode.unacceptable_credential, "Username must not be empty"),
    }
    assert {r.user: r.error_code for r in described.results} == {
        "nobody": ErrorCode.resource_not_found,
        "x": ErrorCode.duplicate_resource,
    }
