"""Broker and topic configuration: values, sources, synonyms and validation as Kafka has them.

DescribeConfigs answers and the LogConfig every partition obeys both come from here, so
the tests check Kafka's resolution order (topic override, dynamic per-broker, dynamic
cluster default, server.properties, default), unit conversion of the hours/minutes
synonyms, Kafka's synonym lists (ConfigHelper.configSynonyms) and its exact messages.
"""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode

from localbroker.config.broker import BrokerConfig
from localbroker.config.definitions import TOPIC_CONFIGS, TOPIC_CONFIGS_IN_KAFKAS_ORDER
from localbroker.config.entries import Synonym
from localbroker.config.topic import describe_topic, resolve_topic_value, validate_topic_configs
from localbroker.errors import KafkaError
from localbroker.log.log_config import LONG_MAX, LogConfig
from localbroker.protocol.names import ConfigSource, SecurityProtocol
from localbroker.security.listeners import Endpoint

DEFAULT = ConfigSource.DEFAULT_CONFIG
STATIC = ConfigSource.STATIC_BROKER_CONFIG
DYNAMIC = ConfigSource.DYNAMIC_BROKER_CONFIG
DYNAMIC_DEFAULT = ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
TOPIC = ConfigSource.DYNAMIC_TOPIC_CONFIG


def entry(config: BrokerConfig, name: str) -> tuple[str | None, ConfigSource, list[Synonym]]:
    (described,) = config.describe([name])
    return described.value, described.source, list(described.synonyms)


def topic_entry(
    config: BrokerConfig, name: str, overrides: dict[str, str] | None = None
) -> tuple[str | None, ConfigSource, list[Synonym]]:
    (described,) = describe_topic(config, overrides or {}, [name])
    return described.value, described.source, list(described.synonyms)


# -- broker values and sources ------------------------------------------------------------


def test_defaults_and_local_defaults() -> None:
    config = BrokerConfig({})
    assert config.lookup("num.partitions") == ("1", DEFAULT)
    assert config.lookup("log.segment.bytes") == ("1073741824", DEFAULT)
    assert config.lookup("log.retention.ms") == (None, DEFAULT)
    # What Kafka's single-node server.properties sets is reported as static config.
    assert config.lookup("offsets.topic.replication.factor") == ("1", STATIC)
    assert config.lookup("group.initial.rebalance.delay.ms") == ("0", STATIC)
    assert config.node_id == 0
    assert config.value("listeners") == "PLAINTEXT://127.0.0.1:9092"
    assert config.lookup("no.such.config") == (None, DEFAULT)


def test_static_overrides_are_normalized() -> None:
    config = BrokerConfig({"num.partitions": " 3 ", "auto.create.topics.enable": "FALSE"})
    assert config.lookup("num.partitions") == ("3", STATIC)
    assert config.num_partitions == 3
    assert config.value("auto.create.topics.enable") == "false"
    assert config.auto_create_topics_enable is False


def test_invalid_static_value_is_refused_with_kafkas_message() -> None:
    with pytest.raises(KafkaError) as caught:
        BrokerConfig({"num.partitions": "abc"})
    assert caught.value.code == ErrorCode.invalid_config
    assert caught.value.message == (
        "Invalid value abc for configuration num.partitions: Not a number of type INT"
    )
    with pytest.raises(KafkaError, match=r"Value must be at least 1$"):
        BrokerConfig({"num.partitions": "0"})


def test_broker_id_is_the_node_id() -> None:
    assert BrokerConfig({"broker.id": "7"}).node_id == 7
    config = BrokerConfig({"node.id": "3"})
    assert (config.node_id, config.value("broker.id")) == (3, "3")


def test_listeners() -> None:
    """The controller's listener of Kafka's shipped server.properties is left out; --host and
    --port move the first listener."""
    config = BrokerConfig({"listeners": "PLAINTEXT://localhost:19092,CONTROLLER://:9093"})
    assert (config.host, config.port) == ("localhost", 19092)
    assert config.listeners == [
        Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "localhost", 19092)
    ]
    assert BrokerConfig({}, host="0.0.0.0", port=0).value("listeners") == "PLAINTEXT://0.0.0.0:0"
    with pytest.raises(KafkaError, match="Unable to parse PLAINTEXT://nowhere to a broker"):
        BrokerConfig({"listeners": "PLAINTEXT://nowhere"})
    advertised = BrokerConfig({"advertised.listeners": "PLAINTEXT://kafka.local:9092"})
    assert advertised.advertised_listeners() == [
        Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "kafka.local", 9092)
    ]
    assert BrokerConfig({}).advertised_listeners() == BrokerConfig({}).listeners


def test_flush_scheduler_interval_is_capped_at_a_second() -> None:
    assert BrokerConfig({}).log_flush_scheduler_interval_ms == 1000
    config = BrokerConfig({"log.flush.scheduler.interval.ms": "200"})
    assert config.log_flush_scheduler_interval_ms == 200


def test_api_versions_of_names_a_kafka_release() -> None:
    assert BrokerConfig({}).api_versions_of is None
    assert BrokerConfig({"localbroker.api.versions.of": "4.0"}).api_versions_of == "4.0"
    with pytest.raises(KafkaError) as refused:
        _ = BrokerConfig({"localbroker.api.versions.of": "2.8"}).api_versions_of
    assert refused.value.code == ErrorCode.invalid_config
    assert "String must be one of: 3.9, 4.0, 4.1" in str(refused.value)


def test_dynamic_configs_take_precedence() -> None:
    """Per-broker dynamic beats the cluster-wide dynamic default, which beats the file."""
    config = BrokerConfig({"log.retention.ms": "3000"})
    dynamic: dict[str, str] = {"log.retention.ms": "1000"}
    dynamic_default: dict[str, str] = {"log.retention.ms": "2000"}
    config.attach_dynamic(dynamic, dynamic_default)
    assert config.lookup("log.retention.ms") == ("1000", DYNAMIC)
    assert config.log_config({}).retention_ms == 1000
    del dynamic["log.retention.ms"]  # the dicts are shared with the metadata store
    assert config.lookup("log.retention.ms") == ("2000", DYNAMIC_DEFAULT)
    assert config.log_config({}).retention_ms == 2000
    del dynamic_default["log.retention.ms"]
    assert config.lookup("log.retention.ms") == ("3000", STATIC)
    assert config.log_config({"retention.ms": "5"}).retention_ms == 5


def test_validate_dynamic_changes() -> None:
    config = BrokerConfig({})
    assert config.validate_dynamic({"log.retention.ms": " 60000 ", "message.max.bytes": None}) == {
        "log.retention.ms": "60000",
        "message.max.bytes": None,
    }
    with pytest.raises(KafkaError) as caught:
        config.validate_dynamic({"num.partitions": "2", "log.retention.ms": "1"})
    assert caught.value.code == ErrorCode.invalid_request
    # Kafka's message shows the names as a Scala Set (DynamicBrokerConfig.validateConfigs).
    assert caught.value.message == "Cannot update these configs dynamically: Set(num.partitions)"
    # A broker config's invalid value is INVALID_REQUEST in Kafka, not INVALID_CONFIG as for
    # topics: ConfigAdminManager wraps the ConfigException (KAFKA-13609).
    with pytest.raises(KafkaError) as caught:
        config.validate_dynamic({"log.retention.ms": "soon"})
    assert caught.value.code == ErrorCode.invalid_request
    assert caught.value.message == (
        "Invalid value soon for configuration log.retention.ms: Not a number of type LONG"
    )


# -- topic values: synonyms and unit conversion -------------------------------------------


@pytest.mark.parametrize(
    ("static", "expected"),
    [
        ({"log.retention.hours": "24"}, 86_400_000),
        ({"log.retention.minutes": "5"}, 300_000),
        ({"log.retention.ms": "1234"}, 1234),
        ({"log.retention.hours": "-1"}, -1),
        ({"log.retention.minutes": "-1"}, -1),
        # The smallest unit wins: ms over minutes over hours.
        ({"log.retention.hours": "24", "log.retention.minutes": "5"}, 300_000),
        ({"log.retention.ms": "7", "log.retention.minutes": "5", "log.retention.hours": "1"}, 7),
        ({}, 604_800_000),
    ],
)
def test_retention_synonyms_convert_to_milliseconds(static: dict[str, str], expected: int) -> None:
    config = BrokerConfig(static)
    value, _ = resolve_topic_value(config, "retention.ms", {})
    assert value == str(expected)
    assert config.log_config({}).retention_ms == expected


def test_roll_hours_become_segment_ms() -> None:
    assert BrokerConfig({"log.roll.hours": "2"}).log_config({}).segment_ms == 7_200_000
    both = BrokerConfig({"log.roll.hours": "2", "log.roll.ms": "60000"})
    assert both.log_config({}).segment_ms == 60_000


def test_topic_value_sources() -> None:
    config = BrokerConfig({"log.segment.bytes": "1048576"})
    assert resolve_topic_value(config, "segment.bytes", {}) == ("1048576", STATIC)
    assert resolve_topic_value(config, "segment.bytes", {"segment.bytes": "2000"}) == (
        "2000",
        TOPIC,
    )
    assert resolve_topic_value(config, "cleanup.policy", {}) == ("delete", DEFAULT)


def test_topic_synonym_list_in_kafkas_order() -> None:
    """Topic override first, then broker synonyms by source (dynamic, dynamic default,
    static, default), each source listing ms before minutes before hours."""
    config = BrokerConfig({"log.retention.ms": "3000", "log.retention.hours": "24"})
    config.attach_dynamic({"log.retention.ms": "1000"}, {"log.retention.ms": "2000"})
    value, source, synonyms = topic_entry(config, "retention.ms", {"retention.ms": "500"})
    assert (value, source) == ("500", TOPIC)
    assert synonyms == [
        Synonym("retention.ms", "500", TOPIC),
        Synonym("log.retention.ms", "1000", DYNAMIC),
        Synonym("log.retention.ms", "2000", DYNAMIC_DEFAULT),
        Synonym("log.retention.ms", "3000", STATIC),
        Synonym("log.retention.hours", "24", STATIC),
        Synonym("log.retention.hours", "168", DEFAULT),
    ]


def test_topic_synonyms_start_at_the_primary_broker_name() -> None:
    """Kafka drops synonyms listed before the primary broker name (log.retention.ms), so a
    retention set only in hours is reported with no synonyms and DEFAULT_CONFIG, though its
    value is the converted one."""
    config = BrokerConfig({"log.retention.hours": "24"})
    assert topic_entry(config, "retention.ms") == ("86400000", DEFAULT, [])
    segment_config = BrokerConfig({"log.segment.bytes": "1048576"})
    value, source, synonyms = topic_entry(segment_config, "segment.bytes")
    assert (value, source) == ("1048576", STATIC)
    assert synonyms == [
        Synonym("log.segment.bytes", "1048576", STATIC),
        Synonym("log.segment.bytes", "1073741824", DEFAULT),
    ]


def test_broker_synonym_list_in_kafkas_order() -> None:
    config = BrokerConfig({"log.retention.ms": "3000", "log.retention.minutes": "2"})
    config.attach_dynamic({}, {"log.retention.ms": "2000"})
    assert entry(config, "log.retention.ms") == (
        "2000",
        DYNAMIC_DEFAULT,
        [
            Synonym("log.retention.ms", "2000", DYNAMIC_DEFAULT),
            Synonym("log.retention.ms", "3000", STATIC),
            Synonym("log.retention.minutes", "2", STATIC),
            Synonym("log.retention.hours", "168", DEFAULT),
        ],
    )


def test_broker_synonyms_of_a_secondary_name_start_at_that_name() -> None:
    """Describing log.retention.hours itself: Kafka's configSynonyms drops entries until the
    described name (not the group's first name), so the hours entries are listed."""
    config = BrokerConfig({"log.retention.hours": "24", "log.retention.ms": "5000"})
    assert entry(config, "log.retention.hours") == (
        "24",
        STATIC,
        [
            Synonym("log.retention.hours", "24", STATIC),
            Synonym("log.retention.hours", "168", DEFAULT),
        ],
    )
    assert entry(BrokerConfig({}), "log.roll.hours") == (
        "168",
        DEFAULT,
        [Synonym("log.roll.hours", "168", DEFAULT)],
    )


def test_broker_synonyms_of_the_flush_scheduler_interval() -> None:
    """log.flush.scheduler.interval.ms has only itself as synonym in Kafka (it is the
    fallback of log.flush.interval.ms, not the other way round)."""
    assert entry(BrokerConfig({}), "log.flush.scheduler.interval.ms") == (
        str(LONG_MAX),
        DEFAULT,
        [Synonym("log.flush.scheduler.interval.ms", str(LONG_MAX), DEFAULT)],
    )


def test_broker_synonyms_of_the_flush_interval() -> None:
    """log.flush.interval.ms has no default and is not set: Kafka drops the scheduler
    interval entries that follow it in the synonym list, leaving none."""
    scheduler = BrokerConfig({"log.flush.scheduler.interval.ms": "500"})
    assert entry(scheduler, "log.flush.interval.ms") == (None, DEFAULT, [])
    interval = BrokerConfig({"log.flush.interval.ms": "20"})
    assert entry(interval, "log.flush.interval.ms") == (
        "20",
        STATIC,
        [
            Synonym("log.flush.interval.ms", "20", STATIC),
            Synonym("log.flush.scheduler.interval.ms", str(LONG_MAX), DEFAULT),
        ],
    )


# -- validation -----------------------------------------------------------------------------


ONE_OF_POLICIES = "String must be one of: compact, delete"


@pytest.mark.parametrize(
    ("name", "value", "shown", "reason"),
    [
        ("retention.ms", "abc", "abc", "Not a number of type LONG"),
        ("retention.ms", str(2**63), str(2**63), "Not a number of type LONG"),
        ("retention.ms", "-2", "-2", "Value must be at least -1"),
        ("segment.bytes", "13", "13", "Value must be at least 14"),
        ("segment.bytes", str(2**31), str(2**31), "Not a number of type INT"),
        ("cleanup.policy", "bogus", "bogus", ONE_OF_POLICIES),
        ("cleanup.policy", "delete,bogus", "bogus", ONE_OF_POLICIES),
        (
            "message.timestamp.type",
            "Now",
            "Now",
            "String must be one of: CreateTime, LogAppendTime",
        ),
        (
            "unclean.leader.election.enable",
            "yes",
            "yes",
            "Expected value to be either true or false",
        ),
    ],
)
def test_invalid_topic_config_messages(name: str, value: str, shown: str, reason: str) -> None:
    """Kafka's ConfigException text: "Invalid value <v> for configuration <name>: <reason>"."""
    with pytest.raises(KafkaError) as caught:
        validate_topic_configs({name: value})
    assert caught.value.code == ErrorCode.invalid_config
    assert caught.value.message == f"Invalid value {shown} for configuration {name}: {reason}"


def test_retention_ms_not_a_number() -> None:
    with pytest.raises(KafkaError) as caught:
        validate_topic_configs({"retention.ms": "abc"})
    assert caught.value.message == (
        "Invalid value abc for configuration retention.ms: Not a number of type LONG"
    )


def test_unknown_topic_config() -> None:
    with pytest.raises(KafkaError) as caught:
        validate_topic_configs({"retention.hours": "1"})
    assert caught.value.code == ErrorCode.invalid_config
    assert caught.value.message == "Unknown topic config name: retention.hours"


def test_null_topic_config_values() -> None:
    with pytest.raises(KafkaError) as caught:
        validate_topic_configs({"segment.ms": None, "retention.ms": None})
    assert caught.value.code == ErrorCode.invalid_request
    assert caught.value.message.startswith("Null value not supported for")
    assert caught.value.message.endswith("retention.ms, segment.ms")


def test_compaction_lag_conflict() -> None:
    with pytest.raises(KafkaError) as caught:
        validate_topic_configs({"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"})
    assert caught.value.message == (
        "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"
    )


def test_valid_topic_configs_are_normalized() -> None:
    assert validate_topic_configs(
        {
            "retention.ms": " 86400000 ",
            "cleanup.policy": "compact, delete",
            "unclean.leader.election.enable": "TRUE",
            "retention.bytes": "-1",
        }
    ) == {
        "retention.ms": "86400000",
        "cleanup.policy": "compact,delete",
        "unclean.leader.election.enable": "true",
        "retention.bytes": "-1",
    }


# -- LogConfig ------------------------------------------------------------------------------


def test_default_log_config_is_kafkas() -> None:
    assert BrokerConfig({}).log_config({}) == LogConfig()


def test_log_config_from_broker_settings_and_topic_overrides() -> None:
    config = BrokerConfig(
        {
            "log.retention.hours": "24",
            "log.segment.bytes": "1048576",
            "log.flush.interval.messages": "1",
            "message.max.bytes": "2000000",
            "log.message.timestamp.type": "LogAppendTime",
            "log.index.interval.bytes": "100",
        }
    )
    log_config = config.log_config(
        {"segment.bytes": "5000", "cleanup.policy": "compact,delete", "retention.bytes": "10"}
    )
    assert log_config == LogConfig(
        segment_bytes=5000,
        index_interval_bytes=100,
        retention_ms=86_400_000,
        retention_bytes=10,
        max_message_bytes=2_000_000,
        flush_messages=1,
        message_timestamp_type="LogAppendTime",
        cleanup_policy=("compact", "delete"),
    )
    assert log_config.deletes
    assert not config.log_config({"cleanup.policy": "compact"}).deletes


def test_flush_ms_falls_back_to_the_scheduler_interval() -> None:
    """Kafka: log.flush.interval.ms defaults to log.flush.scheduler.interval.ms."""
    config = BrokerConfig({"log.flush.scheduler.interval.ms": "3000"})
    assert config.log_config({}).flush_ms == 3000
    both = BrokerConfig({"log.flush.scheduler.interval.ms": "3000", "log.flush.interval.ms": "10"})
    assert both.log_config({}).flush_ms == 10


def test_topic_configs_are_described_in_kafkas_order_each_once() -> None:
    """Every topic config is listed, once, in the order Kafka lists them."""
    described = [definition.name for definition in TOPIC_CONFIGS_IN_KAFKAS_ORDER]
    assert sorted(described) == sorted(c.name for c in TOPIC_CONFIGS)
    assert described[:2] == ["compression.type", "remote.log.delete.on.disable"]
