"""Example values of a JSON schema (see examples.py), from the model the registry loads it into
(json_schema_model.py, its `$ref`s resolved): objects with every property, strings of the
`format` or length asked, numbers within minimum and maximum, enum and const values, arrays of
minItems up to a few items, one branch of anyOf/oneOf.

JSON Schema can say far more than that (patterns, allOf of several types, if/then/else ...),
so a value is checked with the schema's own validator and, when it fails, another is drawn:
ATTEMPTS of them, then ExampleUnavailable names the schema's first problem with the last."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random
from typing import Any

from .examples import MAX_DEPTH, MAX_ITEMS, moment, text_for, uuid_text
from .json_schema import JsonSchema
from .json_schema_model import Kind, Node

ATTEMPTS = 20


class ExampleUnavailable(ValueError):
    """No value drawn for the schema passed its validation (the message says why the last one
    did not)."""


def json_value(schema: JsonSchema, rng: Random) -> object:
    problem = ""
    for _ in range(ATTEMPTS):
        value = _value(schema.model, rng, "value", 0)
        found = schema.errors(value)
        if found is None:
            return value
        problem = found
    raise ExampleUnavailable(f"no example value fits this schema: {problem}")


def _value(node: Node, rng: Random, name: str, depth: int) -> object:
    raw = node.raw
    if "const" in raw:
        return raw["const"]
    if isinstance(raw.get("enum"), list) and raw["enum"]:
        return rng.choice(raw["enum"])
    match node.kind:
        case Kind.COMBINED:
            branches = [s for s in node.subschemas if s.kind is not Kind.NULL] or node.subschemas
            chosen = branches[0] if node.criterion == "allOf" else rng.choice(branches)
            return _value(chosen, rng, name, depth)
        case Kind.OBJECT:
            if depth >= MAX_DEPTH:
                return {}
            return {k: _value(v, rng, k, depth + 1) for k, v in node.properties.items()}
        case Kind.ARRAY:
            return _array(node, rng, name, depth)
        case Kind.STRING:
            return _string(raw, rng, name)
        case Kind.NUMBER:
            return _number(raw, rng, node.integer)
        case Kind.BOOLEAN:
            return rng.random() < 0.5
        case Kind.NULL:
            return None
        case _:  # any value (true, {}), or a kind made of what it is not
            return text_for(name, rng)


def _array(node: Node, rng: Random, name: str, depth: int) -> list[object]:
    if node.item_list:
        return [_value(item, rng, name, depth + 1) for item in node.item_list]
    least = int(node.raw.get("minItems", 0))
    most = max(least, min(int(node.raw.get("maxItems", MAX_ITEMS)), MAX_ITEMS))
    count = least if depth >= MAX_DEPTH else rng.randint(least, most)
    if node.items is None:
        return [text_for(name, rng) for _ in range(count)]
    return [_value(node.items, rng, name, depth + 1) for _ in range(count)]


def _string(raw: Mapping[str, Any], rng: Random, name: str) -> str:
    when = moment(rng)
    by_format = {
        "date-time": when.isoformat().replace("+00:00", "Z"),
        "date": when.date().isoformat(),
        "time": when.time().isoformat(timespec="seconds") + "Z",
        "email": f"{text_for('name', rng).lower()}@example.com",
        "uuid": uuid_text(rng),
        "uri": f"https://example.com/{text_for(name, rng)}",
        "hostname": "broker.example.com",
        "ipv4": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
        "duration": f"PT{rng.randint(1, 3600)}S",
    }
    text = str(by_format.get(str(raw.get("format")), text_for(name, rng)))
    least = int(raw.get("minLength", 0))
    most = int(raw.get("maxLength", max(len(text), least)))
    return (text + "x" * least)[: max(least, min(len(text), most))]


def _number(raw: Mapping[str, Any], rng: Random, integer: bool) -> int | float:
    low = raw.get("minimum", raw.get("exclusiveMinimum"))
    high = raw.get("maximum", raw.get("exclusiveMaximum"))
    low = 0 if not isinstance(low, int | float) or isinstance(low, bool) else low
    high = low + 10_000 if not isinstance(high, int | float) or isinstance(high, bool) else high
    if integer:
        return rng.randint(int(low) + 1, int(high) - 1) if high - low > 2 else int(low)
    value = low + (high - low) * rng.random()
    return round(value, 2) if low < round(value, 2) < high else value
