"""The Avro format against Avro's and Confluent's rules: schema evolutions judged as Avro's
`SchemaCompatibility` judges them (worded by Confluent's `avro/Difference.java`), parse errors,
the stored text, and record bytes equal to fastavro's and confluent-kafka's AvroSerializer's."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import pytest
from confluent_kafka.schema_registry._sync.mock_schema_registry_client import (
    MockSchemaRegistryClient,
)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from localbroker.schema_registry.formats.avro import AVRO
from localbroker.schema_registry.schema_format import InvalidSchema, UndecodableRecord


def record(*fields: dict[str, Any], name: str = "R", **extra: Any) -> str:
    return json.dumps({"type": "record", "name": name, "fields": list(fields), **extra})


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(*symbols: str, **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "E", "symbols": list(symbols), **extra}


A_INT = field("a", "int")
NESTED = {"type": "record", "name": "In", "fields": [A_INT]}

# (what changes, old schema, new schema, error types when the new reads the old (BACKWARD),
# error types when the old reads the new (FORWARD)). Avro's rules (the specification's
# "Schema Resolution", SchemaCompatibility.java): a reader field absent from the writer needs a
# default; writer fields the reader lacks are skipped; fields match by name or reader alias;
# int->long/float/double, long->float/double, float->double and string<->bytes promote; a
# writer enum symbol the reader lacks needs the reader's enum default; every writer union
# branch needs a reader branch; fixed must keep name and size.
# fmt: off
EVOLUTIONS = [
    ("field added with default", record(A_INT), record(A_INT, field("b", "int", default=0)), [], []),  # noqa: E501
    ("field added without default", record(A_INT), record(A_INT, field("b", "int")), ["READER_FIELD_MISSING_DEFAULT_VALUE"], []),  # noqa: E501
    ("field removed with default", record(A_INT, field("b", "int", default=0)), record(A_INT), [], []),  # noqa: E501
    ("field removed without default", record(A_INT, field("b", "int")), record(A_INT), [], ["READER_FIELD_MISSING_DEFAULT_VALUE"]),  # noqa: E501
    ("field renamed with alias", record(A_INT), record(field("b", "int", aliases=["a"])), [], ["READER_FIELD_MISSING_DEFAULT_VALUE"]),  # noqa: E501
    ("field renamed without alias", record(A_INT), record(field("b", "int")), ["READER_FIELD_MISSING_DEFAULT_VALUE"], ["READER_FIELD_MISSING_DEFAULT_VALUE"]),  # noqa: E501
    ("int promoted to long", record(A_INT), record(field("a", "long")), [], ["TYPE_MISMATCH"]),
    ("long narrowed to int", record(field("a", "long")), record(A_INT), ["TYPE_MISMATCH"], []),
    ("string to bytes", record(field("a", "string")), record(field("a", "bytes")), [], []),
    ("int to string", record(A_INT), record(field("a", "string")), ["TYPE_MISMATCH"], ["TYPE_MISMATCH"]),  # noqa: E501
    ("enum symbol added", record(field("e", enum("A"))), record(field("e", enum("A", "B"))), [], ["MISSING_ENUM_SYMBOLS"]),  # noqa: E501
    ("enum symbol added, old has a default", record(field("e", enum("A", default="A"))), record(field("e", enum("A", "B"))), [], []),  # noqa: E501
    ("enum symbol removed", record(field("e", enum("A", "B"))), record(field("e", enum("A"))), ["MISSING_ENUM_SYMBOLS"], []),  # noqa: E501
    ("enum symbol removed, new has a default", record(field("e", enum("A", "B"))), record(field("e", enum("A", default="A"))), [], []),  # noqa: E501
    ("union branch added", record(field("u", ["null", "string"])), record(field("u", ["null", "string", "int"])), [], ["MISSING_UNION_BRANCH"]),  # noqa: E501
    ("union branch removed", record(field("u", ["null", "string", "int"])), record(field("u", ["null", "string"])), ["MISSING_UNION_BRANCH"], []),  # noqa: E501
    ("union narrowed to its branch", record(field("u", ["null", "string"])), record(field("u", "string")), ["TYPE_MISMATCH"], []),  # noqa: E501
    ("fixed size changed", record(field("f", {"type": "fixed", "name": "F", "size": 4})), record(field("f", {"type": "fixed", "name": "F", "size": 8})), ["FIXED_SIZE_MISMATCH"], ["FIXED_SIZE_MISMATCH"]),  # noqa: E501
    ("record renamed", record(A_INT, name="R"), record(A_INT, name="S"), ["NAME_MISMATCH"], ["NAME_MISMATCH"]),  # noqa: E501
    ("record renamed with alias", record(A_INT, name="R"), record(A_INT, name="S", aliases=["R"]), [], ["NAME_MISMATCH"]),  # noqa: E501
    # Avro's quirk: a reader enum field with an enum default, missing in the writer, is
    # compared with the writer's whole record.
    ("enum field with enum default added", record(A_INT), record(A_INT, field("e", enum("A", default="A"))), ["TYPE_MISMATCH"], []),  # noqa: E501
    ("record in a union changed", record(field("u", ["null", NESTED])), record(field("u", ["null", {**NESTED, "fields": [field("a", "string")]}])), ["MISSING_UNION_BRANCH"], ["MISSING_UNION_BRANCH"]),  # noqa: E501
    ("nested record field added", record(field("n", NESTED)), record(field("n", {**NESTED, "fields": [A_INT, field("b", "int")]})), ["READER_FIELD_MISSING_DEFAULT_VALUE"], []),  # noqa: E501
    ("recursive list field added", record(A_INT, field("next", ["null", "R"])), record(A_INT, field("next", ["null", "R"]), field("b", "int")), ["READER_FIELD_MISSING_DEFAULT_VALUE"], []),  # noqa: E501
]
# fmt: on


@pytest.mark.parametrize(
    ("old", "new", "backward", "forward"),
    [pytest.param(*case[1:], id=case[0]) for case in EVOLUTIONS],
)
def test_evolution_verdicts_follow_avro_resolution(
    old: str, new: str, backward: list[str], forward: list[str]
) -> None:
    old_schema, new_schema = AVRO.parse(old, {}), AVRO.parse(new, {})
    for reader, writer, expected in (
        (new_schema, old_schema, backward),
        (old_schema, new_schema, forward),
    ):
        found = AVRO.incompatibilities(reader, writer)
        assert [m.split("'")[1] for m in found] == expected, found


def test_incompatibility_is_worded_as_confluent_words_it() -> None:
    """Difference.error() with SchemaValidatorBuilder's "new"/"old" put in its %s slots."""
    old, new = AVRO.parse(record(A_INT), {}), AVRO.parse(record(A_INT, field("b", "int")), {})
    [message] = AVRO.incompatibilities(new, old)
    assert message % ("new", "old") == (
        "{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'b' at path "
        "'/fields/1' in the new schema has no default value and is missing in the old schema', "
        "additionalInfo:'b'}"
    )
    widened = AVRO.parse(record(field("a", "long")), {})
    [message] = AVRO.incompatibilities(old, widened)
    assert message % ("old", "new") == (
        "{errorType:'TYPE_MISMATCH', description:'The type (path '/fields/0/type') of a field in "
        "the old schema does not match with the new schema', additionalInfo:'reader type: INT "
        "not compatible with writer type: LONG'}"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"type": "record", "name": "R", "fields": [', "Invalid JSON"),
        (json.dumps({"type": "nope"}), "nope"),
        (record(field("a", "Missing")), "Undefined name"),
        (record(field("a", "int", default="x")), 'Invalid default for field a: "x" not a "int"'),
        (record(field("a", "int", default=2**31)), "Invalid default for field a"),
        (record(field("n", NESTED, default={})), "Invalid default for field n"),
        (record(A_INT, A_INT), "Duplicate field a in record R"),
        (record(field("n", NESTED), field("m", NESTED)), "Can't redefine: In"),
        (record(field("e", enum("A", "A"))), "unique"),
        (record(field("a-b", "int")), "Illegal character in: a-b"),
        # Shapes Java's parser refuses, answered as invalid rather than failing on the way.
        (record(A_INT, aliases="A"), "aliases not an array of strings"),
        (record(field("f", {"type": "fixed", "name": "F"})), "Invalid or no size"),
        (record(field("e", {"type": "enum", "name": "E", "symbols": "A"})), "Enum has no symbols"),
        (record(field("a", "int", order="up")), "Invalid order"),
        (record(A_INT, name="1R"), "Illegal initial character: 1R"),
        (record(field("e", enum("A", "B C"))), "Illegal character in: B C"),
    ],
)
def test_invalid_schemas_are_refused(text: str, words: str) -> None:
    with pytest.raises(InvalidSchema, match=words):
        AVRO.parse(text, {})


def test_reserved_words_on_other_types_are_ignored_as_java_ignores_them() -> None:
    """`fields` on a primitive or `name` on an array are no properties in Avro (its reserved
    words), so neither decides how the schema is read or compared."""
    odd = AVRO.parse(record(field("a", {"type": "int", "fields": [], "name": ["x"]})), {})
    assert odd.canonical() == '{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}'
    assert AVRO.incompatibilities(odd, AVRO.parse(record(A_INT), {})) == []


def test_defaults_are_judged_as_avro_judges_them() -> None:
    """Avro 1.12's isValidDefault (checked against its Java parser): a union's default may
    match any branch, an enum's need only be a string, a record's may leave out fields that
    have defaults, a float's may be NaN."""
    nested_with_default = {**NESTED, "fields": [field("a", "int", default=1)]}
    AVRO.parse(
        record(
            field("u", ["null", "string"], default="x"),
            field("e", enum("A"), default="B"),
            field("n", nested_with_default, default={}),
            field("f", "float", default="NaN"),
        ),
        {},
    )


def test_references_define_named_types() -> None:
    ref = json.dumps({**NESTED, "namespace": "lib", "fields": [field("e", enum("A"))]})
    text = record(field("n", "lib.In"), field("m", "lib.In"), field("e", "lib.E"))
    with pytest.raises(InvalidSchema):
        AVRO.parse(text, {})
    schema = AVRO.parse(text, {"lib.In": ref})
    # Java's toString(referencedSchemas) names a referenced type instead of spelling it out,
    # but knows only the references' own names: an enum nested in one is spelled out.
    assert schema.canonical() == (
        '{"type":"record","name":"R","fields":[{"name":"n","type":"lib.In"},'
        '{"name":"m","type":"lib.In"},{"name":"e","type":{"type":"enum","name":"E",'
        '"namespace":"lib","symbols":["A"]}}]}'
    )
    value = {"n": {"e": "A"}, "m": {"e": "A"}, "e": "A"}
    assert schema.decode(schema.encode(value)) == value


def test_canonical_text_is_avro_java_to_string() -> None:
    text = json.dumps(
        {
            "fields": [
                {"type": {"type": "string"}, "name": "s", "doc": "d", "default": "x"},
                {"name": "n", "type": {"name": "In", "type": "record", "fields": [A_INT]}},
                {
                    "name": "o",
                    "type": {"type": "enum", "namespace": "other", "name": "E", "symbols": ["A"]},
                },
                {"name": "k", "type": "long", "order": "descending", "aliases": ["kk"]},
            ],
            "namespace": "ns",
            "name": "R",
            "type": "record",
        }
    )
    assert AVRO.parse(text, {}).canonical() == (
        '{"type":"record","name":"R","namespace":"ns","fields":['
        '{"name":"s","type":"string","doc":"d","default":"x"},'
        '{"name":"n","type":{"type":"record","name":"In","fields":[{"name":"a","type":"int"}]}},'
        '{"name":"o","type":{"type":"enum","name":"E","namespace":"other","symbols":["A"]}},'
        '{"name":"k","type":"long","order":"descending","aliases":["kk"]}]}'
    )


def test_normalized_text_is_confluents() -> None:
    """AvroSchemaUtils.build: full names, sorted aliases and properties (nested keys too),
    defaults as Field.defaultVal() gives them back; then parsed and printed again as
    AvroSchema.normalize() does."""
    text = record(
        field("b", {"type": "int", "logicalType": "date"}, aliases=["z", "y"]),
        field("d", "double", default=1),
        field("m", {"type": "map", "values": "int"}, default={"y": 1, "x": 2}),
        name="R",
        namespace="ns",
        doc="",
        zprop={"z": 1, "a": 2},
        aprop=2,
    )
    assert AVRO.parse(text, {}).normalized() == (
        '{"type":"record","name":"R","namespace":"ns","fields":[{"name":"b","type":'
        '{"type":"int","logicalType":"date"},"aliases":["y","z"]},'
        '{"name":"d","type":"double","default":1.0},'
        '{"name":"m","type":{"type":"map","values":"int"},"default":{"x":2,"y":1}}],'
        '"aprop":2,"zprop":{"a":2,"z":1}}'
    )


ALL_TYPES = record(
    field("i", "int"),
    field("l", "long"),
    field("d", "double"),
    field("s", "string"),
    field("b", "bytes"),
    field("f", {"type": "fixed", "name": "F", "size": 2}),
    field("e", enum("A", "B")),
    field("u", ["null", "string", "bytes"]),
    field("m", {"type": "map", "values": {"type": "array", "items": "long"}}),
    field("t", {"type": "long", "logicalType": "timestamp-millis"}),
)
VALUE = {
    "i": -3,
    "l": 2**40,
    "d": 1.5,
    "s": "é",
    "b": "\x00\xff",
    "f": "ab",
    "e": "B",
    "u": "text",
    "m": {"k": [1, 2]},
    "t": 1700000000000,
}


def test_encode_writes_what_fastavro_writes_and_decode_reads_it_back() -> None:
    schema = AVRO.parse(ALL_TYPES, {})
    body = schema.encode(VALUE)
    raw = {**VALUE, "b": b"\x00\xff", "f": b"ab"}
    expected = io.BytesIO()
    plain = json.loads(ALL_TYPES)
    plain["fields"][-1]["type"] = "long"  # the timestamp as its underlying long
    fastavro.schemaless_writer(expected, fastavro.parse_schema(plain), raw)
    assert body == expected.getvalue()
    assert schema.decode(body) == VALUE


def test_encode_matches_confluent_kafkas_avro_serializer() -> None:
    """The body after Confluent's 5-byte header, from its Python serializer given the same
    record as Python values (bytes as bytes)."""
    serializer = AvroSerializer(MockSchemaRegistryClient({"url": "mock://avro"}), ALL_TYPES)
    raw = {**VALUE, "b": b"\x00\xff", "f": b"ab"}
    framed = serializer(raw, SerializationContext("t", MessageField.VALUE))
    assert framed is not None
    assert framed[5:] == AVRO.parse(ALL_TYPES, {}).encode(VALUE)


def test_mismatches_are_undecodable() -> None:
    schema = AVRO.parse(record(A_INT, field("s", "string")), {})
    with pytest.raises(UndecodableRecord, match=r"R\.s"):
        schema.encode({"a": 1, "s": 2})
    with pytest.raises(UndecodableRecord):
        schema.decode(b"\x02")  # the string is missing
    with pytest.raises(UndecodableRecord, match="1 bytes left"):
        schema.decode(b"\x02\x00\x00")
