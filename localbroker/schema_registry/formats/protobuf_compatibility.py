"""Confluent's Protobuf compatibility rules, on FileDescriptorProtos.

A port of protobuf-provider's `diff` package (SchemaDiff, MessageSchemaDiff, FieldSchemaDiff,
EnumSchemaDiff, Context): the writer's schema is the `original`, the reader's the `update`, and
every difference whose type is not in `SchemaDiff.COMPATIBLE_CHANGES` makes the reader unable
to read. Fields are matched by number, so a renamed field is compatible and a number reused
with another kind of type is not; scalars are grouped the way protobuf's wire format lets one
read another (int32/int64/uint32/uint64/bool, sint32/sint64, string/bytes, the fixed widths).

Confluent works on Wire's `ProtoFileElement`; its descriptor conversion gives the same shapes
used here: proto3 fields without a label, oneof members without one, synthetic oneofs of proto3
`optional` fields dropped, and fully-qualified type names, so no relative name resolution is
needed. Confluent skips comparing a message type that both schemas take from the same
subject-version; here, from the same import path with the same content. Differences are listed
in name and number order (Confluent iterates hash maps).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
)

from localbroker.schema_registry.formats.protobuf_text import label, type_name

Schema = tuple[FileDescriptorProto, Mapping[str, FileDescriptorProto]]
"""A schema's file and the files it imports, by import path."""

COMPATIBLE_CHANGES = frozenset(
    {
        "MESSAGE_ADDED",
        "MESSAGE_MOVED",
        "ENUM_ADDED",
        "ENUM_REMOVED",
        "ENUM_CONST_ADDED",
        "ENUM_CONST_CHANGED",
        "ENUM_CONST_REMOVED",
        "FIELD_ADDED",
        "FIELD_REMOVED",
        "FIELD_NAME_CHANGED",
        "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
        "ONEOF_ADDED",
        "ONEOF_REMOVED",
        "ONEOF_FIELD_ADDED",
        "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
    }
)
"""`SchemaDiff.COMPATIBLE_CHANGES`."""

_DESCRIPTIONS = {
    "PACKAGE_CHANGED": "The package at '{path}' in the %s schema does not match the package "
    "in the %s schema",
    "MESSAGE_REMOVED": "The %s schema is missing a MESSAGE type at path '{path}' in the %s schema",
    "FIELD_KIND_CHANGED": "The type of a field at path '{path}' in the %s schema does not "
    "match the %s schema",
    "FIELD_SCALAR_KIND_CHANGED": "The kind of a SCALAR field at path '{path}' in the %s "
    "schema does not match its kind in the %s schema",
    "FIELD_NAMED_TYPE_CHANGED": "The type of a MESSAGE field at path '{path}' in the %s schema "
    "does not match its type in the %s schema",
    "FIELD_NUMERIC_LABEL_CHANGED": "The label for a NUMERIC field at path '{path}' in the %s "
    "schema does not match its label in the %s schema",
    "REQUIRED_FIELD_ADDED": "A required field  at path '{path}' in the %s schema is missing "
    "in the %s schema",
    "REQUIRED_FIELD_REMOVED": "The %s schema is missing a required field at path: '{path}' "
    "in the %s schema",
    "ONEOF_FIELD_REMOVED": "The %s schema is missing a oneof field at path '{path}' in the "
    "%s schema",
    "MULTIPLE_FIELDS_MOVED_TO_ONEOF": "Multiple fields in the oneof at path '{path}' in the %s "
    "schema are outside a oneof in the %s schema",
    "FIELD_MOVED_TO_EXISTING_ONEOF": "A field in the oneof at path '{path}' in the %s schema "
    "is outside an existing oneof in the %s schema",
}
"""`Difference.error()`, with Confluent's two `%s` slots kept: the reader's role, then the
writer's, which the registry fills with "new" and "old" as the level requires (Confluent's
SchemaValidatorBuilder)."""

_SCALAR_KINDS = {
    **dict.fromkeys(("int32", "int64", "uint32", "uint64", "bool", "enum"), "GENERAL_NUMBER"),
    **dict.fromkeys(("sint32", "sint64"), "SIGNED_NUMBER"),
    **dict.fromkeys(("string", "bytes"), "STRING_OR_BYTES"),
    **dict.fromkeys(("fixed32", "sfixed32"), "FIXED32"),
    **dict.fromkeys(("fixed64", "sfixed64"), "FIXED64"),
    "float": "FLOAT",
    "double": "DOUBLE",
}
_NUMERIC = frozenset(("GENERAL_NUMBER", "SIGNED_NUMBER", "FIXED32", "FIXED64", "FLOAT", "DOUBLE"))

_FieldType = str | tuple[str, str]
"""A scalar's name, a message or enum's full name (leading dot), or a map's key and value."""


def changes(original: Schema, update: Schema) -> list[tuple[str, str]]:
    """Every Difference `SchemaDiff.compare(original, update)` finds, compatible ones too, as
    (type, path) pairs."""
    context = _Context(_types(original), _types(update))
    _compare_files(context, original[0], update[0])
    return context.differences


def differences(original: Schema, update: Schema) -> list[str]:
    """Why data written with `original` cannot be read with `update`, in Confluent's words."""
    return [
        f'{{errorType:"{kind}", description:"' + _DESCRIPTIONS[kind].format(path=path) + '"}'
        for kind, path in changes(original, update)
        if kind not in COMPATIBLE_CHANGES
    ]


@dataclass(frozen=True, slots=True)
class _TypeInfo:
    """`Context.TypeElementInfo`: where a message or enum is defined."""

    package: str
    source: tuple[str, bytes]
    """The import path and content of its file; ("", b"") for the schema's own file."""
    syntax: str
    message: DescriptorProto | None
    enum: EnumDescriptorProto | None


def _types(schema: Schema) -> dict[str, _TypeInfo]:
    """Every message and enum of the schema and its imports, by full name with a leading dot."""
    main, imports = schema
    types: dict[str, _TypeInfo] = {}
    sources = [(file, (name, file.SerializeToString())) for name, file in imports.items()]
    for file, source in [*sources, (main, ("", b""))]:
        prefix = f".{file.package}" if file.package else ""
        _collect(types, prefix, file, source, file.message_type, file.enum_type)
    return types


def _collect(
    types: dict[str, _TypeInfo],
    prefix: str,
    file: FileDescriptorProto,
    source: tuple[str, bytes],
    messages: Iterable[DescriptorProto],
    enums: Iterable[EnumDescriptorProto],
) -> None:
    for message in messages:
        name = f"{prefix}.{message.name}"
        types[name] = _TypeInfo(file.package, source, file.syntax, message, None)
        _collect(types, name, file, source, message.nested_type, message.enum_type)
    for enum in enums:
        types[f"{prefix}.{enum.name}"] = _TypeInfo(file.package, source, file.syntax, None, enum)


@dataclass
class _Context:
    """`diff.Context`: both schemas' types, the path being compared, the differences found."""

    original_types: Mapping[str, _TypeInfo]
    update_types: Mapping[str, _TypeInfo]
    path: list[str] = field(default_factory=list)
    differences: list[tuple[str, str]] = field(default_factory=list)
    in_progress: set[int] = field(default_factory=set)

    def add(self, kind: str) -> None:
        self.differences.append((kind, "#/" + "/".join(self.path)))

    @contextmanager
    def at(self, *parts: str) -> Iterator[None]:
        self.path.extend(parts)
        try:
            yield
        finally:
            del self.path[len(self.path) - len(parts) :]

    def compatible(self) -> bool:
        return all(kind in COMPATIBLE_CHANGES for kind, _ in self.differences)


def _compare_files(
    context: _Context, original: FileDescriptorProto, update: FileDescriptorProto
) -> None:
    if original.package != update.package:
        context.add("PACKAGE_CHANGED")
    _compare_types(
        context, (original.syntax, update.syntax), original.message_type, update.message_type
    )
    _compare_enums(context, original.enum_type, update.enum_type)


def _compare_types(
    context: _Context,
    syntaxes: tuple[str, str],
    original: Sequence[DescriptorProto],
    update: Sequence[DescriptorProto],
) -> None:
    """`SchemaDiff.compareTypeElements` for messages: by name, and by index for MESSAGE_MOVED."""
    original_by_name = {m.name: (i, m) for i, m in enumerate(original)}
    update_by_name = {m.name: (i, m) for i, m in enumerate(update)}
    for name in sorted(original_by_name.keys() | update_by_name.keys()):
        with context.at(name):
            before, after = original_by_name.get(name), update_by_name.get(name)
            if after is None:
                if before is not None and not before[1].options.map_entry:
                    context.add("MESSAGE_REMOVED")
            elif before is None:
                if not after[1].options.map_entry:
                    context.add("MESSAGE_ADDED")
            else:
                _compare_messages(context, syntaxes, before[1], after[1])
                if before[0] != after[0]:
                    context.add("MESSAGE_MOVED")


def _compare_enums(
    context: _Context,
    original: Sequence[EnumDescriptorProto],
    update: Sequence[EnumDescriptorProto],
) -> None:
    """`SchemaDiff.compareTypeElements` for enums, with `EnumSchemaDiff.compare`."""
    original_by_name = {e.name: e for e in original}
    update_by_name = {e.name: e for e in update}
    for name in sorted(original_by_name.keys() | update_by_name.keys()):
        with context.at(name):
            before, after = original_by_name.get(name), update_by_name.get(name)
            if after is None:
                context.add("ENUM_REMOVED")
            elif before is None:
                context.add("ENUM_ADDED")
            else:
                before_values = {v.number: v.name for v in before.value}
                after_values = {v.number: v.name for v in after.value}
                for number in sorted(before_values.keys() | after_values.keys()):
                    with context.at(str(number)):
                        if number not in after_values:
                            context.add("ENUM_CONST_REMOVED")
                        elif number not in before_values:
                            context.add("ENUM_CONST_ADDED")
                        elif before_values[number] != after_values[number]:
                            context.add("ENUM_CONST_CHANGED")


@dataclass(frozen=True, slots=True)
class _Fields:
    """A message's fields by number, with the oneof each belongs to (synthetic ones left out,
    as Confluent's conversion leaves them)."""

    by_number: dict[int, FieldDescriptorProto]
    oneof_of: dict[int, str]
    oneofs: dict[str, list[int]]

    @classmethod
    def of(cls, message: DescriptorProto) -> _Fields:
        by_number = {f.number: f for f in message.field}
        oneof_of = {
            f.number: message.oneof_decl[f.oneof_index].name
            for f in message.field
            if f.HasField("oneof_index") and not f.proto3_optional
        }
        oneofs: dict[str, list[int]] = {}
        for number, name in oneof_of.items():
            oneofs.setdefault(name, []).append(number)
        return cls(by_number, oneof_of, oneofs)


def _compare_messages(
    context: _Context,
    syntaxes: tuple[str, str],
    original: DescriptorProto,
    update: DescriptorProto,
) -> None:
    """`MessageSchemaDiff.compare`."""
    if id(original) in context.in_progress:
        return
    context.in_progress.add(id(original))
    before, after = _Fields.of(original), _Fields.of(update)
    deleted_oneofs = {
        name
        for name, numbers in before.oneofs.items()
        if name not in after.oneofs and not any(n in after.by_number for n in numbers)
    }
    for oneof, numbers in after.oneofs.items():
        with context.at(oneof):
            groups = set()
            moved_in = 0
            for number in numbers:
                if number in before.oneof_of:
                    groups.add("oneof:" + before.oneof_of[number])
                elif number in before.by_number:
                    groups.add(f"field:{number}")
                    moved_in += 1
            if len(groups) > 1:
                multiple = moved_in > 1
                context.add(
                    "MULTIPLE_FIELDS_MOVED_TO_ONEOF"
                    if multiple
                    else "FIELD_MOVED_TO_EXISTING_ONEOF"
                )
    for oneof in sorted(before.oneofs.keys() | after.oneofs.keys()):
        with context.at(oneof):
            if oneof not in after.oneofs:
                context.add("ONEOF_REMOVED")
            elif oneof not in before.oneofs:
                context.add("ONEOF_ADDED")
    for number in sorted(before.by_number.keys() | after.by_number.keys()):
        old, new = before.by_number.get(number), after.by_number.get(number)
        old_oneof, new_oneof = before.oneof_of.get(number), after.oneof_of.get(number)
        tag = str(number)
        if new is None:
            assert old is not None
            if old_oneof not in deleted_oneofs:
                _only_one_side(context, old, old_oneof, "REMOVED")
        elif old is None:
            _only_one_side(context, new, new_oneof, "ADDED")
        else:
            if old_oneof is not None and new_oneof is None:
                with context.at(tag):
                    context.add("ONEOF_FIELD_MOVED_TO_TOP_LEVEL")
            with context.at(*([new_oneof] if new_oneof else []), tag):
                if old.name != new.name:
                    context.add("FIELD_NAME_CHANGED")
                labels = (
                    label(syntaxes[0], old, old_oneof is not None),
                    label(syntaxes[1], new, new_oneof is not None),
                )
                _compare_labels_and_types(
                    context,
                    labels,
                    _field_type(context, old, True),
                    _field_type(context, new, False),
                )
    _compare_types(context, syntaxes, original.nested_type, update.nested_type)
    _compare_enums(context, original.enum_type, update.enum_type)
    context.in_progress.discard(id(original))


def _only_one_side(
    context: _Context, field_: FieldDescriptorProto, oneof: str | None, change: str
) -> None:
    """A field only one schema has: ONEOF_FIELD_<change> in a oneof, else FIELD_<change>, or
    REQUIRED_FIELD_<change> for a proto2 `required` one. A oneof removed with all its members
    is not a removal of each (the caller leaves those out)."""
    number = str(field_.number)
    if oneof is not None:
        with context.at(oneof, number):
            context.add(f"ONEOF_FIELD_{change}")
    else:
        with context.at(number):
            required = field_.label == FieldDescriptorProto.LABEL_REQUIRED
            context.add(f"REQUIRED_FIELD_{change}" if required else f"FIELD_{change}")


def _field_type(context: _Context, field_: FieldDescriptorProto, is_original: bool) -> _FieldType:
    """The field's type, a map entry message read as its key and value types."""
    types = context.original_types if is_original else context.update_types
    info = types.get(field_.type_name)
    if info is not None and info.message is not None and info.message.options.map_entry:
        key, value = sorted(info.message.field, key=lambda f: f.number)
        return (type_name(key), type_name(value))
    return type_name(field_)


def _compare_labels_and_types(
    context: _Context,
    labels: tuple[str | None, str | None],
    original: _FieldType,
    update: _FieldType,
) -> None:
    """`FieldSchemaDiff.compareLabelsAndTypes`."""
    original_kind, update_kind = _kind(context, original, True), _kind(context, update, False)
    if original_kind != update_kind:
        context.add("FIELD_KIND_CHANGED")
    elif isinstance(original, tuple) and isinstance(update, tuple):
        for before, after in zip(original, update, strict=True):
            _compare_labels_and_types(context, (None, None), before, after)
    elif isinstance(original, tuple) or isinstance(update, tuple):
        return
    elif original_kind == "MESSAGE":
        _compare_message_types(context, original, update)
    else:
        scalar = _scalar_kind(original)
        if scalar != _scalar_kind(update):
            context.add("FIELD_SCALAR_KIND_CHANGED")
        elif None not in labels and labels[0] != labels[1]:
            if scalar in _NUMERIC:
                context.add("FIELD_NUMERIC_LABEL_CHANGED")
            elif scalar == "STRING_OR_BYTES":
                context.add("FIELD_STRING_OR_BYTES_LABEL_CHANGED")


def _kind(context: _Context, type_: _FieldType, is_original: bool) -> str:
    if isinstance(type_, tuple):
        return "MAP"
    if not type_.startswith("."):
        return "SCALAR"
    info = (context.original_types if is_original else context.update_types).get(type_)
    return "SCALAR" if info is not None and info.enum is not None else "MESSAGE"


def _scalar_kind(type_: str) -> str:
    """The group of scalars protobuf lets read one another; an enum reads as an int32."""
    return _SCALAR_KINDS["enum" if type_.startswith(".") else type_]


def _compare_message_types(context: _Context, original: str, update: str) -> None:
    """`FieldSchemaDiff.compareMessageTypes`: the same name relative to its package; a type
    from another file (an import) is compared field by field where it is used."""
    before, after = context.original_types.get(original), context.update_types.get(update)
    if before is None or after is None or before.message is None or after.message is None:
        if original != update:
            context.add("FIELD_NAMED_TYPE_CHANGED")
        return
    local = original.removeprefix(f".{before.package}." if before.package else ".")
    if local != update.removeprefix(f".{after.package}." if after.package else "."):
        context.add("FIELD_NAMED_TYPE_CHANGED")
    elif before.source != after.source:
        nested = _Context(
            context.original_types,
            context.update_types,
            local.split("."),
            [],
            set(context.in_progress),
        )
        _compare_messages(nested, (before.syntax, after.syntax), before.message, after.message)
        context.differences.extend(nested.differences)
        if not nested.compatible():
            context.add("FIELD_NAMED_TYPE_CHANGED")
