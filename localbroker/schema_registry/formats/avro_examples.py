"""Example values of an Avro schema (see examples.py): records, enums, arrays, maps, unions,
fixed and bytes (as Avro's JSON shows them: one character per byte), logical types as the
values under them (a date as its day number), since that is what `AvroSchema.encode` takes."""

from __future__ import annotations

from collections.abc import Mapping
from random import Random

from .avro import AvroSchema
from .avro_text import Json
from .examples import MAX_DEPTH, MAX_ITEMS, fraction, moment, text_for, uuid_text, whole


def avro_value(schema: AvroSchema, rng: Random) -> object:
    return _value(schema.resolved, schema.named, rng, "value", 0)


def _value(node: Json, named: Mapping[str, Json], rng: Random, name: str, depth: int) -> object:
    if isinstance(node, str) and node in named:
        node = named[node]
    if isinstance(node, list):
        return _union(node, named, rng, name, depth)
    if isinstance(node, str):
        return _primitive(node, None, rng, name)
    assert isinstance(node, dict)
    kind = node["type"]
    if kind in ("record", "error"):
        return {
            f["name"]: _value(f["type"], named, rng, f["name"], depth + 1) for f in node["fields"]
        }
    if kind == "enum":
        return rng.choice(node["symbols"])
    if kind == "array":
        count = 0 if depth >= MAX_DEPTH else rng.randint(0, MAX_ITEMS)
        return [_value(node["items"], named, rng, name, depth + 1) for _ in range(count)]
    if kind == "map":
        count = 0 if depth >= MAX_DEPTH else rng.randint(0, MAX_ITEMS)
        return {
            f"{name}-{i}": _value(node["values"], named, rng, name, depth + 1) for i in range(count)
        }
    if kind == "fixed":
        return _latin1(rng, int(node["size"]))
    return _primitive(kind, node.get("logicalType"), rng, name)


def _union(
    branches: list[Json], named: Mapping[str, Json], rng: Random, name: str, depth: int
) -> object:
    """A random branch's value; null when nested deep (a recursive type ends there)."""
    if depth >= MAX_DEPTH and "null" in branches:
        return None
    return _value(rng.choice(branches), named, rng, name, depth)


def _primitive(kind: str, logical: object, rng: Random, name: str) -> object:
    millis = int(moment(rng).timestamp() * 1000)
    by_logical: dict[object, object] = {
        "date": millis // 86_400_000,
        "time-millis": millis % 86_400_000,
        "time-micros": (millis % 86_400_000) * 1000,
        "timestamp-millis": millis,
        "local-timestamp-millis": millis,
        "timestamp-micros": millis * 1000,
        "local-timestamp-micros": millis * 1000,
        "uuid": uuid_text(rng),
    }
    if logical in by_logical and kind in ("int", "long", "string"):
        return by_logical[logical]
    match kind:
        case "null":
            return None
        case "boolean":
            return rng.random() < 0.5
        case "int" | "long":
            return whole(rng)
        case "float" | "double":
            return fraction(rng)
        case "bytes":
            return _latin1(rng, rng.randint(1, 8))
        case _:
            return text_for(name, rng)


def _latin1(rng: Random, size: int) -> str:
    return rng.randbytes(size).decode("latin-1")
