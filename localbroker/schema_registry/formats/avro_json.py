"""A record fastavro decoded, as Avro's JSON encoding shows it: bytes and fixed values become
strings of one character per byte (ISO-8859-1); every other value already is its JSON.

Walking the whole decoded value to find the bytes cost as much as fastavro's decoding itself,
so `json_view` reads the schema once instead and returns a function that visits only the
places where bytes can be: nothing at all for a schema without bytes or fixed, the one field
of a record that has them. A union holding bytes, or a named type inside itself, falls back to
the whole walk below that point (`to_json`), which needs no schema: once logical types are gone
(avro.py decodes their underlying values) nothing but bytes and fixed decode to `bytes`.
`from_json` goes the other way, for encoding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from localbroker.schema_registry.formats.avro_text import Json

View = Callable[[object], object]
"""A decoded value of one schema node to its JSON form (it may change the value in place)."""


def json_view(node: Json, named: Mapping[str, Json]) -> View | None:
    """The view of values of `node`; None when they are their own JSON."""
    return _view(node, named, frozenset())


def to_json(value: object) -> object:
    """The whole decoded `value` walked: bytes wherever they are."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def _view(node: Json, named: Mapping[str, Json], within: frozenset[str]) -> View | None:
    if isinstance(node, str) and node in named:
        if node in within:  # a type inside itself
            return to_json
        return _view(named[node], named, within | {node})
    if isinstance(node, list):
        has_bytes = any(_view(branch, named, within) is not None for branch in node)
        return to_json if has_bytes else None
    kind = node if isinstance(node, str) else node["type"]
    if kind in ("bytes", "fixed"):
        return _latin1
    if not isinstance(node, dict):
        return None
    if kind in ("record", "error"):
        within = within | {node["name"]}
        views = [(f["name"], _view(f["type"], named, within)) for f in node["fields"]]
        return _record_view([(name, view) for name, view in views if view is not None])
    if kind == "array":
        items = _view(node["items"], named, within)
        return None if items is None else lambda values: [items(v) for v in values]  # type: ignore[attr-defined]
    if kind == "map":
        values = _view(node["values"], named, within)
        return (
            None if values is None else lambda entries: {k: values(v) for k, v in entries.items()}  # type: ignore[attr-defined]
        )
    return None


def _record_view(views: list[tuple[str, View]]) -> View | None:
    if not views:
        return None

    def view(record: object) -> object:
        assert isinstance(record, dict)
        for name, field_view in views:
            record[name] = field_view(record[name])
        return record

    return view


def _latin1(value: object) -> object:
    assert isinstance(value, bytes)
    return value.decode("latin-1")


def from_json(value: object, node: Json, named: Mapping[str, Json]) -> object:
    """`value` (JSON, as `json_view` gives it) with strings turned back into bytes where the
    schema has bytes or fixed; a union takes the first branch the value fits, as fastavro's
    writer then does."""
    node = named.get(node, node) if isinstance(node, str) else node
    if isinstance(node, list):
        branch = next((b for b in node if _fits(value, b, named)), None)
        return value if branch is None else from_json(value, branch, named)
    kind = node if isinstance(node, str) else node["type"]
    if kind in ("bytes", "fixed") and isinstance(value, str):
        try:
            return value.encode("latin-1")
        except UnicodeEncodeError:
            return value  # left for fastavro's validation to name
    if kind in ("record", "error") and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in node["fields"]}
        return {k: from_json(v, fields[k], named) if k in fields else v for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [from_json(v, node["items"], named) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: from_json(v, node["values"], named) for k, v in value.items()}
    return value


_FITS: dict[str, type | tuple[type, ...]] = {
    "boolean": bool,
    "int": int,
    "long": int,
    "float": (int, float),
    "double": (int, float),
    "string": str,
    "bytes": (str, bytes),
    "fixed": (str, bytes),
    "enum": str,
    "array": list,
    "map": dict,
    "record": dict,
    "error": dict,
}


def _fits(value: object, node: Json, named: Mapping[str, Json]) -> bool:
    node = named.get(node, node) if isinstance(node, str) else node
    kind = node if isinstance(node, str) else node["type"]
    if kind == "null":
        return value is None
    if isinstance(value, bool) and kind != "boolean":
        return False
    if kind == "enum":
        return isinstance(value, str) and value in node["symbols"]
    if kind == "fixed" and isinstance(value, str | bytes):
        return len(value) == int(node["size"])
    if kind in ("record", "error") and isinstance(value, dict):
        # Only fields of its own: in Avro's JSON encoding a union's branches are records of
        # one field each (avro_json_encoding.py), told apart by that field's name.
        return value.keys() <= {f["name"] for f in node["fields"]}
    return isinstance(value, _FITS[kind])
