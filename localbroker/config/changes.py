"""What an AlterConfigs or IncrementalAlterConfigs request asks of one resource's overrides.

The broker checks and applies these on one broker; in cluster mode the broker checks them
against its own store and the active controller again against the metadata image, and
writes the result as ConfigRecords. One function per request kind, shared by both, so
they cannot disagree on what a SUBTRACT or a legacy replace means.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import AlterConfigOp, ConfigResourceType, ConfigType
from .definitions import BROKER_CONFIGS_BY_NAME, TOPIC_CONFIGS_BY_NAME, ConfigDef

_LIST_OPERATIONS = (AlterConfigOp.APPEND, AlterConfigOp.SUBTRACT)

Changes = Callable[[Mapping[str, str]], dict[str, str | None]]
"""A resource's current overrides in, the overrides it asks for out (None: no value)."""
ChangesFor = Callable[[Any, Mapping[str, ConfigDef]], Changes]
"""A request's configs for one resource (kio entries) and that resource's definitions in."""
DEFINITIONS: dict[ConfigResourceType, Mapping[str, ConfigDef]] = {
    ConfigResourceType.TOPIC: TOPIC_CONFIGS_BY_NAME,
    ConfigResourceType.BROKER: BROKER_CONFIGS_BY_NAME,
}
"""The configs each kind of resource has, by name."""


def _list_value(current: Mapping[str, str], definition: ConfigDef) -> list[str]:
    text = current.get(definition.name, definition.default or "")
    return [item for item in text.split(",") if item]


def incremental(configs: Any, definitions: Mapping[str, ConfigDef]) -> Changes:
    """A function turning current overrides into the new ones, per IncrementalAlterConfigs."""
    nulls = [
        c.name for c in configs if c.config_operation != AlterConfigOp.DELETE and c.value is None
    ]
    if nulls:
        raise KafkaError(
            ErrorCode.invalid_request, f"Null value not supported for : {', '.join(nulls)}"
        )
    for config in configs:
        if config.config_operation not in set(AlterConfigOp):
            raise KafkaError(
                ErrorCode.invalid_request,
                f"Unknown alter config operation {config.config_operation}",
            )
        if config.config_operation in _LIST_OPERATIONS:
            definition = definitions.get(config.name)
            if definition is None or definition.type != ConfigType.LIST:
                raise KafkaError(
                    ErrorCode.invalid_config,
                    f"Can't {AlterConfigOp(config.config_operation).name} to key {config.name}"
                    " because its type is not LIST.",
                )

    def apply(current: Mapping[str, str]) -> dict[str, str | None]:
        updated: dict[str, str | None] = dict(current)
        for config in configs:
            operation = config.config_operation
            if operation == AlterConfigOp.SET:
                updated[config.name] = config.value
            elif operation == AlterConfigOp.DELETE:
                updated.pop(config.name, None)
            else:
                definition = definitions[config.name]
                items = _list_value({k: v for k, v in updated.items() if v is not None}, definition)
                values = [v.strip() for v in config.value.split(",") if v.strip()]
                if operation == AlterConfigOp.APPEND:
                    items += [v for v in values if v not in items]
                else:
                    items = [item for item in items if item not in values]
                updated[config.name] = ",".join(items)
        return updated

    return apply


def replace(configs: Any, _definitions: Mapping[str, ConfigDef]) -> Changes:
    """AlterConfigs (legacy) replaces the whole set of overrides."""
    nulls = [c.name for c in configs if c.value is None]
    if nulls:
        raise KafkaError(
            ErrorCode.invalid_request, f"Null value not supported for : {', '.join(nulls)}"
        )
    return lambda current: {c.name: c.value for c in configs}
