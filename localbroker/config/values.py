"""Parsing and validating config values the way Kafka's ConfigDef does, with its messages."""

from __future__ import annotations

import re

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import ConfigType
from .definitions import ConfigDef

_RANGE = re.compile(r"^\[(-?[\d.]+),\.\.\.(?:,(-?[\d.]+))?\](?: or (-?\d+))?$")
_CHOICES = re.compile(r"^\[([A-Za-z][\w.\-]*(?:, [A-Za-z][\w.\-]*)*)\]$")
_BOUNDS = {ConfigType.SHORT: 2**15, ConfigType.INT: 2**31, ConfigType.LONG: 2**63}
_NUMBERS = (*_BOUNDS, ConfigType.DOUBLE)


def invalid(name: str, value: object, reason: str) -> KafkaError:
    return KafkaError(
        ErrorCode.invalid_config, f"Invalid value {value} for configuration {name}: {reason}"
    )


def _number(definition: ConfigDef, text: str) -> int | float:
    try:
        if definition.type == ConfigType.DOUBLE:
            return float(text)
        number = int(text)
    except ValueError:
        raise invalid(
            definition.name, text, f"Not a number of type {definition.type.name}"
        ) from None
    bound = _BOUNDS[definition.type]
    if not -bound <= number < bound:
        raise invalid(definition.name, text, f"Not a number of type {definition.type.name}")
    return number


def _check_range(definition: ConfigDef, number: int | float) -> None:
    match = _RANGE.match(definition.valid or "")
    if not match:
        return
    low, high, alternative = match.groups()
    if alternative is not None and number == float(alternative):
        return
    if number < float(low):
        if alternative is not None:
            raise invalid(
                definition.name,
                number,
                f"Value must be between {low} and {high} or equal to {alternative}",
            )
        raise invalid(definition.name, number, f"Value must be at least {low}")
    if high is not None and number > float(high):
        raise invalid(definition.name, number, f"Value must be no more than {high}")


def _choices(definition: ConfigDef) -> list[str] | None:
    match = _CHOICES.match(definition.valid or "")
    return match.group(1).split(", ") if match else None


def normalize(definition: ConfigDef, value: str) -> str:
    """The canonical string form of `value`, or KafkaError(INVALID_CONFIG) with Kafka's reason."""
    text = value.strip()
    kind = definition.type
    if kind == ConfigType.BOOLEAN:
        if text.lower() not in ("true", "false"):
            raise invalid(definition.name, text, "Expected value to be either true or false")
        return text.lower()
    if kind in _NUMBERS:
        number = _number(definition, text)
        _check_range(definition, number)
        return str(number)
    choices = _choices(definition)
    if kind == ConfigType.LIST:
        items = [item.strip() for item in text.split(",") if item.strip()]
        if choices is not None:
            for item in items:
                if item not in choices:
                    raise invalid(
                        definition.name, item, f"String must be one of: {', '.join(choices)}"
                    )
        return ",".join(items)
    if choices is not None and text not in choices:
        raise invalid(definition.name, text, f"String must be one of: {', '.join(choices)}")
    return text
