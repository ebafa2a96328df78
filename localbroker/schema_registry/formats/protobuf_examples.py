"""Example values of a Protobuf schema's first message (see examples.py), in the JSON form
`ProtobufSchema.encode` parses (protobuf's json_format): enums by name, bytes in base64, 64-bit
integers as numbers, one field of each oneof, Timestamp and Duration as their JSON strings.
Other well-known types and messages nested past MAX_DEPTH are left out (proto3 fields are all
optional)."""

from __future__ import annotations

import base64
from random import Random

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from .examples import MAX_DEPTH, MAX_ITEMS, fraction, moment, text_for, whole
from .protobuf import ProtobufSchema
from .protobuf_json import _map_entry

_INTEGERS = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"


def protobuf_value(schema: ProtobufSchema, rng: Random) -> dict[str, object]:
    message = _message(schema.message([0]), rng, 0)
    assert isinstance(message, dict)
    return message


def _message(descriptor: Descriptor, rng: Random, depth: int) -> object:
    if descriptor.full_name == _TIMESTAMP:
        return moment(rng).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if descriptor.full_name == _DURATION:
        return f"{rng.randint(0, 3600)}s"
    value: dict[str, object] = {}
    if descriptor.full_name.startswith("google.protobuf.") or depth >= MAX_DEPTH:
        return value
    chosen = {o.name: rng.choice(o.fields).name for o in descriptor.oneofs if o.fields}
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and oneof.fields and chosen[oneof.name] != field.name:
            continue
        entry = _map_entry(field)
        if entry is not None:
            key, item = entry.fields_by_name["key"], entry.fields_by_name["value"]
            value[field.name] = {
                _map_key(_single(key, rng, depth)): _single(item, rng, depth)
                for _ in range(rng.randint(0, MAX_ITEMS))
            }
        elif field.is_repeated:
            value[field.name] = [_single(field, rng, depth) for _ in range(rng.randint(0, 3))]
        else:
            value[field.name] = _single(field, rng, depth)
    return value


def _single(field: FieldDescriptor, rng: Random, depth: int) -> object:
    kind = field.type
    if field.message_type is not None:
        return _message(field.message_type, rng, depth + 1)
    if field.enum_type is not None:
        return rng.choice(field.enum_type.values).name
    if kind in _INTEGERS:
        return whole(rng)
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return fraction(rng)
    if kind == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if kind == FieldDescriptor.TYPE_BYTES:
        return base64.standard_b64encode(rng.randbytes(rng.randint(1, 8))).decode("ascii")
    return text_for(field.name, rng)


def _map_key(key: object) -> str:
    """A map key as JSON writes it (`true`, not Python's `True`)."""
    return ("true" if key else "false") if isinstance(key, bool) else str(key)
