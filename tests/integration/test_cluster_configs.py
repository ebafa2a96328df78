"""Config changes in cluster mode (`localbroker --cluster 3`): a broker forwards
AlterConfigs / IncrementalAlterConfigs to the active controller, which writes ConfigRecords;
every node shows the change, it outlives later metadata batches and a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kio.schema.errors import ErrorCode
from launched import Launched, agreed, create
from waiting import wait_until
from wire import RawClient

from localbroker.cluster.launcher import LAYOUT_FILE
from localbroker.config.properties import load_properties
from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import AlterConfigOp, ApiKey, ConfigResourceType, ConfigSource

TOPIC = "configured"
ACCEPTED = (ErrorCode.none, None)


def admin(address: str) -> Any:
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": address})


def alter(address: str, kind: str, name: str, config: str, value: str, *, validate: bool) -> None:
    """confluent-kafka's incremental_alter_configs (SET) through the node at `address`."""
    from confluent_kafka.admin import (
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ResourceType,
    )

    entry = ConfigEntry(config, value, incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType[kind], name, incremental_configs=[entry])
    client = admin(address)  # kept until the answer: a destroyed handle fails its futures
    futures = client.incremental_alter_configs(
        [resource], request_timeout=20, validate_only=validate
    )
    for future in futures.values():
        future.result(timeout=30)


def described(address: str, kind: str, name: str, config: str) -> tuple[str | None, str]:
    """(value, source name) of one config, as DescribeConfigs to that very node answers
    (clients choose the node for a topic's configs themselves)."""
    resource = {
        "resource_type": ConfigResourceType[kind],
        "resource_name": name,
        "configuration_keys": [config],
    }
    body = request_body(
        ApiKey.DESCRIBE_CONFIGS,
        4,
        {"resources": [resource], "include_synonyms": False, "include_documentation": False},
    )
    with RawClient(address, timeout=10) as client:
        (result,) = client.recv(ApiKey.DESCRIBE_CONFIGS, 4, client.send(body)).results
    assert result.error_code == ErrorCode.none, result.error_message
    (entry,) = result.configs
    return entry.value, ConfigSource(entry.config_source).name


def alter_raw(
    address: str, topic: str, config: str, value: str, *, validate: bool
) -> tuple[int, str | None]:
    """IncrementalAlterConfigs (SET a topic config) sent to the listener at `address` itself:
    its (error code, message)."""
    change = {"name": config, "config_operation": AlterConfigOp.SET, "value": value}
    return _altered(address, ApiKey.INCREMENTAL_ALTER_CONFIGS, 1, topic, [change], validate)


def replace_raw(address: str, topic: str, configs: dict[str, str]) -> tuple[int, str | None]:
    """AlterConfigs (legacy: the topic's overrides replaced) sent to `address` itself."""
    entries = [{"name": name, "value": value} for name, value in configs.items()]
    return _altered(address, ApiKey.ALTER_CONFIGS, 1, topic, entries, False)


def _altered(
    address: str, api_key: ApiKey, version: int, topic: str, configs: list[Any], validate: bool
) -> tuple[int, str | None]:
    resource = {"resource_type": ConfigResourceType.TOPIC, "resource_name": topic}
    body = request_body(
        api_key,
        version,
        {"resources": [{**resource, "configs": configs}], "validate_only": validate},
    )
    with RawClient(address, timeout=30) as client:
        answer = client.recv(api_key, version, client.send(body))
    (response,) = answer.responses
    return response.error_code, response.error_message


def shown_everywhere(addresses: list[str], kind: str, name: str, config: str, value: str) -> bool:
    return all(described(a, kind, name, config)[0] == value for a in addresses)


def test_a_topic_config_altered_on_one_node_is_on_every_node_and_after_a_restart(
    launcher: Callable[[], Launched],
) -> None:
    first = launcher()
    addresses = first.addresses
    controller, _ = wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    create(addresses, TOPIC, 3)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, TOPIC), "the topic everywhere")
    broker = next(a for node, a in enumerate(addresses) if node != controller)

    assert alter_raw(broker, TOPIC, "retention.ms", "12345", validate=True) == ACCEPTED
    assert described(broker, "TOPIC", TOPIC, "retention.ms")[0] == "604800000"
    assert alter_raw(broker, TOPIC, "retention.ms", "12345", validate=False) == ACCEPTED
    # the node asked answers once it shows the change; the others follow the log
    assert described(broker, "TOPIC", TOPIC, "retention.ms") == ("12345", "DYNAMIC_TOPIC_CONFIG")
    wait_until(
        lambda: shown_everywhere(addresses, "TOPIC", TOPIC, "retention.ms", "12345"),
        "the override on every node",
    )
    alter(broker, "TOPIC", TOPIC, "max.message.bytes", "65536", validate=False)
    wait_until(
        lambda: shown_everywhere(addresses, "TOPIC", TOPIC, "max.message.bytes", "65536"),
        "confluent-kafka's change on every node",
    )
    node = str(addresses.index(broker))  # a broker's own configs are altered through it
    alter(broker, "BROKER", node, "log.retention.ms", "7654321", validate=False)
    assert described(broker, "BROKER", node, "log.retention.ms") == (
        "7654321",
        "DYNAMIC_BROKER_CONFIG",
    )
    create(addresses, "later", 1)  # more metadata batches committed after the change
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "later"), "the later topic everywhere")
    assert shown_everywhere(addresses, "TOPIC", TOPIC, "retention.ms", "12345")
    assert shown_everywhere(addresses, "TOPIC", TOPIC, "max.message.bytes", "65536")

    first.process.terminate()
    assert first.process.wait(30) == 0
    again = launcher()
    wait_until(lambda: agreed(again.addresses, {0, 1, 2}, TOPIC), "the cluster back")
    wait_until(
        lambda: shown_everywhere(again.addresses, "TOPIC", TOPIC, "retention.ms", "12345"),
        "the override after the restart",
    )
    assert described(broker, "BROKER", node, "log.retention.ms")[0] == "7654321"


def test_kafka_configs_alters_on_one_node_and_describes_on_another(
    launcher: Callable[[], Launched], kafka_tool: Any
) -> None:
    """Kafka's own kafka-configs.sh (the Java AdminClient's AlterConfigs path)."""
    addresses = launcher().addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    create(addresses, TOPIC, 3)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, TOPIC), "the topic everywhere")
    entity = ["--entity-type", "topics", "--entity-name", TOPIC]
    altered = kafka_tool(
        "kafka-configs",
        [
            "--bootstrap-server",
            addresses[0],
            "--alter",
            *entity,
            "--add-config",
            "retention.ms=777",
        ],
    )
    assert altered.returncode == 0, altered.stderr
    assert f"Completed updating config for topic {TOPIC}." in altered.stdout
    wait_until(
        lambda: shown_everywhere(addresses, "TOPIC", TOPIC, "retention.ms", "777"),
        "the override on every node",
    )
    defaults = ["--entity-type", "brokers", "--entity-default"]
    setting = "log.retention.ms=7654321"
    altered = kafka_tool(
        "kafka-configs",
        ["--bootstrap-server", addresses[1], "--alter", *defaults, "--add-config", setting],
    )
    assert altered.returncode == 0, altered.stderr
    wait_until(
        lambda: all(
            described(a, "BROKER", str(node), "log.retention.ms")
            == ("7654321", "DYNAMIC_DEFAULT_BROKER_CONFIG")
            for node, a in enumerate(addresses)
        ),
        "the cluster default on every node",
    )
    shown = kafka_tool(
        "kafka-configs", ["--bootstrap-server", addresses[2], "--describe", *defaults]
    )
    assert (
        "Default configs for brokers in the cluster are:\n"
        "  log.retention.ms=7654321 sensitive=false"
        " synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7654321}"
    ) in shown.stdout, shown.stdout
    for address in addresses[1:]:
        shown = kafka_tool("kafka-configs", ["--bootstrap-server", address, "--describe", *entity])
        assert (
            f"Dynamic configs for topic {TOPIC} are:\n"
            "  retention.ms=777 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=777"
        ) in shown.stdout, shown.stdout


def test_the_controller_checks_a_change_against_its_image(
    launcher: Callable[[], Launched], tmp_path: Path
) -> None:
    """What reaches the active controller's listener is checked there again, with the
    broker's own validation, against the metadata image (the truth every node follows)."""
    addresses = launcher().addresses
    controller, _ = wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    create(addresses, TOPIC, 3)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, TOPIC), "the topic everywhere")
    layout = load_properties(tmp_path / "data" / LAYOUT_FILE)
    at = f"127.0.0.1:{layout['controller.ports'].split(',')[controller]}"

    assert alter_raw(at, TOPIC, "retention.ms", "x", validate=False) == (
        ErrorCode.invalid_config,
        "Invalid value x for configuration retention.ms: Not a number of type LONG",
    )
    assert alter_raw(at, "nowhere", "retention.ms", "1000", validate=False) == (
        ErrorCode.unknown_topic_or_partition,
        "The topic 'nowhere' does not exist.",
    )
    assert alter_raw(at, TOPIC, "retention.ms", "1000", validate=True) == ACCEPTED
    assert alter_raw(at, TOPIC, "max.message.bytes", "65536", validate=False) == ACCEPTED
    wait_until(
        lambda: shown_everywhere(addresses, "TOPIC", TOPIC, "max.message.bytes", "65536"),
        "a later change on every node",
    )  # so the validate_only one, had it been written, would be there too
    assert shown_everywhere(addresses, "TOPIC", TOPIC, "retention.ms", "604800000")
    assert alter_raw(at, TOPIC, "retention.ms", "1000", validate=False) == ACCEPTED
    wait_until(
        lambda: shown_everywhere(addresses, "TOPIC", TOPIC, "retention.ms", "1000"),
        "the controller's change on every node",
    )
    # the legacy AlterConfigs through a broker replaces the whole set of overrides
    broker = next(a for node, a in enumerate(addresses) if node != controller)
    assert replace_raw(broker, TOPIC, {"cleanup.policy": "compact"}) == ACCEPTED
    assert described(broker, "TOPIC", TOPIC, "cleanup.policy")[0] == "compact"
    wait_until(
        lambda: shown_everywhere(addresses, "TOPIC", TOPIC, "cleanup.policy", "compact"),
        "the replaced overrides on every node",
    )
    assert shown_everywhere(addresses, "TOPIC", TOPIC, "retention.ms", "604800000")
    assert shown_everywhere(addresses, "TOPIC", TOPIC, "max.message.bytes", "1048588")
