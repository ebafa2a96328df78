"""Avro schema text as Avro's Java library and Confluent print it, from the resolved form
avro.py builds (full names; a named type defined where it first appears, named afterwards).

`java_to_string` is Avro's `Schema.toString(referencedSchemas, false)`, which is Confluent's
`AvroSchema.canonicalString()`: the text the registry stores. `confluent_normalized` is
Confluent's `AvroSchemaUtils.build` behind `AvroSchema.normalize()`: Avro's parsing canonical
form, keeping docs, aliases, defaults, field order, logical types and properties, sorted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

Json = Any
PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = ("record", "error", "enum", "fixed")
# Avro's Schema.SCHEMA_RESERVED and Field's FIELD_RESERVED: every other key is a property,
# kept in the order written (Java's props are a LinkedHashMap).
SCHEMA_RESERVED = {"doc", "fields", "items", "name", "namespace", "size", "symbols", "values"}
SCHEMA_RESERVED |= {"type", "aliases"}
_FIELD_RESERVED = {"default", "doc", "name", "order", "type", "aliases"}


def dumps(value: Json) -> str:
    """Compact JSON as Jackson writes it (non-ASCII left as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def space_of(full_name: str) -> str | None:
    return full_name.rpartition(".")[0] or None


def java_to_string(
    node: Json, named: Mapping[str, Json], known: set[str], space: str | None
) -> str:
    """`node` as Avro's Java `Schema.toString()` prints it: fixed key order, namespaces only
        where they change, a named type spelled out once and named afterwards. `known` starts with
    the full names of the references themselves (not of the types nested in them, which Java
    therefore spells out where the schema uses them)."""
    if isinstance(node, list):
        return "[" + ",".join(java_to_string(b, named, known, space) for b in node) + "]"
    if isinstance(node, str):
        if node in PRIMITIVES:
            return dumps(node)
        if node not in known:  # defined in a reference, so not yet written here
            return java_to_string(named[node], named, known, space)
        return dumps(_qualified(node, space))
    kind = node["type"]
    props = [f"{dumps(k)}:{dumps(v)}" for k, v in node.items() if k not in SCHEMA_RESERVED]
    if kind in PRIMITIVES:
        return "{" + ",".join([f'"type":{dumps(kind)}', *props]) + "}"
    if kind in ("array", "map"):
        key = "items" if kind == "array" else "values"
        inner = java_to_string(node[key], named, known, space)
        return "{" + ",".join([f'"type":"{kind}","{key}":{inner}', *props]) + "}"
    full = node["name"]
    if full in known:
        return dumps(_qualified(full, space))
    known.add(full)
    own_space = space_of(full)
    parts = [f'"type":{dumps(kind)}', f'"name":{dumps(full.rpartition(".")[2])}']
    if own_space != space:
        parts.append(f'"namespace":{dumps(own_space or "")}')
    if "doc" in node:
        parts.append(f'"doc":{dumps(node["doc"])}')
    if kind in ("record", "error"):
        fields = ",".join(_field_json(f, named, known, own_space) for f in node["fields"])
        parts.append(f'"fields":[{fields}]')
    elif kind == "enum":
        parts.append(f'"symbols":{dumps(node["symbols"])}')
        props = [p for p in props if not p.startswith('"default":')]
        if "default" in node:
            parts.append(f'"default":{dumps(node["default"])}')
    else:
        parts.append(f'"size":{dumps(node["size"])}')
    parts += props
    if node.get("aliases"):
        parts.append(f'"aliases":{dumps([_qualified(a, own_space) for a in node["aliases"]])}')
    return "{" + ",".join(parts) + "}"


def _field_json(
    field: dict[str, Json], named: Mapping[str, Json], known: set[str], space: str | None
) -> str:
    parts = [
        f'"name":{dumps(field["name"])}',
        f'"type":{java_to_string(field["type"], named, known, space)}',
    ]
    if "doc" in field:
        parts.append(f'"doc":{dumps(field["doc"])}')
    if "default" in field:
        parts.append(f'"default":{dumps(field["default"])}')
    order = str(field.get("order", "ascending")).lower()
    if order != "ascending":
        parts.append(f'"order":{dumps(order)}')
    if field.get("aliases"):
        parts.append(f'"aliases":{dumps(field["aliases"])}')
    parts += [f"{dumps(k)}:{dumps(v)}" for k, v in field.items() if k not in _FIELD_RESERVED]
    return "{" + ",".join(parts) + "}"


def _qualified(full: str, space: str | None) -> str:
    """Avro's `Name.getQualified`: the short name within its own namespace, unless it is
    spelled like a primitive type."""
    short = full.rpartition(".")[2]
    return short if space_of(full) == space and short not in PRIMITIVES else full


def confluent_normalized(node: Json, env: dict[str, str], named: Mapping[str, Json]) -> str:
    """Confluent's `AvroSchemaUtils.build` (Avro's parsing canonical form, keeping what
    Confluent keeps: full names, docs, sorted aliases, defaults, order, logical types and
    sorted properties); `env` holds the named types already written, as `"full.name"`."""
    if isinstance(node, list):
        return "[" + ",".join(confluent_normalized(b, env, named) for b in node) + "]"
    if isinstance(node, str):
        if node in PRIMITIVES:
            return dumps(node)
        return env.get(node) or confluent_normalized(named[node], env, named)
    kind = node["type"]
    reserved = SCHEMA_RESERVED | ({"default"} if kind == "enum" else set())
    props = [f"{dumps(k)}:{_sorted(node[k])}" for k in sorted(node) if k not in reserved]
    logical = _logical_props(node)
    if kind in ("array", "map"):
        key = "items" if kind == "array" else "values"
        inner = confluent_normalized(node[key], env, named)
        return "{" + ",".join([f'"type":"{kind}","{key}":{inner}', *logical, *props]) + "}"
    if kind in PRIMITIVES:
        return "{" + ",".join([f'"type":{dumps(kind)}', *logical, *props]) + "}"
    full = node["name"]
    if full in env:
        return env[full]
    env[full] = dumps(full)
    parts = [f'"name":{env[full]}', f'"type":{dumps(kind)}']
    if kind == "enum":
        parts.append(f'"symbols":{dumps(node["symbols"])}')
    elif kind == "fixed":
        parts.append(f'"size":{dumps(node["size"])}')
    else:
        fields = ",".join(_normalized_field(f, env, named) for f in node["fields"])
        parts.append(f'"fields":[{fields}]')
    parts += logical
    if node.get("doc"):
        parts.append(f'"doc":{dumps(node["doc"])}')
    if node.get("aliases"):
        parts.append(f'"aliases":{dumps(sorted(set(node["aliases"])))}')
    if kind == "enum" and "default" in node:
        parts.append(f'"default":{dumps(node["default"])}')
    return "{" + ",".join([*parts, *props]) + "}"


def _normalized_field(
    field: dict[str, Json], env: dict[str, str], named: Mapping[str, Json]
) -> str:
    """A field as Confluent's `setFieldProps` writes it: its order always (Java's enum
    constant name, e.g. ASCENDING), then doc, sorted aliases, default and sorted properties."""
    parts = [f'"name":{dumps(field["name"])}']
    parts.append(f'"type":{confluent_normalized(field["type"], env, named)}')
    parts.append(f'"order":{dumps(str(field.get("order", "ascending")).upper())}')
    if "doc" in field:
        parts.append(f'"doc":{dumps(field["doc"])}')
    if field.get("aliases"):
        parts.append(f'"aliases":{dumps(sorted(set(field["aliases"])))}')
    if "default" in field:
        default = _default_value(field["default"], field["type"], named)
        parts.append(f'"default":{_sorted(default)}')
    parts += [f"{dumps(k)}:{_sorted(field[k])}" for k in sorted(field) if k not in _FIELD_RESERVED]
    return "{" + ",".join(parts) + "}"


def _logical_props(node: dict[str, Json]) -> list[str]:
    """Confluent's `setLogicalProps`: the logical type, and a decimal's precision and scale
    (a zero scale left out)."""
    logical = node.get("logicalType")
    if not isinstance(logical, str):
        return []
    parts = [f'"logicalType":{dumps(logical)}']
    if logical == "decimal":
        parts.append(f'"precision":{dumps(node.get("precision"))}')
        if node.get("scale", 0) != 0:
            parts.append(f'"scale":{dumps(node["scale"])}')
    return parts


def _sorted(value: Json) -> str:
    """JSON as Confluent's `toJsonNode` writes a property or default: objects' keys sorted
    (its SortingNodeFactory)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _default_value(value: Json, node: Json, named: Mapping[str, Json]) -> Json:
    """Avro's `Field.defaultVal()` (JacksonUtils.toObject) as Confluent writes it back: an
    integral default of a float or double field becomes a float (`1` -> `1.0`), a union's
    default takes the first non-null branch it converts to."""
    node = named.get(node, node) if isinstance(node, str) else node
    if value is None:
        return None
    if isinstance(node, list):
        for branch in node:
            if branch != "null" and _default_value(value, branch, named) is not None:
                return _default_value(value, branch, named)
        return None
    kind = node if isinstance(node, str) else node["type"]
    if isinstance(value, int) and not isinstance(value, bool) and kind in ("float", "double"):
        return float(value)
    if isinstance(value, list) and kind == "array":
        return [_default_value(v, node["items"], named) for v in value]
    if isinstance(value, dict) and kind == "map":
        return {k: _default_value(v, node["values"], named) for k, v in value.items()}
    if isinstance(value, dict) and kind in ("record", "error"):
        types = {f["name"]: f["type"] for f in node["fields"]}
        return {
            k: _default_value(v, types[k], named) if k in types else v for k, v in value.items()
        }
    return value
