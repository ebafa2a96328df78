"""The Protobuf renderers built per message type (protobuf_json.py) against the rendering they
replace, json_format.MessageToDict with Confluent's options, over every kind of field."""

from __future__ import annotations

from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localbroker.schema_registry.formats.protobuf import PROTOBUF, ProtobufSchema
from localbroker.schema_registry.formats.protobuf_json import reference_rendering

EVERY_KIND = """syntax = "proto3";
package kinds;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Everything {
  double f_double = 1; float f_float = 2; int32 f_int32 = 3; int64 f_int64 = 4;
  uint32 f_uint32 = 5; uint64 f_uint64 = 6; sint32 f_sint32 = 7; sint64 f_sint64 = 8;
  fixed32 f_fixed32 = 9; fixed64 f_fixed64 = 10; sfixed32 f_sfixed32 = 11;
  sfixed64 f_sfixed64 = 12; bool f_bool = 13; string f_string = 14; bytes f_bytes = 15;
  Colour colour = 16;
  Everything child = 17;
  Leaf leaf = 18;
  repeated int64 r_int64 = 19; repeated double r_double = 20; repeated float r_float = 21;
  repeated bytes r_bytes = 22; repeated Colour r_colour = 23; repeated Leaf r_leaf = 24;
  repeated string r_string = 25; repeated bool r_bool = 26;
  map<string, Leaf> m_leaf = 27; map<int64, string> m_int64 = 28; map<bool, Colour> m_bool = 29;
  map<uint32, bytes> m_uint32 = 30; map<string, double> m_double = 31;
  map<sint64, int64> m_sint64 = 32;
  oneof choice { string o_string = 33; Leaf o_leaf = 34; int64 o_int64 = 35; }
  optional int32 opt_int32 = 36; optional Colour opt_colour = 37;
  google.protobuf.Timestamp at = 38; google.protobuf.Duration took = 39;
  google.protobuf.Struct extra = 40; google.protobuf.Value value = 41;
  google.protobuf.Any packed = 42; google.protobuf.Int64Value wrapped = 43;
  google.protobuf.FieldMask mask = 44; google.protobuf.ListValue list = 45;
  repeated google.protobuf.Timestamp times = 46; google.protobuf.NullValue nothing = 47;
  google.protobuf.Empty empty = 48; google.protobuf.BytesValue wrapped_bytes = 49;
  int32 class = 50;
  float f_float_late = 51;
  enum Colour { RED = 0; GREEN = 1; BLUE = 2; }
  message Leaf { string name = 1; uint64 big = 2; }
}
"""

PROTO2 = """syntax = "proto2";
package legacy;
message Old {
  optional int32 with_default = 1 [default = 7];
  required string id = 2;
  optional Kind kind = 3 [default = B];
  repeated int64 numbers = 4;
  optional bytes blob = 5 [default = "x"];
  optional Old parent = 6;
  enum Kind { A = 1; B = 2; }
  extensions 100 to 200;
}
extend Old { optional string note = 100; repeated sint64 marks = 101; }
"""

_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type in _RANGES:
        return st.integers(*_RANGES[field.type])
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=8)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=8)
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return st.floats()
    if field.type == FieldDescriptor.TYPE_FLOAT:
        return st.floats(width=32)
    numbers = st.sampled_from([value.number for value in field.enum_type.values])
    if field.enum_type.is_closed:
        return numbers
    return numbers | st.integers(-3, 9)  # an open enum keeps numbers it does not name


def _fill_well_known(data: st.DataObject, message: Any) -> bool:
    """Valid contents for a well-known type (their JSON forms refuse some values); False for
    a type that is not one."""
    name = message.DESCRIPTOR.full_name
    if name == "google.protobuf.Timestamp":
        message.seconds = data.draw(st.integers(-62135596800, 253402300799))
        message.nanos = data.draw(st.sampled_from([0, 5_000_000, 123_456_000, 999_999_999]))
    elif name == "google.protobuf.Duration":
        message.seconds = data.draw(st.integers(0, 315576000000))
        message.nanos = data.draw(st.sampled_from([0, 1, 500_000_000]))
    elif name == "google.protobuf.Struct":
        message.update(data.draw(st.dictionaries(st.text(max_size=5), _JSON, max_size=3)))
    elif name == "google.protobuf.ListValue":
        message.extend(data.draw(st.lists(_JSON, max_size=3)))
    elif name == "google.protobuf.Value":
        message.string_value = data.draw(st.text(max_size=5))
    elif name == "google.protobuf.FieldMask":
        message.paths.extend(data.draw(st.lists(st.sampled_from(["a", "b_c.d_e"]), max_size=2)))
    elif name == "google.protobuf.Any":
        message.Pack(timestamp_pb2.Timestamp(seconds=data.draw(st.integers(0, 2**32))))
    elif name in ("google.protobuf.Int64Value", "google.protobuf.BytesValue"):
        message.value = data.draw(_scalar(message.DESCRIPTOR.fields_by_name["value"]))
    else:
        return name == "google.protobuf.Empty"
    return True


def _fill(data: st.DataObject, message: Any, depth: int) -> None:
    if _fill_well_known(data, message):
        return
    for field in message.DESCRIPTOR.fields:
        if not (field.is_required or data.draw(st.booleans())):
            continue
        name = field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key = _scalar(field.message_type.fields_by_name["key"])
            value_field = field.message_type.fields_by_name["value"]
            for k in data.draw(st.lists(key, max_size=3)):
                if value_field.message_type is None:
                    getattr(message, name)[k] = data.draw(_scalar(value_field))
                elif depth < 2:
                    _fill(data, getattr(message, name)[k], depth + 1)
        elif field.message_type is not None:
            if depth >= 2:
                continue
            for _ in range(data.draw(st.integers(1, 2)) if field.is_repeated else 0):
                _fill(data, getattr(message, name).add(), depth + 1)
            if not field.is_repeated:
                getattr(message, name).SetInParent()
                _fill(data, getattr(message, name), depth + 1)
        elif field.is_repeated:
            getattr(message, name).extend(data.draw(st.lists(_scalar(field), max_size=3)))
        else:
            setattr(message, name, data.draw(_scalar(field)))


def _decoded_and_reference(schema: ProtobufSchema, message: Message) -> tuple[object, object]:
    body = b"\x00" + message.SerializeToString()
    return schema.decode(body), reference_rendering(type(message).FromString(body[1:]))


EVERYTHING = PROTOBUF.parse(EVERY_KIND, {})
OLD = PROTOBUF.parse(PROTO2, {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_kind_of_field_renders_as_message_to_dict(data: st.DataObject) -> None:
    message = GetMessageClass(EVERYTHING.message([0]))()
    _fill(data, message, 0)
    decoded, reference = _decoded_and_reference(EVERYTHING, message)
    assert decoded == reference


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_proto2_presence_defaults_and_extensions_render_as_message_to_dict(
    data: st.DataObject,
) -> None:
    message: Any = GetMessageClass(OLD.message([0]))()
    _fill(data, message, 0)
    extensions = OLD.file.extensions_by_name
    if data.draw(st.booleans()):
        message.Extensions[extensions["note"]] = data.draw(st.text(max_size=5))
        message.Extensions[extensions["marks"]].extend(data.draw(st.lists(st.integers(-9, 9))))
    decoded, reference = _decoded_and_reference(OLD, message)
    assert decoded == reference


def test_keys_come_by_field_number_as_javas_json_format_prints_them() -> None:
    schema = PROTOBUF.parse('syntax = "proto3";\nmessage A { string b = 2; int32 a = 1; }', {})
    assert list(schema.decode(schema.encode({"b": "x"}))) == ["a", "b"]  # type: ignore[call-overload]


def test_the_generated_schema_covers_every_field_type() -> None:
    """The Hypothesis test above is only as wide as EVERY_KIND: every scalar type is in it."""
    types = {field.type for field in EVERYTHING.message([0]).fields}
    every = {value for name, value in vars(FieldDescriptor).items() if name.startswith("TYPE_")}
    assert every - types == {FieldDescriptor.TYPE_GROUP}
    assert "class" in EVERYTHING.message([0]).fields_by_name  # a Python keyword
