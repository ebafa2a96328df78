"""Topic configs: effective values from overrides and broker synonyms, as Kafka resolves them.

A topic config without an override takes its value from the first broker synonym that is
set (dynamic per-broker, then dynamic cluster default, then server.properties), converting
hours and minutes to milliseconds, and otherwise Kafka's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import ConfigSource
from .definitions import (
    SCHEMA_VALIDATION_CONFIGS,
    SYNONYM_TO_MS,
    TOPIC_CONFIG_SYNONYMS,
    TOPIC_CONFIGS_BY_NAME,
    TOPIC_CONFIGS_IN_KAFKAS_ORDER,
)
from .entries import ConfigEntry, Synonym
from .values import normalize

if TYPE_CHECKING:
    from .broker import BrokerConfig

_ROLL = ("log.roll.ms", "log.roll.hours")
_ROLL_JITTER = ("log.roll.jitter.ms", "log.roll.jitter.hours")
_RETENTION = ("log.retention.ms", "log.retention.minutes", "log.retention.hours")
# DynamicBrokerConfig.brokerConfigSynonyms: every other broker config is its own only synonym
# (log.flush.scheduler.interval.ms included, though log.flush.interval.ms lists it).
_DESCRIBE_SYNONYMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(_ROLL, _ROLL),
    **dict.fromkeys(_ROLL_JITTER, _ROLL_JITTER),
    **dict.fromkeys(_RETENTION, _RETENTION),
    "log.flush.interval.ms": ("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
}


def broker_synonyms(name: str) -> tuple[str, ...]:
    """The broker names DescribeConfigs lists as synonyms of broker config `name`."""
    return _DESCRIBE_SYNONYMS.get(name, (name,))


def _in_ms(synonym: str, value: str) -> str:
    factor = SYNONYM_TO_MS.get(synonym)
    if factor is None:
        return value
    number = int(value)
    return str(number * factor if number >= 0 else -1)


def resolve_topic_value(
    config: BrokerConfig, name: str, overrides: Mapping[str, str]
) -> tuple[str | None, int]:
    """(value, config source) of topic config `name` for a topic with `overrides`."""
    if name in overrides:
        return overrides[name], ConfigSource.DYNAMIC_TOPIC_CONFIG
    for synonym in TOPIC_CONFIG_SYNONYMS.get(name, ()):
        value, source = config.lookup(synonym)
        if source != ConfigSource.DEFAULT_CONFIG and value is not None:
            return _in_ms(synonym, value), source
    return TOPIC_CONFIGS_BY_NAME[name].default, ConfigSource.DEFAULT_CONFIG


def describe_topic(
    config: BrokerConfig,
    overrides: Mapping[str, str],
    names: list[str] | None = None,
    *,
    schema_validation: bool = False,
) -> list[ConfigEntry]:
    """DescribeConfigs entries for a topic, with Kafka's sources and synonym lists, in the
    order Kafka lists them; then, on a broker that runs a schema registry
    (`schema_validation`), Confluent Server's schema validation configs."""
    entries = []
    definitions = TOPIC_CONFIGS_IN_KAFKAS_ORDER
    if schema_validation:
        definitions += SCHEMA_VALIDATION_CONFIGS
    for definition in definitions:
        if names is not None and definition.name not in names:
            continue
        value, _ = resolve_topic_value(config, definition.name, overrides)
        synonyms: list[Synonym] = []
        if definition.name in overrides:
            synonyms.append(
                Synonym(
                    definition.name, overrides[definition.name], ConfigSource.DYNAMIC_TOPIC_CONFIG
                )
            )
        broker_names = TOPIC_CONFIG_SYNONYMS.get(definition.name)
        if broker_names:
            synonyms += config.synonyms(broker_names[0])
        source = synonyms[0].source if synonyms else ConfigSource.DEFAULT_CONFIG
        entries.append(ConfigEntry(definition.name, value, source, definition, tuple(synonyms)))
    return entries


def validate_topic_configs(configs: Mapping[str, str | None]) -> dict[str, str]:
    """Normalized topic overrides, or INVALID_CONFIG / INVALID_REQUEST with Kafka's message."""
    nulls = sorted(name for name, value in configs.items() if value is None)
    if nulls:
        raise KafkaError(
            ErrorCode.invalid_request, f"Null value not supported for : {', '.join(nulls)}"
        )
    normalized: dict[str, str] = {}
    for name, value in configs.items():
        definition = TOPIC_CONFIGS_BY_NAME.get(name)
        if definition is None:
            raise KafkaError(ErrorCode.invalid_config, f"Unknown topic config name: {name}")
        assert value is not None
        normalized[name] = normalize(definition, value)
    low = int(normalized.get("min.compaction.lag.ms", "0"))
    high = int(normalized.get("max.compaction.lag.ms", str(2**63 - 1)))
    if low > high:
        raise KafkaError(
            ErrorCode.invalid_config,
            f"conflict topic config setting min.compaction.lag.ms ({low}) >"
            f" max.compaction.lag.ms ({high})",
        )
    return normalized
