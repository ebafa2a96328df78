"""The Protobuf schema format: parsing through protoc, Confluent's printed text, its wire body
and its compatibility rules (protobuf-provider's diff package)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from google.protobuf import json_format
from google.protobuf.message_factory import GetMessageClass

from localbroker.schema_registry.formats.protobuf import PROTOBUF, ProtobufSchema
from localbroker.schema_registry.formats.protobuf_compatibility import COMPATIBLE_CHANGES, changes
from localbroker.schema_registry.schema_format import InvalidSchema, UndecodableRecord

BASE = """syntax = "proto3";
package demo;

message User {
  string name = 1;
  int32 age = 2;
  Kind kind = 3;
  enum Kind { UNKNOWN = 0; ADMIN = 1; GUEST = 2; }
}
message Audit { string who = 1; }
"""


def _parse(text: str, references: dict[str, str] | None = None) -> ProtobufSchema:
    return PROTOBUF.parse(text, references or {})


def _error_types(reader: str, writer: str) -> set[str]:
    found = PROTOBUF.incompatibilities(_parse(reader), _parse(writer))
    return {re.match(r'\{errorType:"(\w+)"', line).group(1) for line in found}  # type: ignore[union-attr]


AUDIT = "message Audit { string who = 1; }\n"
NAME_IN_ONEOF = BASE.replace("string name = 1;", "oneof o { string name = 1; }")


def _evolved(old: str, new: str) -> str:
    """BASE with one fragment rewritten."""
    assert old in BASE
    return BASE.replace(old, new)


# Each row: an old schema, a new one, and the error types Confluent reports for BACKWARD (the
# new schema reads the old one's data: SchemaDiff.compare(original=old, update=new)) and for
# FORWARD (the reverse). Verdicts follow SchemaDiff.COMPATIBLE_CHANGES and the Difference types
# that MessageSchemaDiff, FieldSchemaDiff and EnumSchemaDiff report.
EVOLUTIONS = [
    # FIELD_ADDED one way, FIELD_REMOVED the other: both in COMPATIBLE_CHANGES.
    (
        "field added",
        BASE,
        _evolved("Kind kind = 3;", "Kind kind = 3; string email = 4;"),
        set(),
        set(),
    ),
    ("field removed", BASE, _evolved("int32 age = 2;", ""), set(), set()),
    # A number reused with a scalar of another group: FIELD_SCALAR_KIND_CHANGED both ways.
    (
        "field number reused with another type",
        BASE,
        _evolved("int32 age = 2;", "bytes photo = 2;"),
        {"FIELD_SCALAR_KIND_CHANGED"},
        {"FIELD_SCALAR_KIND_CHANGED"},
    ),
    # int32 and int64 are both in FieldSchemaDiff's GENERAL_NUMBER group.
    ("int32 to int64", BASE, _evolved("int32 age", "int64 age"), set(), set()),
    (
        "int32 to string",
        BASE,
        _evolved("int32 age", "string age"),
        {"FIELD_SCALAR_KIND_CHANGED"},
        {"FIELD_SCALAR_KIND_CHANGED"},
    ),
    (
        "scalar to message",
        BASE,
        _evolved("int32 age", "Audit age"),
        {"FIELD_KIND_CHANGED"},
        {"FIELD_KIND_CHANGED"},
    ),
    # FIELD_NAME_CHANGED is compatible: the wire carries numbers, not names.
    ("field renamed", BASE, _evolved("int32 age", "int32 years"), set(), set()),
    # MESSAGE_REMOVED refuses; MESSAGE_ADDED, the other way, is compatible.
    ("message removed", BASE, _evolved(AUDIT, ""), {"MESSAGE_REMOVED"}, set()),
    # A message's index changes, its data does not: MESSAGE_MOVED is compatible.
    (
        "messages reordered",
        BASE,
        _evolved(AUDIT, "").replace("\nmessage User", AUDIT + "message User"),
        set(),
        set(),
    ),
    # ENUM_CONST_REMOVED and ENUM_CONST_ADDED are both compatible in Confluent's rules.
    ("enum value removed", BASE, _evolved(" GUEST = 2;", ""), set(), set()),
    # One field into a new oneof has a single origin group; back out of it is
    # ONEOF_FIELD_MOVED_TO_TOP_LEVEL: both compatible.
    (
        "field moved into a oneof",
        BASE,
        _evolved("int32 age = 2;", "oneof o { int32 age = 2; }"),
        set(),
        set(),
    ),
    (
        "two fields moved into a oneof",
        BASE,
        _evolved(
            "string name = 1;\n  int32 age = 2;", "oneof o { string name = 1; int32 age = 2; }"
        ),
        {"MULTIPLE_FIELDS_MOVED_TO_ONEOF"},
        set(),
    ),
    (
        "field moved into an existing oneof",
        NAME_IN_ONEOF,
        _evolved(
            "string name = 1;\n  int32 age = 2;", "oneof o { string name = 1; int32 age = 2; }"
        ),
        {"FIELD_MOVED_TO_EXISTING_ONEOF"},
        set(),
    ),
    # ONEOF_FIELD_REMOVED one way, ONEOF_FIELD_ADDED the other.
    (
        "oneof member removed",
        _evolved("int32 age = 2;", "oneof o { int32 age = 2; string nick = 5; }"),
        _evolved("int32 age = 2;", "oneof o { int32 age = 2; }"),
        {"ONEOF_FIELD_REMOVED"},
        set(),
    ),
    (
        "package changed",
        BASE,
        _evolved("package demo;", "package other;"),
        {"PACKAGE_CHANGED"},
        {"PACKAGE_CHANGED"},
    ),
    # proto2: REQUIRED_FIELD_ADDED one way, REQUIRED_FIELD_REMOVED the other.
    (
        "required field added",
        'syntax = "proto2";\nmessage A { optional int32 a = 1; }',
        'syntax = "proto2";\nmessage A { optional int32 a = 1; required string b = 2; }',
        {"REQUIRED_FIELD_ADDED"},
        {"REQUIRED_FIELD_REMOVED"},
    ),
    # FIELD_NUMERIC_LABEL_CHANGED compares labels only when both are written: proto3's
    # unlabeled field has none (Wire's null label), proto2's `optional` has one.
    (
        "proto3 numeric field made repeated",
        BASE,
        _evolved("int32 age", "repeated int32 age"),
        set(),
        set(),
    ),
    (
        "proto2 numeric field made repeated",
        'syntax = "proto2";\nmessage A { optional int32 a = 1; }',
        'syntax = "proto2";\nmessage A { repeated int32 a = 1; }',
        {"FIELD_NUMERIC_LABEL_CHANGED"},
        {"FIELD_NUMERIC_LABEL_CHANGED"},
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "backward", "forward"),
    [row[1:] for row in EVOLUTIONS],
    ids=[row[0] for row in EVOLUTIONS],
)
def test_evolution_verdicts_follow_confluent(
    old: str, new: str, backward: set[str], forward: set[str]
) -> None:
    assert _error_types(reader=new, writer=old) == backward
    assert _error_types(reader=old, writer=new) == forward


def _confluents_examples() -> list[dict[str, object]]:
    """protobuf-provider's own SchemaDiffTest cases (diff-schema-examples.json), read from a
    checkout of confluentinc/schema-registry named by CONFLUENT_SCHEMA_REGISTRY_SRC: they are
    under the Confluent Community License, so they are not copied here."""
    source = os.environ.get("CONFLUENT_SCHEMA_REGISTRY_SRC")
    if not source:
        return []
    path = Path(source, "protobuf-provider/src/test/resources/diff-schema-examples.json")
    return list(json.loads(path.read_text()))


@pytest.mark.skipif(not _confluents_examples(), reason="CONFLUENT_SCHEMA_REGISTRY_SRC not set")
def test_confluents_own_diff_examples() -> None:
    """Every case gives Confluent's verdict and exactly its list of changes with their paths."""
    for case in _confluents_examples():

        def parse(side: str, case: dict[str, object] = case) -> ProtobufSchema:
            dependencies = case.get(f"{side}_dependencies") or []
            assert isinstance(dependencies, list)
            references = {d["name"]: d["dependency"] for d in dependencies}
            return _parse(str(case[f"{side}_schema"]), references)

        original, update = parse("original"), parse("update")
        found = changes((original.proto, original.imports), (update.proto, update.imports))
        assert sorted(f"{kind} {path}" for kind, path in found) == sorted(case["changes"]), case
        compatible = all(kind in COMPATIBLE_CHANGES for kind, _ in found)
        assert compatible == case["compatible"], case


def test_an_incompatibility_reads_as_confluents_difference() -> None:
    """Difference.toString, its two %s slots (reader, writer) left for the registry to fill
    with "new" and "old" as Confluent's SchemaValidatorBuilder does."""
    reader = _parse(_evolved("int32 age", "string age"))
    assert PROTOBUF.incompatibilities(reader, _parse(BASE)) == [
        '{errorType:"FIELD_SCALAR_KIND_CHANGED", description:"The kind of a SCALAR field at '
        "path '#/User/2' in the %s schema does not match its kind in the %s schema\"}"
    ]


OTHER = 'syntax = "proto3";\npackage acme;\nmessage Address { string city = 1; }\n'
USES_OTHER = """syntax = "proto3";
package demo;
import "acme/address.proto";
message User { acme.Address home = 1; }
"""


def test_a_message_from_an_import_is_compared_where_it_is_used() -> None:
    """FieldSchemaDiff.compareMessageTypes: a type from another subject-version is compared
    field by field, and its incompatibility is the using field's FIELD_NAMED_TYPE_CHANGED."""
    old = _parse(USES_OTHER, {"acme/address.proto": OTHER})
    changed = OTHER.replace("string city", "int64 city")
    new = _parse(USES_OTHER, {"acme/address.proto": changed})
    assert [line[:40] for line in PROTOBUF.incompatibilities(new, old)] == [
        '{errorType:"FIELD_SCALAR_KIND_CHANGED", ',
        '{errorType:"FIELD_NAMED_TYPE_CHANGED", d',
    ]
    assert "'#/Address/1'" in PROTOBUF.incompatibilities(new, old)[0]
    assert "'#/User/1'" in PROTOBUF.incompatibilities(new, old)[1]
    renamed = _parse(USES_OTHER, {"acme/address.proto": OTHER.replace("city", "town")})
    assert PROTOBUF.incompatibilities(renamed, old) == []


@pytest.mark.parametrize(
    ("text", "references", "message"),
    [
        (
            'syntax = "proto3";\nmessage A { strin x = 1; }',
            {},
            'schema.proto:2:13: "strin" is not defined.',
        ),
        (
            'syntax = "proto3";\nmessage A { int32 x = 1; int32 y = 1; }',
            {},
            "schema.proto:2:36: Field number 1 has already been used",
        ),
        (
            'syntax = "proto3";\nimport "acme/address.proto";\nmessage A { acme.Address x = 1; }',
            {},
            'schema.proto:2:1: Import "acme/address.proto" was not found or had errors.',
        ),
        (
            USES_OTHER,
            {"acme/address.proto": "message Address {"},
            "acme/address.proto:1:18: Reached end of input in message definition (missing '}').",
        ),
    ],
    ids=["unknown type", "number used twice", "missing import", "bad import"],
)
def test_a_bad_schema_is_refused_with_protocs_position(
    text: str, references: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidSchema) as refused:
        _parse(text, references)
    assert message in str(refused.value)


def test_an_import_path_cannot_leave_the_schemas_folder() -> None:
    with pytest.raises(InvalidSchema, match="leaves"):
        _parse(USES_OTHER, {"../escape.proto": OTHER})


def test_known_dependencies_need_no_reference() -> None:
    """Confluent's KNOWN_DEPENDENCIES: the well-known types and google/type/*.proto, which
    confluent-kafka's serializers never register (skip.known.types)."""
    schema = _parse(
        'syntax = "proto3";\nimport "google/protobuf/timestamp.proto";\n'
        'import "google/type/date.proto";\n'
        "message Event { google.protobuf.Timestamp at = 1; google.type.Date day = 2; }"
    )
    value = {"at": "2024-05-01T10:00:00Z", "day": {"year": 2024, "month": 5, "day": 1}}
    assert schema.decode(schema.encode(value)) == value


SAMPLE = """syntax = "proto3";
package demo;
import "google/protobuf/timestamp.proto";
option java_package = "io.demo";
message User {
  reserved 12 to 15, 9;
  int64 id = 2;
  string name = 1;
  google.protobuf.Timestamp at = 3;
  map<string, Inner> tags = 4;
  oneof contact { string phone = 6; string email = 5; }
  optional int32 score = 7 [deprecated = true];
  message Inner { double d = 1; }
}
enum Kind { A = 0; B = 1; }
"""


def test_canonical_text_is_confluents_print_of_the_descriptor() -> None:
    """ProtobufSchemaUtils.toString of toProtoFile(FileDescriptorProto): what Confluent stores
    for the serialized schemas confluent-kafka's Python serializer registers (but for maps,
    printed as Confluent prints them from text, so that the text compiles again)."""
    assert _parse(SAMPLE).canonical() == (
        'syntax = "proto3";\n'
        "package demo;\n"
        "\n"
        'import "google/protobuf/timestamp.proto";\n'
        "\n"
        'option java_package = "io.demo";\n'
        "\n"
        "message User {\n"
        "  reserved 12 to 15;\n"
        "  reserved 9;\n"
        "\n"
        "  int64 id = 2;\n"
        "  string name = 1;\n"
        "  .google.protobuf.Timestamp at = 3;\n"
        "  map<string, .demo.User.Inner> tags = 4;\n"
        "  optional int32 score = 7 [deprecated = true];\n"
        "\n"
        "  oneof contact {\n"
        "    string phone = 6;\n"
        "    string email = 5;\n"
        "  }\n"
        "\n"
        "  message Inner {\n"
        "    double d = 1;\n"
        "  }\n"
        "}\n"
        "enum Kind {\n"
        "  A = 0;\n"
        "  B = 1;\n"
        "}\n"
    )


def test_normalized_text_sorts_and_writes_maps() -> None:
    """ProtobufSchemaUtils.toNormalizedString: fields and oneofs by number, reserved ranges
    split and sorted, map entries as map<K, V>."""
    normalized = _parse(SAMPLE).normalized()
    assert normalized.startswith('syntax = "proto3";\npackage demo;\n')
    assert "  reserved 9;\n  reserved 12 to 15;\n" in normalized
    assert "  string name = 1;\n  int64 id = 2;\n" in normalized
    assert "  map<string, .demo.User.Inner> tags = 4;\n" in normalized
    assert "    string email = 5;\n    string phone = 6;\n" in normalized
    assert "TagsEntry" not in normalized
    assert _parse(normalized).normalized() == normalized


def test_normalization_matches_confluents_test() -> None:
    """ProtobufSchemaTest.testNormalization (protobuf-provider): options, reserved ranges,
    fields, oneofs and enum constants sorted, names fully qualified, maps as map<K, V>, enum
    reserved ranges before options. Adapted where Confluent's lenient parser accepts what
    protoc refuses (reserved numbers in use, jstype on an int32, proto3 enums not starting at
    zero) and without its confluent/*.proto parts."""
    folder = Path(__file__).parent / "protobuf"
    schema = _parse((folder / "normalization.proto").read_text())
    assert schema.normalized() == (folder / "normalization.normalized.proto").read_text()


def test_the_canonical_text_compiles_to_the_same_schema() -> None:
    """The registry stores the canonical text and compiles it again for a reference or after
    a restart."""
    for text in (SAMPLE, USES_OTHER, TWO_MESSAGES, "message A { map<int32, string> m = 1; }"):
        references = {"acme/address.proto": OTHER}
        canonical = _parse(text, references).canonical()
        assert _parse(canonical, references).canonical() == canonical


@pytest.mark.parametrize(
    ("main_form", "import_form"),
    [("serialized", "canonical"), ("canonical", "serialized"), ("serialized", "serialized")],
)
def test_serialized_and_text_files_import_each_other(main_form: str, import_form: str) -> None:
    """confluent-kafka's Python serializer registers the import, then the schema, both
    serialized; the registry hands back each reference's stored (canonical) text."""
    imported = _parse(OTHER)
    main = _parse(USES_OTHER, {"acme/address.proto": OTHER})
    again = _parse(
        getattr(main, main_form)(), {"acme/address.proto": getattr(imported, import_form)()}
    )
    assert again.canonical() == main.canonical()
    assert PROTOBUF.incompatibilities(again, main) == []


def test_a_serialized_file_descriptor_is_the_same_schema() -> None:
    """confluent-kafka's Python serializer registers base64 FileDescriptorProtos; Confluent's
    `?format=serialized` gives them back."""
    schema = _parse(SAMPLE)
    again = _parse(schema.serialized())
    assert again.canonical() == schema.canonical()
    assert again.decode(schema.encode({"name": "x"}))["name"] == "x"


TWO_MESSAGES = """syntax = "proto3";
package demo;
message First { int32 x = 1; }
message Second {
  string s = 1;
  message Inner { int64 n = 1; }
  message Deeper { sint32 z = 1; }
}
"""


@pytest.mark.parametrize(
    ("indexes", "value", "prefix"),
    [
        ([0], {"x": 5}, b"\x00"),
        ([1], {"s": "hi"}, b"\x02\x02"),
        ([1, 1], {"z": -4}, b"\x04\x02\x02"),
    ],
    ids=["first message", "second message", "nested message"],
)
def test_message_indexes_name_the_record_type(
    indexes: list[int], value: dict[str, object], prefix: bytes
) -> None:
    schema = _parse(TWO_MESSAGES)
    body = schema.encode_message(value, indexes)
    assert body.startswith(prefix)
    assert schema.decode(body) == value


def test_bodies_match_confluents_protobuf_serializer() -> None:
    serializers = pytest.importorskip("confluent_kafka.schema_registry.protobuf")
    mock = pytest.importorskip("confluent_kafka.schema_registry._sync.mock_schema_registry_client")
    from confluent_kafka.serialization import MessageField, SerializationContext

    schema = _parse(TWO_MESSAGES)
    for indexes, value in (([0], {"x": 5}), ([1], {"s": "hi"}), ([1, 1], {"z": -4})):
        registry = mock.MockSchemaRegistryClient({"url": "mock://protobuf"})
        message_class = GetMessageClass(schema.message(indexes))
        serializer = serializers.ProtobufSerializer(message_class, registry, {})
        message = json_format.ParseDict(value, message_class())
        framed = serializer(message, SerializationContext("t", MessageField.VALUE))
        assert framed[5:] == schema.encode_message(value, indexes)


def test_decode_shows_every_field_by_its_proto_name() -> None:
    """Confluent's JSON rendering (ProtobufSchemaUtils.toJson) includes fields left at their
    default; the names are the .proto ones."""
    schema = _parse('syntax = "proto3";\nmessage A { int32 user_id = 1; string nick = 2; }')
    assert schema.decode(schema.encode({"user_id": 3})) == {"user_id": 3, "nick": ""}


@pytest.mark.parametrize(
    "body",
    [b"", b"\x02\x08", b"\x02\x01\x08\x01", b"\x02\x0a", b"\x00\xff\xff"],
    ids=["empty", "no such message", "negative index", "truncated indexes", "bad message"],
)
def test_an_undecodable_body_is_refused(body: bytes) -> None:
    with pytest.raises(UndecodableRecord):
        _parse(TWO_MESSAGES).decode(body)


def test_a_value_that_does_not_fit_is_refused() -> None:
    with pytest.raises(UndecodableRecord, match="nope"):
        _parse(TWO_MESSAGES).encode({"nope": 1})
    with pytest.raises(UndecodableRecord):
        _parse(TWO_MESSAGES).encode({"x": "not a number"})


WELL_KNOWN_FIELDS = """syntax = "proto3";
import "google/protobuf/any.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
message A { google.protobuf.Any packed = 1; google.protobuf.Timestamp at = 2;
  google.protobuf.Value v = 3; }
"""


@pytest.mark.parametrize(
    "field",
    [
        'packed { type_url: "type.googleapis.com/acme.Unknown" }',
        "at { seconds: 4611686018427387904 }",
        "v { number_value: nan }",
    ],
    ids=["Any of an unknown type", "Timestamp out of range", "Value NaN"],
)
def test_a_record_json_cannot_show_is_undecodable_not_a_crash(field: str) -> None:
    """Such a record parses, but its JSON rendering refuses it: the Tail shows why instead of
    failing on a TypeError or ValueError."""
    from google.protobuf import text_format

    schema = _parse(WELL_KNOWN_FIELDS)
    message = text_format.Parse(field, GetMessageClass(schema.message([0]))())
    with pytest.raises(UndecodableRecord, match="as JSON"):
        schema.decode(b"\x00" + message.SerializeToString())
