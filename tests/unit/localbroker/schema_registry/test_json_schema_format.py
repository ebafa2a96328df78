"""The registry's JSON Schema format: parsing, Confluent's canonical text, records, compatibility.

The evolution table gives Confluent's verdict for each change in both directions. BACKWARD asks
whether the new schema reads what the old one wrote: Confluent's SchemaDiff compares
original=old with update=new; FORWARD the reverse. Each row names the Difference.Type found and
whether it makes the change incompatible under the registry's default STRICT policy, from
json-schema-provider's diff/ObjectSchemaDiff.java, StringSchemaDiff.java, NumberSchemaDiff.java,
EnumSchemaDiff.java, CombinedSchemaDiff.java and SchemaDiff.COMPATIBLE_CHANGES_STRICT; where
Confluent's own test corpus (src/test/resources/diff-schema-examples.json) has the case, its
description is quoted.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from confluent_kafka.schema_registry._sync.mock_schema_registry_client import (
    MockSchemaRegistryClient,
)
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from localbroker.schema_registry.formats.json_schema import JSON_SCHEMA, JsonSchema
from localbroker.schema_registry.formats.json_schema_compatibility import differences
from localbroker.schema_registry.schema_format import (
    InvalidSchema,
    ParsedSchema,
    SchemaType,
    UndecodableRecord,
)

STRING = {"type": "string"}


def record(properties: dict[str, Any], **keywords: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **keywords}


def parse(schema: object, references: dict[str, str] | None = None) -> ParsedSchema:
    return JSON_SCHEMA.parse(json.dumps(schema), references or {})


def judged(reader: object, writer: object) -> list[str]:
    """Every Difference.Type between `writer` (Confluent's original) and `reader` (its
    update), those that make the registry refuse the change marked with "!"."""
    reading, writing = parse(reader), parse(writer)
    assert isinstance(reading, JsonSchema) and isinstance(writing, JsonSchema)
    lines = JSON_SCHEMA.incompatibilities(reading, writing)
    refused = {line.split('"')[1] for line in lines}
    found = [kind for kind, _ in differences(writing.model, reading.model)]
    assert refused <= set(found)
    return [f"!{kind}" if kind in refused else kind for kind in found]


CLOSED = {"additionalProperties": False}
WITH_DEFAULT = {"type": "string", "default": "x"}

# (change, old schema, new schema, BACKWARD difference, FORWARD difference); "!" marks a
# difference outside COMPATIBLE_CHANGES_STRICT, for which the registry refuses the change.
EVOLUTIONS: list[tuple[str, object, object, str, str]] = [
    # "Detect property added to open content model": incompatible under STRICT, since the old
    # open model let writers put anything under the new name.
    (
        "property added to an open content model",
        record({"a": STRING}),
        record({"a": STRING, "b": STRING}),
        "!OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    ),
    # "Detect optional property added to closed content model"
    (
        "property added to a closed content model",
        record({"a": STRING}, **CLOSED),
        record({"a": STRING, "b": STRING}, **CLOSED),
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "!PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    ),
    (
        "property removed from an open content model",
        record({"a": STRING, "b": STRING}),
        record({"a": STRING}),
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "!OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    ),
    (
        "property removed from a closed content model",
        record({"a": STRING, "b": STRING}, **CLOSED),
        record({"a": STRING}, **CLOSED),
        "!PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
    ),
    (
        "required property without default added to a closed content model",
        record({"a": STRING}, **CLOSED),
        record({"a": STRING, "b": STRING}, required=["b"], **CLOSED),
        "!REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "!PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    ),
    (
        "required property with default added to a closed content model",
        record({"a": STRING}, **CLOSED),
        record({"a": STRING, "b": WITH_DEFAULT}, required=["b"], **CLOSED),
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "!PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
    ),
    (
        "required property without default added to an open content model",
        record({"a": STRING}),
        record({"a": STRING, "b": STRING}, required=["b"]),
        "!REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    ),
    # Compatible only under the LENIENT policy.
    (
        "required property with default added to an open content model",
        record({"a": STRING}),
        record({"a": STRING, "b": WITH_DEFAULT}, required=["b"]),
        "!REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
    ),
    (
        "existing property made required, without default",
        record({"a": STRING}, **CLOSED),
        record({"a": STRING}, required=["a"], **CLOSED),
        "!REQUIRED_ATTRIBUTE_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
    ),
    # "Detect removed boolean additional properties" / "Detect added boolean additional
    # properties"
    (
        "additionalProperties true -> false",
        record({"a": STRING}, additionalProperties=True),
        record({"a": STRING}, **CLOSED),
        "!ADDITIONAL_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
    ),
    (
        "additionalProperties false -> true",
        record({"a": STRING}, **CLOSED),
        record({"a": STRING}, additionalProperties=True),
        "ADDITIONAL_PROPERTIES_ADDED",
        "!ADDITIONAL_PROPERTIES_REMOVED",
    ),
    # "Detect extended change to number schema" / "Detect narrowed change to number schema"
    (
        "type widened, integer -> number",
        record({"n": {"type": "integer"}}),
        record({"n": {"type": "number"}}),
        "TYPE_EXTENDED",
        "!TYPE_NARROWED",
    ),
    (
        "type narrowed, number -> integer",
        record({"n": {"type": "number"}}),
        record({"n": {"type": "integer"}}),
        "!TYPE_NARROWED",
        "TYPE_EXTENDED",
    ),
    (
        "enum value added",
        record({"c": {"enum": ["red", "green"]}}),
        record({"c": {"enum": ["red", "green", "blue"]}}),
        "ENUM_ARRAY_EXTENDED",
        "!ENUM_ARRAY_NARROWED",
    ),
    (
        "enum value removed",
        record({"c": {"enum": ["red", "green"]}}),
        record({"c": {"enum": ["red"]}}),
        "!ENUM_ARRAY_NARROWED",
        "ENUM_ARRAY_EXTENDED",
    ),
    # Everit loads `type` beside `enum` as a synthetic allOf; a narrowed enum then leaves the
    # branches unmatched ("Detect incompatible changes to enum schema").
    (
        "enum value removed beside a type",
        record({"c": {"type": "string", "enum": ["red", "green"]}}),
        record({"c": {"type": "string", "enum": ["red"]}}),
        "!COMBINED_TYPE_SUBSCHEMAS_CHANGED",
        "ENUM_ARRAY_EXTENDED",
    ),
    (
        "maxLength added",
        record({"s": STRING}),
        record({"s": {"type": "string", "maxLength": 10}}),
        "!MAX_LENGTH_ADDED",
        "MAX_LENGTH_REMOVED",
    ),
    # "Detect increased maxLength string schema" / "Detect decreased maxLength string schema"
    (
        "maxLength increased",
        record({"s": {"type": "string", "maxLength": 10}}),
        record({"s": {"type": "string", "maxLength": 20}}),
        "MAX_LENGTH_INCREASED",
        "!MAX_LENGTH_DECREASED",
    ),
    (
        "maxLength decreased",
        record({"s": {"type": "string", "maxLength": 20}}),
        record({"s": {"type": "string", "maxLength": 10}}),
        "!MAX_LENGTH_DECREASED",
        "MAX_LENGTH_INCREASED",
    ),
    # "Detect change type of properties"
    (
        "string -> integer",
        record({"v": STRING}),
        record({"v": {"type": "integer"}}),
        "!TYPE_CHANGED",
        "!TYPE_CHANGED",
    ),
    # SchemaDiff.compareTypes: a plain schema that one branch of the update's anyOf covers.
    (
        "string -> string or null",
        record({"v": STRING}),
        record({"v": {"type": ["string", "null"]}}),
        "SUM_TYPE_EXTENDED",
        "!TYPE_CHANGED",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "backward", "forward"),
    [pytest.param(*row[1:], id=row[0]) for row in EVOLUTIONS],
)
def test_evolutions_are_judged_as_confluent_judges_them(
    old: object, new: object, backward: str, forward: str
) -> None:
    assert judged(reader=new, writer=old) == [backward]
    assert judged(reader=old, writer=new) == [forward]


DRAFT_2020_12 = {"$schema": "https://json-schema.org/draft/2020-12/schema"}


@pytest.mark.parametrize(
    ("old", "new", "backward"),
    [
        pytest.param(
            record({"a": STRING, "b": STRING}, unevaluatedProperties=False),
            record({"a": STRING}, unevaluatedProperties=False),
            ["!PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"],
            id="unevaluatedProperties false closes the content model",
        ),
        pytest.param(
            {"type": "array", "prefixItems": [STRING], "items": False},
            {"type": "array", "prefixItems": [STRING, STRING], "items": False},
            ["ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"],
            id="prefixItems are draft 7's tuple items, items false closes them",
        ),
        pytest.param(
            {"type": "array", "contains": STRING},
            {"type": "array", "contains": STRING, "minContains": 2},
            ["!MIN_CONTAINS_INCREASED"],
            id="contains has a minContains of 1 unless written",
        ),
    ],
)
def test_2020_12_keywords_map_onto_draft_7s_as_confluent_translates_them(
    old: dict[str, Any], new: dict[str, Any], backward: list[str]
) -> None:
    assert judged(reader=DRAFT_2020_12 | new, writer=DRAFT_2020_12 | old) == backward


def test_a_bound_that_is_not_a_number_is_no_bound() -> None:
    """Draft 7's metaschema does not know minContains, so any value passes it; Confluent reads
    the keyword only when it holds a number."""
    assert judged(
        reader={"type": "array", "minContains": 3}, writer={"type": "array", "minContains": "x"}
    ) == ["!MIN_CONTAINS_ADDED"]


def test_an_incompatibility_is_worded_as_confluent_words_it() -> None:
    (line,) = JSON_SCHEMA.incompatibilities(
        parse(record({"v": {"type": "integer"}})), parse(record({"v": STRING}))
    )
    assert line == (
        '{errorType:"TYPE_CHANGED", description:"A type at path \'#/properties/v\' is different'
        " between the %s schema and the %s schema'}"
    )


def test_a_recursive_schema_is_compared_through_its_cycle() -> None:
    def node(value_type: str) -> dict[str, Any]:
        return record({"next": {"$ref": "#"}, "value": {"type": value_type}})

    assert judged(reader=node("integer"), writer=node("integer")) == []
    assert judged(reader=node("integer"), writer=node("number")) == ["!TYPE_NARROWED"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"type": "object",}', "Invalid JSON in schema at line 1 column 19"),
        ('{"type": "strin"}', "Invalid schema at $.type: 'strin' is not valid"),
        ('{"properties": {"a": {"maxLength": -1}}}', "Invalid schema at $.properties.a.maxLength"),
        ('{"$ref": "missing.json"}', "cannot resolve $ref 'missing.json'"),
        # Everit loads contains, propertyNames and if/then/else too, so their refs must resolve.
        ('{"contains": {"$ref": "#/properties/a"}}', "at #/contains: cannot resolve $ref"),
        ('{"if": {"$ref": "#/nope"}, "then": {}}', "at #/if: cannot resolve $ref '#/nope'"),
        # Looking the reference up crawls every subschema, and one that is no schema under a
        # nested `$schema` (a boolean in draft 4, a list of items in 2020-12) threw there.
        (
            '{"definitions": {"a": {"$schema": "http://json-schema.org/draft-04/schema#",'
            ' "properties": {"x": true}}}, "items": {"$ref": "http://example.com/b.json"}}',
            "cannot resolve $ref 'http://example.com/b.json'",
        ),
        (
            '{"definitions": {"a": {"$schema": "https://json-schema.org/draft/2020-12/schema",'
            ' "items": [{}]}}, "items": {"$ref": "http://example.com/b.json"}}',
            "cannot resolve $ref 'http://example.com/b.json'",
        ),
        # Draft 4 has exclusiveMaximum as a boolean, Draft 7 (the default) as a number.
        ('{"exclusiveMaximum": true}', "Invalid schema at $.exclusiveMaximum"),
    ],
)
def test_a_bad_schema_is_refused_saying_where(text: str, message: str) -> None:
    with pytest.raises(InvalidSchema) as refused:
        JSON_SCHEMA.parse(text, {})
    assert message in str(refused.value)


def test_the_draft_named_by_schema_is_the_one_checked() -> None:
    draft4 = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "maximum": 5,
        "exclusiveMaximum": True,
    }
    assert parse(draft4).schema_type is SchemaType.JSON
    with pytest.raises(InvalidSchema, match=r"\$\.minContains"):
        parse({"$schema": "https://json-schema.org/draft/2020-12/schema", "minContains": -1})


def test_canonical_text_keeps_key_order_and_numbers_as_jackson_writes_them() -> None:
    text = (
        '{ "type": "object",\n "title": "Bestellung é/ü",\n'
        ' "properties": {"z": {"maximum": 1.50, "minimum": 1E2}, "a": {}}}'
    )
    schema = JSON_SCHEMA.parse(text, {})
    assert schema.canonical() == (
        '{"type":"object","title":"Bestellung é/ü","properties":'
        '{"z":{"maximum":1.50,"minimum":1E+2},"a":{}}}'
    )
    assert schema.normalized() == (
        '{"properties":{"a":{},"z":{"maximum":1.50,"minimum":1E+2}},'
        '"title":"Bestellung é/ü","type":"object"}'
    )


CUSTOMER = record({"name": STRING}, required=["name"])
ORDER = record({"id": {"type": "integer"}, "customer": {"$ref": "customer.json"}})


def test_references_resolve_by_the_name_used_in_ref() -> None:
    order = parse(ORDER, {"customer.json": json.dumps(CUSTOMER)})
    assert order.encode({"id": 1, "customer": {"name": "Ada"}}) == (
        b'{"id":1,"customer":{"name":"Ada"}}'
    )
    with pytest.raises(UndecodableRecord, match=r"\$\.customer: 'name' is a required property"):
        order.encode({"id": 1, "customer": {}})


def test_references_resolve_against_the_root_id_as_confluent_registers_them() -> None:
    rooted = {"$id": "https://example.com/schemas/order.json", **ORDER}
    order = parse(rooted, {"customer.json": json.dumps(CUSTOMER)})
    with pytest.raises(UndecodableRecord, match=r"\$\.customer\.name: 1 is not of type"):
        order.encode({"id": 1, "customer": {"name": 1}})


def test_a_ref_to_defs_finds_a_body_under_definitions_as_confluent_bridges_them() -> None:
    """Confluent's JsonSchema.mergeDefBuckets copies top-level `definitions` into `$defs`, in the
    schema and in each reference, so `#/$defs/X` resolves whichever bucket holds X."""
    shared = {"definitions": {"name": STRING}}
    schema = parse(
        record({"a": {"$ref": "#/$defs/id"}, "b": {"$ref": "shared.json#/$defs/name"}})
        | {"definitions": {"id": {"type": "integer"}}},
        {"shared.json": json.dumps(shared)},
    )
    with pytest.raises(UndecodableRecord, match=r"\$\.a: 'x' is not of type 'integer'"):
        schema.encode({"a": "x"})
    with pytest.raises(UndecodableRecord, match=r"\$\.b: 1 is not of type 'string'"):
        schema.encode({"b": 1})


def test_a_ref_to_a_metaschema_resolves_without_the_network() -> None:
    """Confluent registers the draft metaschemas with its loader; so does jsonschema's registry."""
    schema = parse({"$ref": "http://json-schema.org/draft-07/schema#"})
    assert schema.encode({"type": "string"}) == b'{"type":"string"}'
    with pytest.raises(UndecodableRecord, match=r"^\$\.type: 5 is not valid"):
        schema.encode({"type": 5})


def test_a_change_inside_a_referenced_schema_is_an_incompatibility() -> None:
    widened = record({"name": {"type": ["string", "null"]}}, required=["name"])
    old = parse(ORDER, {"customer.json": json.dumps(widened)})
    new = parse(ORDER, {"customer.json": json.dumps(CUSTOMER)})
    (line,) = JSON_SCHEMA.incompatibilities(new, old)
    assert "#/properties/customer/properties/name" in line


def test_records_round_trip_as_compact_utf8_json() -> None:
    schema = parse(record({"name": STRING, "tags": {"type": "array"}}))
    value = {"name": "Zoë", "tags": [1, 2.5, None, True]}
    body = schema.encode(value)
    assert body == '{"name":"Zoë","tags":[1,2.5,null,true]}'.encode()
    assert schema.decode(body) == value


def test_encode_refuses_a_value_the_schema_refuses_naming_the_path() -> None:
    schema = parse(record({"tags": {"type": "array", "items": {"type": "integer"}}}))
    with pytest.raises(UndecodableRecord, match=r"^\$\.tags\[1\]: 'x' is not of type 'integer'"):
        schema.encode({"tags": [1, "x"]})
    with pytest.raises(UndecodableRecord, match="Not a JSON value"):
        parse({"type": "number"}).encode(float("nan"))


def test_a_schema_that_refers_to_itself_without_end_refuses_values_instead_of_crashing() -> None:
    for endless in (
        {"allOf": [{"$ref": "#"}]},
        {"not": {"$ref": "#"}},  # jsonschema's recursion panicked in referencing's Rust core
        {"properties": {"a": {"if": {"$ref": "#/properties/a"}}}},
        # jsonschema applies dependencies to an object whatever `type` says.
        {"type": "number", "dependencies": {"a": {"$ref": "#"}}},
    ):
        with pytest.raises(UndecodableRecord, match="applies itself to the same value"):
            parse(endless).encode({"a": 1})
    assert parse({"properties": {"a": {"$ref": "#"}}}).encode({"a": {}}) == b'{"a":{}}'


def test_a_ref_confluent_never_loads_refuses_the_values_that_reach_it() -> None:
    """Everit ignores additionalProperties beside `"type": "boolean"`, so Confluent registers
    this schema; jsonschema still applies the keyword to an object and meets the bad $ref."""
    schema = parse({"type": "boolean", "additionalProperties": {"$ref": "#/definitions/a"}})
    with pytest.raises(UndecodableRecord, match=r"^\$: cannot resolve a \$ref"):
        schema.encode({"x": 1})


def test_a_subschema_jsonschema_cannot_read_in_its_nested_dialect_refuses_values() -> None:
    """Draft 7's tuple items under a nested 2020-12 `$schema` pass draft 7's metaschema, but
    jsonschema's 2020-12 reading of them fails: the value is refused, nothing crashes."""
    nested = {"$schema": "https://json-schema.org/draft/2020-12/schema", "items": [{}]}
    with pytest.raises(UndecodableRecord, match=r"^\$: the schema cannot be applied"):
        parse({"allOf": [nested]}).encode([1])


def test_decode_shows_a_value_that_breaks_its_schema_and_refuses_bytes_that_are_not_json() -> None:
    schema = parse(record({"n": {"type": "integer"}}))
    assert schema.decode(b'{"n":"seven"}') == {"n": "seven"}
    with pytest.raises(UndecodableRecord, match="Not a JSON record"):
        schema.decode(b"\x00\x01")
    with pytest.raises(UndecodableRecord, match="Not a JSON record"):
        schema.decode(b'{"n":')


def test_encode_writes_the_bytes_confluents_serializer_writes_and_its_deserializer_reads() -> None:
    """confluent_kafka's JSONSerializer, with its in-memory registry client for the schema id,
    writes the same body after the 5-byte header; its JSONDeserializer reads ours back."""
    schema = json.dumps(record({"name": STRING, "n": {"type": "number"}, "tags": {}}))
    value = {"name": 'Zoë "q" / \\ \n\u2028', "n": 1.5e300, "tags": [1, 2.5, None, 1e-7, 10**20]}
    client = MockSchemaRegistryClient({"url": "mock://registry"})
    context = SerializationContext("orders", MessageField.VALUE)
    framed = JSONSerializer(schema, client)(value, context)
    assert framed is not None
    body = JSON_SCHEMA.parse(schema, {}).encode(value)
    assert framed[5:] == body
    assert JSONDeserializer(schema, schema_registry_client=client)(framed[:5] + body, context) == (
        value
    )
