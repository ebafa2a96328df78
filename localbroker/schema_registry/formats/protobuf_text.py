""".proto text printed from a FileDescriptorProto the way Confluent's registry prints it.

Confluent turns every Protobuf schema into Square Wire's `ProtoFileElement` and prints that with
`ProtobufSchemaUtils.toString` (its `canonicalString()`, the text it stores and serves) or, for
`normalize=true`, `toNormalizedString`. The schemas confluent-kafka's Python serializer
registers arrive as a serialized FileDescriptorProto, which Confluent converts with
`ProtobufSchema.toProtoFile(FileDescriptorProto)`; this module prints what that conversion and
those printers give: fully-qualified type names with a leading dot, proto3 labels left out,
the synthetic oneofs of proto3 `optional` fields dropped, messages before enums.

One departure: a map field prints as `map<K, V>` in both forms, as Confluent prints it for
schemas registered as text, where its descriptor conversion would print the `repeated` entry
message with `option map_entry = true`. The registry stores this text and compiles it again
(a reference's text, a restart), and protoc refuses an explicit `map_entry`.

Left out, as too rare for the cost: custom options, extensions and `extend` blocks, groups,
editions features.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
    ServiceDescriptorProto,
)
from google.protobuf.message import Message

_T = TypeVar("_T")

_MAX_TAG = 536_870_911
"""The largest field number; a reserved range reaching it prints `to max`."""

_FILE_OPTIONS = (
    "java_package",
    "java_outer_classname",
    "java_multiple_files",
    "java_generate_equals_and_hash",
    "java_string_check_utf8",
    "optimize_for",
    "go_package",
    "cc_generic_services",
    "java_generic_services",
    "py_generic_services",
    "deprecated",
    "cc_enable_arenas",
    "objc_class_prefix",
    "csharp_namespace",
    "swift_prefix",
    "php_class_prefix",
    "php_namespace",
    "php_metadata_namespace",
    "ruby_package",
)
"""The file options Confluent's conversion keeps, in the order it prints them."""
_MESSAGE_OPTIONS = ("no_standard_descriptor_accessor", "deprecated")
_FIELD_OPTIONS = ("ctype", "packed", "jstype", "deprecated", "debug_redact")
_ENUM_OPTIONS = ("allow_alias", "deprecated")
_ENUM_VALUE_OPTIONS = ("deprecated", "debug_redact")
_SERVICE_OPTIONS = ("deprecated",)
_METHOD_OPTIONS = ("deprecated", "idempotency_level")

_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
}


def scalar_name(field: FieldDescriptorProto) -> str:
    """`int32`, `string`...: the .proto spelling of a field's scalar type."""
    return FieldDescriptorProto.Type.Name(field.type).removeprefix("TYPE_").lower()


def type_name(field: FieldDescriptorProto) -> str:
    """The field's type as Confluent's conversion spells it: the resolved name of a message or
    enum (with its leading dot), else the scalar's name."""
    return field.type_name if field.type_name else scalar_name(field)


def label(syntax: str, field: FieldDescriptorProto, in_oneof: bool) -> str | None:
    """The label Wire's element carries (`ProtobufSchema.label`): none inside a oneof, none for
    a proto3 field that is not `repeated` or proto3 `optional`."""
    if in_oneof:
        return None
    if field.proto3_optional:
        return "optional"
    if field.label == FieldDescriptorProto.LABEL_REPEATED:
        return "repeated"
    if syntax == "proto3":
        return None
    return "required" if field.label == FieldDescriptorProto.LABEL_REQUIRED else "optional"


def print_file(file: FileDescriptorProto, normalize: bool) -> str:
    """The whole file as `canonicalString()` (normalize False) or `normalize()` gives it."""
    printer = _Printer(file, normalize)
    return printer.file()


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in text)


def _indented(text: str) -> str:
    """Java's `appendIndented`: every line of `text` two spaces in, blank lines included."""
    lines = text.split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return "".join(f"  {line}\n" for line in lines)


def _option_value(options: Message, name: str) -> str:
    field = options.DESCRIPTOR.fields_by_name[name]
    value = getattr(options, name)
    if field.type == field.TYPE_STRING:
        return f'"{_escape(value)}"'
    if field.type == field.TYPE_BOOL:
        return "true" if value else "false"
    if field.enum_type is not None:
        return str(field.enum_type.values_by_number[value].name)
    return str(value)


def _range(start: int, end_inclusive: int) -> str:
    if start == end_inclusive:
        return str(start)
    return f"{start} to {end_inclusive if end_inclusive < _MAX_TAG else 'max'}"


class _Printer:
    """One file's printing; holds the map entry messages, which print as `map<K, V>` field
    types."""

    def __init__(self, file: FileDescriptorProto, normalize: bool) -> None:
        self._file = file
        self._normalize = normalize
        self._map_entries: dict[str, DescriptorProto] = {}
        prefix = f".{file.package}" if file.package else ""
        self._collect_map_entries(prefix, file.message_type)

    def _collect_map_entries(self, prefix: str, messages: Iterable[DescriptorProto]) -> None:
        for message in messages:
            name = f"{prefix}.{message.name}"
            if message.options.map_entry:
                self._map_entries[name] = message
            self._collect_map_entries(name, message.nested_type)

    def _options(self, options: Message, names: Sequence[str]) -> list[tuple[str, str]]:
        found = [(name, _option_value(options, name)) for name in names if options.HasField(name)]
        return sorted(found) if self._normalize else found

    def _sorted(self, items: Iterable[_T], key: Callable[[_T], int]) -> list[_T]:
        return sorted(items, key=key) if self._normalize else list(items)

    def file(self) -> str:
        file, out = self._file, []
        if file.syntax == "proto3" or (file.syntax == "proto2" and not self._normalize):
            out.append(f'syntax = "{file.syntax}";\n')
        if file.package:
            out.append(f"package {file.package};\n")
        public = {file.dependency[i] for i in file.public_dependency}
        weak = {file.dependency[i] for i in file.weak_dependency}
        imports = [name for name in file.dependency if name not in public | weak]
        if imports or public:
            if self._normalize:
                imports, public_imports = sorted(set(imports)), sorted(public)
            else:
                public_imports = [name for name in file.dependency if name in public]
            out.append("\n")
            out.extend(f'import "{name}";\n' for name in imports)
            out.extend(f'import public "{name}";\n' for name in public_imports)
        options = self._options(file.options, _FILE_OPTIONS)
        if options:
            out.append("\n")
            out.extend(f"option {name} = {value};\n" for name, value in options)
        types = self._types(file.message_type, file.enum_type)
        if types:
            out.append("\n")
            out.extend(types)
        if file.service:
            out.append("\n")
            out.extend(self._service(service) for service in file.service)
        return "".join(out)

    def _types(
        self, messages: Iterable[DescriptorProto], enums: Iterable[EnumDescriptorProto]
    ) -> list[str]:
        kept = [m for m in messages if not m.options.map_entry]
        return [self._message(m) for m in kept] + [self._enum(e) for e in enums]

    def _message(self, message: DescriptorProto) -> str:
        out = [f"message {message.name} {{"]
        reserved = [_range(r.start, r.end - 1) for r in message.reserved_range]
        self._reserved(out, reserved, message.reserved_name)
        options = self._options(message.options, _MESSAGE_OPTIONS)
        if options:
            out.append("\n")
            out.extend(_indented(f"option {name} = {value};\n") for name, value in options)
        synthetic = {f.oneof_index for f in message.field if f.proto3_optional}
        plain = [f for f in message.field if not f.HasField("oneof_index") or f.proto3_optional]
        if plain:
            out.append("\n")
            fields = self._sorted(plain, key=lambda f: f.number)
            out.extend(_indented(self._field(f, in_oneof=False)) for f in fields)
        oneofs = []
        for index, oneof in enumerate(message.oneof_decl):
            members = [
                f for f in message.field if f.HasField("oneof_index") and f.oneof_index == index
            ]
            if members and index not in synthetic:
                oneofs.append((oneof.name, self._sorted(members, key=lambda f: f.number)))
        if oneofs:
            out.append("\n")
            for name, members in self._sorted(oneofs, key=lambda o: o[1][0].number):
                body = "".join(_indented(self._field(f, in_oneof=True)) for f in members)
                out.append(_indented(f"oneof {name} {{\n{body}}}\n"))
        nested = self._types(message.nested_type, message.enum_type)
        if nested:
            out.append("\n")
            out.extend(_indented(text) for text in nested)
        out.append("}\n")
        return "".join(out)

    def _reserved(self, out: list[str], ranges: list[str], names: Iterable[str]) -> None:
        """Reserved numbers and names, one per line as Confluent's conversion makes them; the
        normalized form sorts them by number, names last."""
        lines = [(int(r.split()[0]), r) for r in ranges]
        lines += [(_MAX_TAG + 1, f'"{name}"') for name in names]
        if self._normalize:
            lines.sort()
        if lines:
            out.append("\n")
            out.extend(_indented(f"reserved {text};\n") for _, text in lines)

    def _field(self, field: FieldDescriptorProto, in_oneof: bool) -> str:
        field_label = label(self._file.syntax, field, in_oneof)
        field_type = type_name(field)
        entry = self._map_entries.get(field.type_name)
        if entry is not None:
            key, value = sorted(entry.field, key=lambda f: f.number)
            field_type, field_label = f"map<{type_name(key)}, {type_name(value)}>", None
        options = self._options(field.options, _FIELD_OPTIONS)
        if field.HasField("default_value") and self._file.syntax != "proto3":
            default = field.default_value
            quoted = field.type in (field.TYPE_STRING, field.TYPE_BYTES)
            options.append(("default", f'"{_escape(default)}"' if quoted else default))
        if field.HasField("json_name"):
            options.append(("json_name", f'"{_escape(field.json_name)}"'))
        if self._normalize:
            options.sort()
        text = f"{field_label} " if field_label else ""
        text += f"{field_type} {field.name} = {field.number}"
        return f"{text}{_options_suffix(options)};\n"

    def _enum(self, enum: EnumDescriptorProto) -> str:
        out = [f"enum {enum.name} {{"]
        reserved = [_range(r.start, r.end) for r in enum.reserved_range]
        self._reserved(out, reserved, enum.reserved_name)
        options = self._options(enum.options, _ENUM_OPTIONS)
        if not reserved and not enum.reserved_name and (options or enum.value):
            out.append("\n")
        out.extend(_indented(f"option {name} = {value};\n") for name, value in options)
        values = list(enum.value)
        if self._normalize:
            values.sort(key=lambda v: (v.number, v.name))
        for value in values:
            suffix = _options_suffix(self._options(value.options, _ENUM_VALUE_OPTIONS))
            out.append(_indented(f"{value.name} = {value.number}{suffix};\n"))
        out.append("}\n")
        return "".join(out)

    def _service(self, service: ServiceDescriptorProto) -> str:
        out = [f"service {service.name} {{"]
        options = self._options(service.options, _SERVICE_OPTIONS)
        if options:
            out.append("\n")
            out.extend(_indented(f"option {name} = {value};\n") for name, value in options)
        if service.method:
            out.append("\n")
        for method in service.method:
            request = (
                f"stream {method.input_type}" if method.client_streaming else method.input_type
            )
            response = method.output_type
            response = f"stream {response}" if method.server_streaming else response
            rpc = f"rpc {method.name} ({request}) returns ({response})"
            options = self._options(method.options, _METHOD_OPTIONS)
            if options:
                lines = "".join(_indented(f"option {n} = {v};\n") for n, v in options)
                rpc += f" {{\n{lines}}}"
            out.append(_indented(f"{rpc};\n"))
        out.append("}\n")
        return "".join(out)


def _options_suffix(options: Sequence[tuple[str, str]]) -> str:
    """Java's `appendOptions` after a field or enum value: one option inline, several one per
    line."""
    if not options:
        return ""
    if len(options) == 1:
        name, value = options[0]
        return f" [{name} = {value}]"
    lines = ",\n".join(f"  {name} = {value}" for name, value in options)
    return f" [\n{lines}\n]"
