"""KRaft settings: a node with `process.roles` is read and checked as Kafka 4.1 checks it.

Every refusal's message below is the one Kafka 4.1.1's KafkaConfig.fromProps gives for the
same properties (checked by running it on the reference classpath).
"""

from __future__ import annotations

import pytest

from localbroker.config.broker import BrokerConfig
from localbroker.config.kraft import Voter
from localbroker.errors import KafkaError
from localbroker.protocol.names import ErrorCode, ProcessRole, SecurityProtocol
from localbroker.security.listeners import Endpoint

LISTENERS = "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
COMBINED = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": "0@127.0.0.1:9093,1@127.0.0.1:9095,2@127.0.0.1:9097",
    "controller.listener.names": "CONTROLLER",
    "listeners": "PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095",
}


def refused(properties: dict[str, str]) -> str:
    with pytest.raises(KafkaError) as caught:
        BrokerConfig(properties)
    assert caught.value.code == ErrorCode.invalid_config
    return caught.value.message


def test_a_broker_without_process_roles_is_the_single_broker() -> None:
    config = BrokerConfig({})
    assert config.kraft is None
    assert config.value("controller.listener.names") == "CONTROLLER"
    assert config.value("replica.lag.time.max.ms") == "30000"


def test_a_combined_node_of_three() -> None:
    config = BrokerConfig(COMBINED)
    kraft = config.kraft
    assert kraft is not None
    assert kraft.roles == {ProcessRole.BROKER, ProcessRole.CONTROLLER}
    assert (kraft.is_broker, kraft.is_controller, kraft.node_id) == (True, True, 1)
    assert kraft.voters == (
        Voter(0, "127.0.0.1", 9093),
        Voter(1, "127.0.0.1", 9095),
        Voter(2, "127.0.0.1", 9097),
    )
    assert kraft.controller_listeners == (
        Endpoint("CONTROLLER", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9095),
    )
    assert kraft.inter_broker_listener_name == "PLAINTEXT"
    assert (kraft.election_timeout_ms, kraft.fetch_timeout_ms) == (1000, 2000)
    assert (kraft.broker_session_timeout_ms, kraft.broker_heartbeat_interval_ms) == (9000, 2000)
    # the client listener is the controller-less one, as for a single broker
    assert config.port == 9094


def test_kafkas_shipped_server_properties_name_bootstrap_controllers() -> None:
    kraft = BrokerConfig(
        {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": "localhost:9093",
            "listeners": "PLAINTEXT://:9092,CONTROLLER://:9093",
            "inter.broker.listener.name": "PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
        }
    ).kraft
    assert kraft is not None
    assert (kraft.voters, kraft.bootstrap_servers) == ((), (("localhost", 9093),))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"node.id": "5"},
            "requirement failed: If process.roles contains the 'controller' role, the node id 5"
            " must be included in the set of voters controller.quorum.voters=Set(0, 1, 2)",
        ),
        (
            {"controller.quorum.voters": ""},
            "If using process.roles, either controller.quorum.bootstrap.servers must contain the"
            " set of bootstrap controllers or controller.quorum.voters must contain a parseable"
            " set of controllers.",
        ),
        (
            {"controller.listener.names": "CONTROLLER,OTHER"},
            "requirement failed: controller.listener.names must only contain values appearing"
            " in the 'listeners' configuration when running the KRaft controller role",
        ),
        (
            {"listeners": "PLAINTEXT://127.0.0.1:9092"},
            "requirement failed: controller.listener.names must contain at least one value"
            " appearing in the 'listeners' configuration when running the KRaft controller role",
        ),
        (
            {"listeners": "CONTROLLER://127.0.0.1:9093"},
            "requirement failed: There must be at least one broker advertised listener. Perhaps"
            " all listeners appear in controller.listener.names?",
        ),
        (
            {"inter.broker.listener.name": "CONTROLLER"},
            "requirement failed: inter.broker.listener.name must be a listener name defined in"
            " advertised.listeners. The valid options based on currently configured listeners"
            " are PLAINTEXT",
        ),
        (
            {"replica.fetch.wait.max.ms": "40000"},
            "requirement failed: replica.socket.timeout.ms should always be at least"
            " replica.fetch.wait.max.ms to prevent unnecessary socket timeouts",
        ),
        (
            {"replica.fetch.wait.max.ms": "20000", "replica.lag.time.max.ms": "10000"},
            "requirement failed: replica.fetch.wait.max.ms should always be less than or equal"
            " to replica.lag.time.max.ms to prevent frequent changes in ISR",
        ),
        (
            {"controller.quorum.voters": "1:127.0.0.1:9093"},
            "Invalid configuration value for controller.quorum.voters. Each entry should be in"
            " the form `{id}@{host}:{port}`.",
        ),
        (
            {"controller.quorum.voters": "x@127.0.0.1:9093"},
            "Failed to parse voter ID as an integer from x",
        ),
        (
            {"controller.quorum.voters": "1@127.0.0.1"},
            "Failed to parse host name from entry 1@127.0.0.1 for the configuration"
            " controller.quorum.voters. Each entry should be in the form `{id}@{host}:{port}`.",
        ),
        (
            {"controller.quorum.bootstrap.servers": "localhost"},
            "Failed to parse host name from localhost for the configuration"
            " controller.quorum.bootstrap.servers. Each entry should be in the form"
            ' "{host}:{port}"',
        ),
        (
            {"node.id": None},
            'Missing required configuration "node.id" which has no default value.',
        ),
    ],
)
def test_a_combined_node_is_checked_as_kafka_checks_it(
    changes: dict[str, str | None], message: str
) -> None:
    properties = {**COMBINED, **changes}
    assert refused({k: v for k, v in properties.items() if v is not None}) == message


def test_a_broker_only_node_is_no_voter_and_serves_no_controller_listener() -> None:
    broker = {
        "process.roles": "broker",
        "node.id": "4",
        "controller.quorum.voters": "0@127.0.0.1:9093",
        "controller.listener.names": "CONTROLLER",
        "listeners": "PLAINTEXT://127.0.0.1:9092",
    }
    kraft = BrokerConfig(broker).kraft
    assert kraft is not None and not kraft.is_controller
    assert refused({**broker, "node.id": "0"}) == (
        "requirement failed: If process.roles contains just the 'broker' role, the node id 0"
        " must not be included in the set of voters controller.quorum.voters=Set(0)"
    )
    assert refused({**broker, "listeners": LISTENERS}) == (
        "requirement failed: controller.listener.names must not contain a value appearing in"
        " the 'listeners' configuration when running KRaft with just the broker role"
    )
    assert refused({**broker, "controller.listener.names": ""}) == (
        "requirement failed: controller.listener.names must contain at least one value when"
        " running KRaft with just the broker role"
    )


def test_a_controller_only_node_has_only_controller_listeners() -> None:
    controller = {
        "process.roles": "controller",
        "node.id": "0",
        "controller.quorum.voters": "0@127.0.0.1:9093",
        "controller.listener.names": "CONTROLLER",
        "listeners": LISTENERS,
    }
    assert refused(controller) == (
        "requirement failed: The listeners config must only contain KRaft controller listeners"
        " from controller.listener.names when process.roles=controller"
    )


def test_an_advertised_controller_listener_is_not_a_broker_listener() -> None:
    """Kafka's shipped KRaft server.properties advertises its CONTROLLER listener too; Kafka
    leaves controller listeners out of what brokers advertise
    (KafkaConfig.effectiveAdvertisedBrokerListeners), so the file starts a broker."""
    config = BrokerConfig(
        {
            **COMBINED,
            "advertised.listeners": "PLAINTEXT://localhost:9094,CONTROLLER://localhost:9095",
        }
    )
    assert config.advertised_listeners() == [
        Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "localhost", 9094)
    ]
