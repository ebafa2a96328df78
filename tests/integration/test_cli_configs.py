"""`kwb configs` (kafka-configs.sh) against a real localbroker, checked through librdkafka.

Every change kwb makes is read back with confluent-kafka's AdminClient (DescribeConfigs from
another client), and every description kwb prints is compared line for line with
ConfigCommand's format.
"""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource

TIMEOUT = 20.0


def described(bootstrap: str, kind: str, name: str) -> dict[str, tuple[str | None, str]]:
    """name → (value, source) of a resource's configs, as librdkafka's admin reads them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(kind, name)
    entries = admin.describe_configs([resource])[resource].result(TIMEOUT)
    return {name: (entry.value, ConfigSource(entry.source).name) for name, entry in entries.items()}


def configs(kwb: Any, bootstrap: str, *args: str) -> Any:
    return kwb("configs", "--bootstrap-server", bootstrap, *args)


def test_topic_configs_describe_alter_delete(broker, kwb) -> None:
    b = broker.bootstrap
    created = kwb("topics", "--create", "--bootstrap-server", b, "--topic", "test")
    assert created.returncode == 0, created.stderr
    empty = configs(kwb, b, "--entity-type", "topics", "--entity-name", "test", "--describe")
    assert (empty.returncode, empty.stdout, empty.stderr) == (
        0,
        "Dynamic configs for topic test are:\n",
        "",
    )

    altered = configs(
        kwb, b, "--entity-type", "topics", "--entity-name", "test", "--alter",
        "--add-config", "retention.ms=3600000",
    )  # fmt: skip
    assert (altered.returncode, altered.stdout, altered.stderr) == (
        0,
        "Completed updating config for topic test.\n",
        "",
    )
    assert described(b, "topic", "test")["retention.ms"] == ("3600000", "DYNAMIC_TOPIC_CONFIG")
    shown = configs(kwb, b, "--topic", "test", "--describe")
    # Kafka 4.0's ConfigHelper keeps a topic config's broker synonyms only from the first broker
    # name on (log.retention.ms, unset here), so log.retention.hours is not listed.
    assert shown.stdout == (
        "Dynamic configs for topic test are:\n"
        "  retention.ms=3600000 sensitive=false"
        " synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}\n"
    )

    several = configs(
        kwb, b, "--topic", "test", "--alter",
        "--add-config", "cleanup.policy=[compact,delete], max.message.bytes = 2000",
    )  # fmt: skip
    assert several.stdout == "Completed updating config for topic test.\n", several.stderr
    read_back = described(b, "topic", "test")
    assert read_back["cleanup.policy"] == ("compact,delete", "DYNAMIC_TOPIC_CONFIG")
    assert read_back["max.message.bytes"] == ("2000", "DYNAMIC_TOPIC_CONFIG")
    shown = configs(kwb, b, "--describe", "--entity-type", "topics", "--entity-name", "test")
    assert shown.stdout.splitlines() == [
        "Dynamic configs for topic test are:",
        "  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
        "cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}",
        "  max.message.bytes=2000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
        "max.message.bytes=2000, DEFAULT_CONFIG:message.max.bytes=1048588}",
        "  retention.ms=3600000 sensitive=false"
        " synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}",
    ]
    topics_view = kwb("topics", "--describe", "--bootstrap-server", b, "--topic", "test")
    assert (  # in the order kafka-topics.sh prints them (a java.util.HashMap's)
        "Configs: cleanup.policy=compact,delete,retention.ms=3600000,max.message.bytes=2000"
        in topics_view.stdout
    )

    deleted = configs(
        kwb, b, "--topic", "test", "--alter", "--delete-config", "cleanup.policy,retention.ms"
    )
    assert deleted.stdout == "Completed updating config for topic test.\n", deleted.stderr
    read_back = described(b, "topic", "test")
    assert read_back["retention.ms"] == ("604800000", "DEFAULT_CONFIG")
    assert read_back["cleanup.policy"] == ("delete", "DEFAULT_CONFIG")
    assert configs(kwb, b, "--topic", "test", "--describe").stdout.splitlines() == [
        "Dynamic configs for topic test are:",
        "  max.message.bytes=2000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
        "max.message.bytes=2000, DEFAULT_CONFIG:message.max.bytes=1048588}",
    ]

    everything = configs(kwb, b, "--topic", "test", "--describe", "--all").stdout.splitlines()
    assert everything[0] == "All configs for topic test are:"
    names = [line.split("=", 1)[0].strip() for line in everything[1:]]
    assert names == sorted(read_back)
    assert shown.stdout.splitlines()[2] in everything  # max.message.bytes, as without --all
    assert (
        "  cleanup.policy=delete sensitive=false"
        " synonyms={DEFAULT_CONFIG:log.cleanup.policy=delete}"
    ) in everything


def test_broker_and_broker_default_configs(broker, kwb) -> None:
    b = broker.bootstrap
    assert configs(kwb, b, "--broker", "0", "--describe").stdout == (
        "Dynamic configs for broker 0 are:\n"
    )
    altered = configs(
        kwb, b, "--entity-type", "brokers", "--entity-name", "0", "--alter",
        "--add-config", "log.retention.ms=7200000",
    )  # fmt: skip
    assert (altered.returncode, altered.stdout, altered.stderr) == (
        0,
        "Completed updating config for broker 0.\n",
        "",
    )
    assert described(b, "broker", "0")["log.retention.ms"] == ("7200000", "DYNAMIC_BROKER_CONFIG")
    retention = (
        "  log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:"
        "log.retention.ms=7200000, DEFAULT_CONFIG:log.retention.hours=168}"
    )
    assert configs(kwb, b, "--broker", "0", "--describe").stdout.splitlines() == [
        "Dynamic configs for broker 0 are:",
        retention,
    ]
    # A topic without its own retention.ms now inherits the broker's.
    kwb("topics", "--create", "--bootstrap-server", b, "--topic", "inherits")
    assert described(b, "topic", "inherits")["retention.ms"] == ("7200000", "DYNAMIC_BROKER_CONFIG")

    defaults = configs(
        kwb, b, "--broker-defaults", "--alter", "--add-config", "log.retention.ms=100000000"
    )
    assert defaults.stdout == "Completed updating default config for brokers in the cluster.\n"
    assert described(b, "broker", "0")["log.retention.ms"] == ("7200000", "DYNAMIC_BROKER_CONFIG")
    default_line = (
        "  log.retention.ms=100000000 sensitive=false"
        " synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=100000000}"
    )
    assert configs(kwb, b, "--broker-defaults", "--describe").stdout.splitlines() == [
        "Default configs for brokers in the cluster are:",
        default_line,
    ]
    every_broker = configs(kwb, b, "--entity-type", "brokers", "--describe")
    assert every_broker.stdout.splitlines() == [
        "Dynamic configs for broker 0 are:",
        "  log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:"
        "log.retention.ms=7200000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=100000000,"
        " DEFAULT_CONFIG:log.retention.hours=168}",
        "Default configs for brokers in the cluster are:",
        default_line,
    ]

    removed = configs(kwb, b, "--broker", "0", "--alter", "--delete-config", "log.retention.ms")
    assert removed.stdout == "Completed updating config for broker 0.\n", removed.stderr
    value, source = described(b, "broker", "0")["log.retention.ms"]
    assert (value, source) == ("100000000", "DYNAMIC_DEFAULT_BROKER_CONFIG")
    assert configs(kwb, b, "--broker", "0", "--describe").stdout == (
        "Dynamic configs for broker 0 are:\n"
    )
    reset_default = configs(
        kwb, b, "--entity-type", "brokers", "--entity-default", "--alter",
        "--delete-config", "log.retention.ms",
    )  # fmt: skip
    assert reset_default.returncode == 0, reset_default.stderr
    # As in Kafka, an unset log.retention.ms has no value (log.retention.hours=168 applies).
    assert described(b, "broker", "0")["log.retention.ms"] == (None, "DEFAULT_CONFIG")

    everything = configs(kwb, b, "--broker", "0", "--describe", "--all").stdout.splitlines()
    assert everything[0] == "All configs for broker 0 are:"
    assert len(everything) - 1 == len(described(b, "broker", "0"))
    assert "  log.retention.ms=null sensitive=false synonyms={}" in everything
    assert (
        "  auto.create.topics.enable=true sensitive=false"
        " synonyms={DEFAULT_CONFIG:auto.create.topics.enable=true}"
    ) in everything


def test_failures_as_kafka_reports_them(broker, kwb) -> None:
    """A refused argument or config is its message alone on stderr, a request the broker
    refused the command line and the broker's message, as kafka-configs.sh reports them
    (without its stack trace); what kwb itself cannot do (connect) is one kwb line."""
    b = broker.bootstrap
    kwb("topics", "--create", "--bootstrap-server", b, "--topic", "test")
    invalid = ["--topic", "test", "--alter", "--add-config", "retention.ms=abc"]
    refused = configs(kwb, b, *invalid)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.splitlines() == [
        "Error while executing config command with args"
        f" '--bootstrap-server {b} {' '.join(invalid)}'",
        "Invalid value abc for configuration retention.ms: Not a number of type LONG",
    ]
    cases = [
        (
            ["--topic", "test", "--alter", "--delete-config", "retention.ms"],
            "Invalid config(s): retention.ms",
        ),
        (
            ["--topic", "test", "--alter", "--add-config", "a=b=c"],
            'Invalid entity config: all configs to be added must be in the format "key=val" or '
            ' "key=[val1,val2]" to group values which contain commas.',
        ),
        (
            ["--topic", "test", "--alter"],
            "At least one of --add-config, --add-config-file, or --delete-config must be"
            " specified with --alter",
        ),
        (
            ["--broker", "x", "--describe"],
            "The entity name for brokers must be a valid integer broker id, but it is: x",
        ),
        (
            ["--entity-type", "clients", "--describe"],
            "kwb configs supports topics, brokers and users, not clients",
        ),
        (
            ["--topic", "test", "--entity-type", "topics", "--describe"],
            "Duplicate entity type(s) specified: topics",
        ),
        (
            ["--entity-name", "test", "--topic", "test", "--describe"],
            "--entity-{type,name,default} should not be used in conjunction with specific"
            " entity flags",
        ),
    ]
    for args, message in cases:
        failed = configs(kwb, b, *args)
        assert (failed.returncode, failed.stdout) == (1, ""), args
        assert failed.stderr == f"{message}\n", args
    missing = configs(kwb, b, "--topic", "nosuch", "--describe")
    assert (missing.returncode, missing.stderr) == (0, "")
    assert missing.stdout == "The topic 'nosuch' doesn't exist and doesn't have dynamic config.\n"
    assert described(b, "topic", "test")["retention.ms"] == ("604800000", "DEFAULT_CONFIG")
    unreachable = configs(kwb, "127.0.0.1:1", "--topic", "test", "--describe")
    assert unreachable.returncode == 1 and len(unreachable.stderr.splitlines()) == 1
    assert "cannot connect to 127.0.0.1:1" in unreachable.stderr


def test_json_output(broker, kwb) -> None:
    b = broker.bootstrap
    kwb("topics", "--create", "--bootstrap-server", b, "--topic", "j")
    altered = configs(
        kwb, b, "--topic", "j", "--alter", "--add-config", "segment.ms=60000", "--output", "json"
    )
    assert json.loads(altered.stdout) == {
        "entity_type": "topics",
        "entity_name": "j",
        "added": {"segment.ms": "60000"},
        "deleted": [],
    }
    shown = configs(kwb, b, "--topic", "j", "--describe", "--output", "json")
    (document,) = json.loads(shown.stdout)
    assert (document["entity_type"], document["entity_name"]) == ("topics", "j")
    (config,) = document["configs"]
    assert (config["name"], config["value"], config["source"]) == (
        "segment.ms",
        "60000",
        "DYNAMIC_TOPIC_CONFIG",
    )
    assert config["synonyms"][0] == {
        "name": "segment.ms",
        "value": "60000",
        "source": "DYNAMIC_TOPIC_CONFIG",
    }
