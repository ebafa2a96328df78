"""Listeners, their protocols and what is advertised, with Kafka's start-up refusals."""

from __future__ import annotations

import pytest

from localbroker.config.broker import BrokerConfig
from localbroker.errors import KafkaError
from localbroker.protocol.names import SecurityProtocol
from localbroker.security.listeners import Endpoint


def test_named_listeners_map_to_protocols() -> None:
    config = BrokerConfig(
        {
            "listeners": "PLAINTEXT://127.0.0.1:9092,EXTERNAL://127.0.0.1:9093",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:SASL_SSL",
        }
    )
    assert [(e.name, e.protocol) for e in config.listeners] == [
        ("PLAINTEXT", SecurityProtocol.PLAINTEXT),
        ("EXTERNAL", SecurityProtocol.SASL_SSL),
    ]


def test_a_listener_without_a_protocol_is_refused() -> None:
    with pytest.raises(KafkaError, match="No security protocol defined for listener EXTERNAL"):
        BrokerConfig({"listeners": "EXTERNAL://127.0.0.1:9093"})


def test_advertising_the_wildcard_address_is_refused_as_kafka_refuses_it() -> None:
    message = "advertised.listeners cannot use the nonroutable meta-address 0.0.0.0"
    with pytest.raises(KafkaError, match=message):
        BrokerConfig({}, host="0.0.0.0", port=9092).advertised_listeners()
    with pytest.raises(KafkaError, match=message):
        BrokerConfig({"advertised.listeners": "PLAINTEXT://0.0.0.0:9092"}).advertised_listeners()
    bound_everywhere = BrokerConfig(
        {"advertised.listeners": "PLAINTEXT://kafka.example:9092"}, host="0.0.0.0", port=9092
    )
    assert bound_everywhere.advertised_listeners()[0].host == "kafka.example"


def test_each_listener_is_advertised_as_itself_unless_advertised_listeners_says() -> None:
    config = BrokerConfig(
        {
            "listeners": "PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9093",
            "advertised.listeners": "SASL_SSL://broker.example:9093",
        }
    )
    assert config.advertised_listeners() == [
        Endpoint("SASL_SSL", SecurityProtocol.SASL_SSL, "broker.example", 9093),
        Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9092),
    ]
    with pytest.raises(KafkaError, match="must be equal to or a subset"):
        BrokerConfig({"advertised.listeners": "SSL://x:1"}).advertised_listeners()
