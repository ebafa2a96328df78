"""A Protobuf message as Confluent's JSON rendering shows it, by a function built once per
message type.

The rendering is `json_format.MessageToDict(message, preserving_proto_field_name=True,
always_print_fields_with_no_presence=True)` (`reference_rendering` below): .proto field names,
64-bit integers as strings, bytes in base64, enums by name, non-finite floats as "NaN" or
"Infinity", fields without presence shown even at their default. MessageToDict works all that
out again for every field of every record (descriptor lookups, type dispatch, a printer per
call), which held the Tail to a few thousand ~1 KB records a second. Here the questions are
asked once per message type and answered in the source of one function, compiled as the
standard library's dataclasses compiles its `__init__`; for `message Line { string sku = 1;
int64 warehouse = 2; Line next = 3; }` it reads

    def render(m):
        js = {}
        js['sku'] = m.sku
        js['warehouse'] = str(m.warehouse)
        if m.HasField('next'):
            js['next'] = c2(m.next)
        return js

Keys come by field number, the order of Java's JsonFormat that Confluent prints with (Python's
MessageToDict puts set fields first; the dicts are equal).

The well-known types keep json_format's own printing, as they are special cases it owns:
Timestamp, Duration and FieldMask through the `ToJsonString()` MessageToDict calls, the others
(Any, Struct, Value, ListValue, wrappers) through MessageToDict itself.
"""

from __future__ import annotations

import binascii
import keyword
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.internal.type_checkers import ToShortestFloat
from google.protobuf.message import Message

Render = Callable[[Any], Any]
"""A message (or one value of a field) to its JSON form."""

_INT64 = (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64)
_TO_JSON_STRING = (
    "google.protobuf.Timestamp",
    "google.protobuf.Duration",
    "google.protobuf.FieldMask",
)
_OTHER_WELL_KNOWN = (
    "google.protobuf.Any",
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
)


def reference_rendering(message: Message) -> dict[str, object]:
    """MessageToDict with Confluent's options: what a renderer's output must equal."""
    return json_format.MessageToDict(
        message, always_print_fields_with_no_presence=True, preserving_proto_field_name=True
    )


class Renderers:
    """The renderer of each message type of one schema, built when a record first needs it."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[Descriptor, Render] = {}

    def of(self, descriptor: Descriptor) -> Render:
        known = self._known.get(descriptor)
        if known is not None:
            return known
        full_name = descriptor.full_name
        if full_name in _TO_JSON_STRING:
            return self._known.setdefault(descriptor, _to_json_string)
        if (
            full_name in _OTHER_WELL_KNOWN
            or descriptor.file.name == "google/protobuf/wrappers.proto"
        ):
            return self._known.setdefault(descriptor, reference_rendering)
        # A type may contain itself: its own fields meet this forward until it is built.
        forward = self._known[descriptor] = _Forward()
        forward.target = self._known[descriptor] = _TypeSource(self, descriptor).compile()
        return forward.target


class _Forward:
    __slots__ = ("target",)

    target: Render

    def __call__(self, message: Any) -> Any:
        return self.target(message)


class _TypeSource:
    """The source of one message type's renderer, and the values it refers to by name."""

    def __init__(self, renderers: Renderers, descriptor: Descriptor) -> None:
        self._renderers = renderers
        self._descriptor = descriptor
        self.names: dict[str, object] = {
            "str": str,
            "_base64": _base64,
            "_non_finite": _non_finite,
            "_float": _float,
        }

    def compile(self) -> Render:
        fields = sorted(self._descriptor.fields, key=lambda field: field.number)
        # The fields before the first with presence go in the dict display (the cheapest
        # build), the others after it, in order; a field with presence only when set.
        first = next((i for i, field in enumerate(fields) if field.has_presence), len(fields))
        shown = ", ".join(f"{f.name!r}: {self._whole(f)}" for f in fields[:first])
        lines = ["def render(m):", f"    js = {{{shown}}}"]
        for field in fields[first:]:
            assignment = f"js[{field.name!r}] = {self._whole(field)}"
            if field.has_presence:
                lines += [f"    if m.HasField({field.name!r}):", f"        {assignment}"]
            else:
                lines.append(f"    {assignment}")
        lines.append("    return js")
        exec("\n".join(lines), self.names)
        render: Render = self.names["render"]  # type: ignore[assignment]
        if self._descriptor.extension_ranges:
            return _extensions_by_reference(render)
        return render

    def _whole(self, field: FieldDescriptor) -> str:
        """The expression of the whole field of message `m`."""
        name = field.name
        value = f"getattr(m, {name!r})" if keyword.iskeyword(name) else f"m.{name}"
        entry = _map_entry(field)
        if entry is not None:
            key_type = entry.fields_by_name["key"].type
            item = self._single(entry.fields_by_name["value"], "v")
            if key_type == FieldDescriptor.TYPE_STRING and item == "v":
                return f"dict({value})"
            key = (
                "('true' if k else 'false')" if key_type == FieldDescriptor.TYPE_BOOL else "str(k)"
            )
            return f"{{{key}: {item} for k, v in {value}.items()}}"
        if field.is_repeated:
            item = self._single(field, "v")
            if item == "v":
                return f"list({value})"
            if item.endswith("(v)"):  # one call per value: map() makes the calls in C
                return f"list(map({item[:-3]}, {value}))"
            return f"[{item} for v in {value}]"
        return self._single(field, value)

    def _single(self, field: FieldDescriptor, value: str) -> str:
        """The expression of one value of the field."""
        cpp_type = field.cpp_type
        if field.message_type is not None:
            return f"{self._name(self._renderers.of(field.message_type))}({value})"
        if field.enum_type is not None:
            if field.enum_type.full_name == "google.protobuf.NullValue":
                return "None"  # whatever the number
            return f"{self._name(enum_names(field, field.enum_type))}[{value}]"
        if field.type == FieldDescriptor.TYPE_BYTES:
            return f"_base64({value})"
        if cpp_type in _INT64:
            return f"str({value})"
        if cpp_type == FieldDescriptor.CPPTYPE_DOUBLE:
            # Inline, for the many doubles of numeric records: finite ones are their own JSON.
            return f"(d if (d := {value}) - d == 0.0 else _non_finite(d))"
        if cpp_type == FieldDescriptor.CPPTYPE_FLOAT:
            return f"_float({value})"
        return value  # 32-bit integers, bool and string are their own JSON

    def _name(self, referred: object) -> str:
        name = f"c{len(self.names)}"
        self.names[name] = referred
        return name


class _EnumNames(dict[int, object]):
    """An enum's numbers to their JSON names; a number the schema does not name (an open enum
    read by a newer writer) stays a number, as MessageToDict leaves it."""

    def __missing__(self, number: int) -> object:
        return number


def enum_names(field: FieldDescriptor, enum: EnumDescriptor) -> _EnumNames:
    """The printer's own naming, asked once per value: names, or the json_name option where an
    enum value has one (json_format keeps that naming in its private printer alone)."""
    printer = json_format._Printer()  # type: ignore[attr-defined]
    return _EnumNames(
        (value.number, printer._FieldToJsonObject(field, value.number)) for value in enum.values
    )


def _extensions_by_reference(render: Render) -> Render:
    """`render`, but a record that sets proto2 extensions (named `[full.name]`, known only
    once a record sets them, and rare in registered schemas) is rendered by MessageToDict."""

    def render_with_extensions(message: Any) -> Any:
        if any(field.is_extension for field, _ in message.ListFields()):
            return reference_rendering(message)
        return render(message)

    return render_with_extensions


def _map_entry(field: FieldDescriptor) -> Descriptor | None:
    """The key-value entry type of a map field; None for any other field."""
    entry = field.message_type
    if entry is not None and entry.has_options and entry.GetOptions().map_entry:
        return entry
    return None


def _to_json_string(message: Any) -> str:
    return message.ToJsonString()  # type: ignore[no-any-return]


def _base64(value: bytes) -> str:
    return binascii.b2a_base64(value, newline=False).decode("ascii")


def _float(value: float) -> object:
    if value - value == 0.0:  # finite
        return ToShortestFloat(value)
    return _non_finite(value)


def _non_finite(value: float) -> str:
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
