"""Parsing and validating config values the way Kafka's ConfigDef does, with its messages."""

from __future__ import annotations

import re

from ..errors import KafkaError
from .definitions import ConfigDef

_RANGE = re.compile(r"^\[(-?[\d.]+),\.\.\.(?:,(-?[\d.]+))?\](?: or (-?\d+))?$")
_CHOICES = re.compile(r"^\[([A-Za-z][\w.\-]*(?:, [A-Za-z][\w.\-]*)*)\]$")
_BOUNDS = {"SHORT": 2**15, "INT": 2**31, "LONG": 2**63}


def invalid(name: str, value: object, reason: str) -> KafkaError:
    return KafkaError("invalid_config", f"Invalid value {value} for configuration {name}: {reason}")


def _number(definition: ConfigDef, text: str) -> int | float:
    try:
        if definition.type == "DOUBLE":
            return float(text)
        number = int(text)
    except ValueError:
        raise invalid(definition.name, text, f"Not a number of type {definition.type}") from None
    bound = _BOUNDS[definition.type]
    if not -bound <= number < bound:
        raise invalid(definition.name, text, f"Not a number of type {definition.type}")
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
    if kind == "BOOLEAN":
        if text.lower() not in ("true", "false"):
            raise invalid(definition.name, text, "Expected value to be either true or false")
        return text.lower()
    if kind in ("SHORT", "INT", "LONG", "DOUBLE"):
        number = _number(definition, text)
        _check_range(definition, number)
        return str(number)
    choices = _choices(definition)
    if kind == "LIST":
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
