"""Whatever schema text a client registers and whatever value a pane encodes, the JSON Schema
format answers with InvalidSchema, a list of incompatibilities, or UndecodableRecord: never
another exception, which the registry would turn into a 500 and a pane into a crash.

Random schemas mix the keywords Confluent's diff and jsonschema's validators treat specially
(content models, tuple items, combinations, local $refs, a nested $schema of another draft).
A longer run of the same checks found the crashes the format's history names.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from localbroker.schema_registry.formats.json_schema import JSON_SCHEMA
from localbroker.schema_registry.schema_format import (
    InvalidSchema,
    ParsedSchema,
    UndecodableRecord,
)

NAMES = st.sampled_from(["a", "b", "c"])
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**20) | st.sampled_from([0.5, 2.5]) | NAMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=6,
)
TYPES = st.sampled_from(["string", "integer", "number", "object", "array", "boolean", "null"])
DIALECTS = st.sampled_from(
    [
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-07/schema#",
        "https://json-schema.org/draft/2019-09/schema",
        "https://json-schema.org/draft/2020-12/schema",
    ]
)


def schema_objects(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    some = st.lists(children, min_size=1, max_size=2)
    named = st.dictionaries(NAMES, children, max_size=3)
    return st.fixed_dictionaries(
        {},
        optional={
            "type": TYPES | st.lists(TYPES, min_size=1, max_size=2, unique=True),
            "properties": named,
            "patternProperties": named,
            "required": st.lists(NAMES, max_size=3, unique=True),
            "additionalProperties": children,
            "unevaluatedProperties": children,
            "dependencies": st.dictionaries(NAMES, children | st.lists(NAMES, max_size=2)),
            "items": children | some,
            "prefixItems": some,
            "additionalItems": children,
            "contains": children,
            "minContains": st.integers(0, 3),
            "maxItems": st.integers(0, 3),
            "enum": st.lists(VALUES, min_size=1, max_size=3),
            "const": VALUES,
            "default": VALUES,
            "allOf": some,
            "anyOf": some,
            "oneOf": some,
            "not": children,
            "maxLength": st.integers(0, 5),
            "minimum": st.integers(-3, 3) | st.sampled_from([0.5, 2.5]),
            "multipleOf": st.sampled_from([0.5, 2, 3]),
            "$ref": st.sampled_from(
                ["#", "#/properties/a", "#/definitions/a", "#/$defs/b", "http://example.com/b.json"]
            ),
            "definitions": named,
            "$defs": named,
            "$schema": DIALECTS,
        },
    )


SCHEMAS = st.recursive(st.booleans() | st.just({}), schema_objects, max_leaves=12)


def parsed(schema: object) -> ParsedSchema | None:
    try:
        return JSON_SCHEMA.parse(json.dumps(schema), {})
    except InvalidSchema:
        return None


@settings(max_examples=150, deadline=None)
@given(SCHEMAS, SCHEMAS, VALUES)
def test_parse_compare_and_encode_never_raise_anything_else(
    first: object, second: object, value: object
) -> None:
    schemas = [schema for schema in map(parsed, (first, second)) if schema is not None]
    for schema in schemas:
        assert json.loads(schema.canonical()) == json.loads(schema.normalized())
        for other in schemas:
            JSON_SCHEMA.incompatibilities(schema, other)
        try:
            body = schema.encode(value)
        except UndecodableRecord:
            continue
        assert schema.decode(body) == value
