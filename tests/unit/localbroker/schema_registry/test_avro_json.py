"""Avro's JSON view of decoded records (avro_json.py): the places the schema says hold bytes are
converted, and the result equals the walk over the whole value it replaces."""

from __future__ import annotations

import io
import json

import pytest
from fastavro import schemaless_reader

from localbroker.schema_registry.formats.avro import AVRO, AvroSchema
from localbroker.schema_registry.formats.avro_json import json_view, to_json


def _record(*fields: tuple[str, object]) -> str:
    return json.dumps(
        {"type": "record", "name": "R", "fields": [{"name": n, "type": t} for n, t in fields]}
    )


NODE = {
    "type": "record",
    "name": "Node",
    "fields": [
        {"name": "payload", "type": "bytes"},
        {"name": "next", "type": ["null", "Node"], "default": None},
    ],
}

CASES = [
    (_record(("a", "bytes"), ("b", "string")), {"a": "\x00\xff", "b": "x"}),
    (
        _record(
            (
                "inner",
                {
                    "type": "record",
                    "name": "I",
                    "fields": [{"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}}],
                },
            )
        ),
        {"inner": {"f": "\x01\x02"}},
    ),
    (_record(("list", {"type": "array", "items": "bytes"})), {"list": ["\x00", "\xe9"]}),
    (_record(("map", {"type": "map", "values": "bytes"})), {"map": {"k": "\x80"}}),
    (_record(("maybe", ["null", "bytes"])), {"maybe": "\x7f"}),
    (_record(("maybe", ["null", "bytes"])), {"maybe": None}),
    (
        _record(("money", {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2})),
        {"money": "\x04\xd2"},
    ),
    (
        _record(("n", "long"), ("names", {"type": "array", "items": "string"})),
        {"n": 1, "names": ["a"]},
    ),
    (json.dumps(NODE), {"payload": "\x01", "next": {"payload": "\x02", "next": None}}),
    (
        _record(
            (
                "rows",
                {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Row",
                        "fields": [{"name": "b", "type": "bytes"}, {"name": "s", "type": "string"}],
                    },
                },
            )
        ),
        {"rows": [{"b": "\xaa", "s": "x"}, {"b": "", "s": "y"}]},
    ),
]


@pytest.mark.parametrize(("text", "value"), CASES)
def test_decode_equals_the_walk_over_the_whole_value(text: str, value: object) -> None:
    schema = AVRO.parse(text, {})
    assert isinstance(schema, AvroSchema)
    body = schema.encode(value)
    walked = to_json(schemaless_reader(io.BytesIO(body), schema._wire, None))
    assert schema.decode(body) == walked == value


def test_a_schema_without_bytes_needs_no_view() -> None:
    schema = AVRO.parse(CASES[7][0], {})
    assert isinstance(schema, AvroSchema)
    assert json_view(schema.resolved, schema.named) is None
