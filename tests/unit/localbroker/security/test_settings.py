"""Security settings localbroker cannot honour stop it from starting, naming the setting."""

from __future__ import annotations

import pytest

from localbroker.errors import KafkaError
from localbroker.protocol.names import SecurityProtocol
from localbroker.security.listeners import Endpoint
from localbroker.security.settings import check_supported, resolve

SASL = Endpoint("SASL_PLAINTEXT", SecurityProtocol.SASL_PLAINTEXT, "127.0.0.1", 9092)
JAAS = "listener.name.sasl_plaintext.plain.sasl.jaas.config"
USERS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="a-secret";'


def test_plain_users_come_from_the_listeners_jaas_config() -> None:
    resolved = resolve({"sasl.enabled.mechanisms": "PLAIN", JAAS: USERS}, SASL)
    assert resolved.security.mechanisms == ("PLAIN",)
    assert resolved.security.plain_users == {"alice": "a-secret"}


@pytest.mark.parametrize(
    ("properties", "named"),
    [
        ({"sasl.enabled.mechanisms": "PLAIN"}, JAAS),
        ({}, "sasl.enabled.mechanisms=GSSAPI"),
        ({"sasl.enabled.mechanisms": "OAUTHBEARER"}, "sasl.enabled.mechanisms=OAUTHBEARER"),
        (
            {"sasl.enabled.mechanisms": "PLAIN", JAAS: "com.example.Login required;"},
            JAAS,
        ),
    ],
)
def test_a_sasl_listener_that_cannot_authenticate_stops_start_up(
    properties: dict[str, str], named: str
) -> None:
    with pytest.raises(KafkaError, match=named):
        resolve(properties, SASL)


@pytest.mark.parametrize(
    "key",
    [
        "ssl.cipher.suites",
        "sasl.server.callback.handler.class",
        "listener.name.sasl_plaintext.plain.sasl.server.callback.handler.class",
        "principal.builder.class",
    ],
)
def test_security_settings_localbroker_does_not_implement_stop_start_up(key: str) -> None:
    with pytest.raises(KafkaError, match=key):
        check_supported({key: "x"})


def test_only_kafkas_standard_authorizer_is_accepted() -> None:
    check_supported(
        {"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer"}
    )
    with pytest.raises(KafkaError, match=r"authorizer\.class\.name=com\.example\.Mine"):
        check_supported({"authorizer.class.name": "com.example.Mine"})


def test_settings_kafkas_own_files_carry_for_peers_are_accepted() -> None:
    check_supported(
        {
            "sasl.mechanism.inter.broker.protocol": "PLAIN",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": "x required;",
        }
    )
