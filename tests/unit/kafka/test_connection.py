"""Kafka client properties files, as Kafka's tools take them, become aiokafka settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from localbroker.config.properties import parse_properties
from tui.kafka.connection import SettingsError, from_properties, load_connection, parse_jaas

SASL_SCRAM = """\
# client.properties for a SASL_SSL cluster
bootstrap.servers=broker-1:9093,broker-2:9093
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\
    username="alice" \\
    password="s3cr=t;x";
ssl.endpoint.identification.algorithm=
client.id=billing-tools
request.timeout.ms=15000
"""


def test_sasl_scram_properties_file(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text(SASL_SCRAM)
    connection = load_connection(None, path)
    assert connection.bootstrap_servers == "broker-1:9093,broker-2:9093"
    assert (connection.security_protocol, connection.sasl_mechanism) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
    )
    assert (connection.sasl_username, connection.sasl_password) == ("alice", "s3cr=t;x")
    assert connection.ssl_check_hostname is False
    assert (connection.client_id, connection.request_timeout_ms) == ("billing-tools", 15000)
    args = connection.aiokafka_args()
    assert args["sasl_mechanism"] == "SCRAM-SHA-512"
    assert args["sasl_plain_username"] == "alice"
    assert args["ssl_context"] is not None
    assert "s3cr" not in repr(connection), "secrets must not appear in reprs or logs"


def test_plain_over_plaintext_and_flag_overrides_file() -> None:
    properties = parse_properties(
        "bootstrap.servers=ignored:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="bob" password="pw";\n'
    )
    connection = from_properties("127.0.0.1:9092", properties)
    assert connection.bootstrap_servers == "127.0.0.1:9092"
    assert connection.aiokafka_args()["sasl_mechanism"] == "PLAIN"
    assert "ssl_context" not in connection.aiokafka_args()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("security.protocol=KERBEROS", "security.protocol=KERBEROS is not one of"),
        ("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI", "GSSAPI is not supported"),
        (
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN",
            "PLAIN needs a username and a password",
        ),
        (
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
            "sasl.jaas.config=com.example.Custom required;",
            "supported:",
        ),
        (
            "security.protocol=SSL\nssl.truststore.location=/etc/kafka/truststore.jks",
            "convert it to PEM",
        ),
    ],
)
def test_settings_that_cannot_work_are_explained(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        from_properties("b:9092", parse_properties(text))


def test_no_bootstrap_server_is_a_clear_error() -> None:
    with pytest.raises(SettingsError, match="--bootstrap-server"):
        from_properties(None, {})


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_connection("b:9092", tmp_path / "missing.properties")


def test_jaas_options_with_escaped_quotes() -> None:
    family, options = parse_jaas(
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="u" password="a\\"b" extra="x";'
    )
    assert family == "PLAIN"
    assert options == {"username": "u", "password": 'a"b', "extra": "x"}
