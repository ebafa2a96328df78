"""A record fastavro decoded, as Avro's JSON encoding shows it: bytes and fixed values become
strings of one character per byte (ISO-8859-1); every other value already is its JSON.

Walking the whole decoded value to find the bytes cost as much as fastavro's decoding itself,
so `json_view` reads the schema once instead and returns a function that visits only the
places where bytes can be: nothing at all for a schema without bytes or fixed, the one field
of a record that has them. A union holding bytes, or a named type inside itself, falls back to
the whole walk below that point (`to_json`), which needs no schema: once logical types are gone
(avro.py decodes their underlying values) nothing but bytes and fixed decode to `bytes`.
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
