"""Example values drawn for each schema format: for many seeds, every value passes the format's
own encode (the validity check), decodes back, and what it decodes to encodes
and decodes again unchanged (bytes may differ: a Protobuf map is written in any order)."""

from __future__ import annotations

import json
from random import Random

import pytest

from localbroker.public import ParsedSchema, SchemaType, example_value, schema_format

SEEDS = range(200)
AVRO = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "email", "type": "string"},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "prices", "type": {"type": "map", "values": "double"}},
        {"name": "note", "type": ["null", "string", "int"]},
        {"name": "weight", "type": "float"},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ref", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "blob", "type": "bytes"},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        },
        {"name": "paid", "type": "boolean"},
        {"name": "next", "type": ["null", "Order"]},
    ],
}
PROTOBUF = """
syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  enum Status { NEW = 0; PAID = 1; }
  message Line { string item = 1; uint32 count = 2; }
  int64 id = 1;
  string email = 2;
  Status status = 3;
  repeated Line lines = 4;
  map<string, double> prices = 5;
  map<bool, sint32> flags = 6;
  oneof contact { string phone = 7; string address = 8; }
  bytes blob = 9;
  float weight = 10;
  google.protobuf.Timestamp at = 11;
  Order parent = 12;
  fixed64 serial = 13;
  bool paid = 14;
}
"""
JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "definitions": {"Line": {"type": "object", "properties": {"item": {"type": "string"}}}},
    "properties": {
        "id": {"type": "integer", "minimum": 1, "maximum": 99},
        "email": {"type": "string", "format": "email"},
        "code": {"type": "string", "minLength": 3, "maxLength": 5},
        "status": {"enum": ["NEW", "PAID"]},
        "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
        "at": {"type": "string", "format": "date-time"},
        "lines": {"type": "array", "items": {"$ref": "#/definitions/Line"}, "minItems": 1},
        "note": {"type": ["string", "null"]},
        "either": {"oneOf": [{"type": "boolean"}, {"type": "integer", "multipleOf": 7}]},
        "kind": {"const": "order"},
    },
    "required": ["id", "email", "lines"],
    "additionalProperties": False,
}
SCHEMAS = {
    SchemaType.AVRO: json.dumps(AVRO),
    SchemaType.PROTOBUF: PROTOBUF,
    SchemaType.JSON: json.dumps(JSON_SCHEMA),
}


@pytest.fixture(scope="module", params=list(SCHEMAS))
def parsed(request: pytest.FixtureRequest) -> ParsedSchema:
    schema_type: SchemaType = request.param
    return schema_format(schema_type).parse(SCHEMAS[schema_type], {})


def test_every_drawn_value_encodes_and_decodes_back(parsed: ParsedSchema) -> None:
    for seed in SEEDS:
        value = example_value(parsed, Random(seed))
        decoded = parsed.decode(parsed.encode(value))  # encode raises for an invalid value
        assert parsed.decode(parsed.encode(decoded)) == decoded, (seed, value)


def test_a_seed_gives_the_same_value_and_seeds_differ(parsed: ParsedSchema) -> None:
    assert example_value(parsed, Random(7)) == example_value(parsed, Random(7))
    drawn = {json.dumps(example_value(parsed, Random(seed)), sort_keys=True) for seed in SEEDS}
    assert len(drawn) > len(SEEDS) // 2


def test_values_are_plausible_for_their_fields() -> None:
    avro = schema_format(SchemaType.AVRO).parse(json.dumps(AVRO), {})
    order = example_value(avro, Random(1))
    assert isinstance(order, dict)
    assert order["email"].endswith("@example.com")
    assert order["status"] in ("NEW", "PAID")
    assert len(order["digest"]) == 4
    document = schema_format(SchemaType.JSON).parse(json.dumps(JSON_SCHEMA), {})
    values = [example_value(document, Random(seed)) for seed in SEEDS]
    assert all(isinstance(v, dict) and 1 <= v["id"] <= 99 for v in values)
    assert all(isinstance(v, dict) and 3 <= len(v["code"]) <= 5 for v in values)
