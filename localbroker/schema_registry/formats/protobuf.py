"""Protobuf schemas: .proto text compiled by protoc, records in Confluent's Protobuf wire body.

Python's `protobuf` package builds descriptors but cannot parse .proto text, so the text goes
through protoc itself as `grpcio-tools` packages it (an extension module, no separate binary):
its in-process compiler reports errors as file:line:column and resolves imports from the
schema's references, or, for the files Confluent knows without one, from the copies that
grpcio-tools (`google/protobuf/*.proto`) and googleapis-common-protos (`google/type/*.proto`)
ship. The compiled files become FileDescriptorProtos in a private DescriptorPool per schema,
so two subjects may define the same message name without clashing.

A schema may also arrive as a base64 serialized FileDescriptorProto: that is what
confluent-kafka's Python ProtobufSerializer registers, and Confluent accepts it too.

The wire body after Confluent's 5-byte header starts with the message indexes that name which
message of the file the record is (`MessageIndexes` in Confluent's serializer): a zig-zag
varint count, then that many zig-zag varint indexes, the path from a top-level message down
through nested ones; the single byte 0 stands for [0], the first message.
"""

from __future__ import annotations

import ast
import base64
import binascii
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from grpc_tools import _protoc_compiler  # type: ignore[import-untyped]

from localbroker.schema_registry.formats.protobuf_compatibility import differences
from localbroker.schema_registry.formats.protobuf_json import Render, Renderers
from localbroker.schema_registry.formats.protobuf_text import print_file
from localbroker.schema_registry.schema_format import (
    InvalidSchema,
    ParsedSchema,
    SchemaType,
    UndecodableRecord,
)
from localbroker.varints import zigzag

MAIN_FILE = "schema.proto"
"""The name the registered text compiles under; protoc's error messages start with it."""

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


@dataclass(frozen=True, slots=True)
class ProtobufSchema:
    """One compiled schema: its file, the files it imports (by import path), and the pool that
    holds them all."""

    file: FileDescriptor
    proto: FileDescriptorProto
    imports: Mapping[str, FileDescriptorProto]
    _canonical: str = field(init=False, compare=False)
    _renderers: Renderers = field(init=False, compare=False, default_factory=Renderers)
    _readers: dict[tuple[int, ...], tuple[type[Message], Render]] = field(
        init=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_canonical", print_file(self.proto, normalize=False))

    @property
    def schema_type(self) -> SchemaType:
        return SchemaType.PROTOBUF

    def canonical(self) -> str:
        return self._canonical

    def normalized(self) -> str:
        return print_file(self.proto, normalize=True)

    def serialized(self) -> str:
        """The base64 FileDescriptorProto Confluent answers for `?format=serialized`, which
        confluent-kafka's Python deserializer asks for."""
        return base64.standard_b64encode(self.proto.SerializeToString()).decode("ascii")

    def formatted(self, fmt: str) -> str:
        """`serialized` as above; Confluent's `ignore_extensions` is the canonical text, which
        leaves extensions and custom options out already (protobuf_text.py)."""
        return self.serialized() if fmt.lower() == "serialized" else self.canonical()

    def message(self, indexes: Sequence[int]) -> Descriptor:
        """The message the indexes name: a top-level message, then nested ones."""
        if min(indexes) < 0:
            raise UndecodableRecord(f"No message at indexes {list(indexes)}")
        try:
            descriptor = list(self.file.message_types_by_name.values())[indexes[0]]
            for index in indexes[1:]:
                descriptor = descriptor.nested_types[index]
        except IndexError:
            raise UndecodableRecord(f"No message at indexes {list(indexes)}") from None
        return descriptor

    def decode(self, body: bytes) -> object:
        indexes, offset = read_message_indexes(body)
        message_class, render = self._reader(indexes)
        try:
            message = message_class.FromString(body[offset:])
        except DecodeError as e:
            name = message_class.DESCRIPTOR.full_name
            raise UndecodableRecord(f"Not a {name} at indexes {indexes}: {e}") from None
        try:
            return render(message)
        except (TypeError, ValueError, json_format.Error) as e:
            # It parses, but its JSON form refuses it: an Any of a type no pool here knows, a
            # Timestamp out of range, a NaN google.protobuf.Value...
            name = message_class.DESCRIPTOR.full_name
            raise UndecodableRecord(f"A {name} that cannot be shown as JSON: {e}") from None

    def _reader(self, indexes: list[int]) -> tuple[type[Message], Render]:
        """The message class and renderer (protobuf_json.py) of the message at `indexes`, built
        on its first record: the Tail decodes thousands of records a second with each."""
        key = tuple(indexes)
        reader = self._readers.get(key)
        if reader is None:
            descriptor = self.message(indexes)
            reader = self._readers[key] = (
                GetMessageClass(descriptor),
                self._renderers.of(descriptor),
            )
        return reader

    def encode(self, value: object) -> bytes:
        """`value` as the first message of the file, which is what Confluent's serializer
        writes for a schema whose first message is the record's type."""
        return self.encode_message(value, [0])

    def encode_message(self, value: object, indexes: Sequence[int]) -> bytes:
        """`value` as the message at `indexes`, after those indexes."""
        message = GetMessageClass(self.message(indexes))()
        if not isinstance(value, dict):
            raise UndecodableRecord(f"A {message.DESCRIPTOR.full_name} needs a JSON object")
        try:
            json_format.ParseDict(value, message)
        except json_format.ParseError as e:
            raise UndecodableRecord(str(e)) from None
        return write_message_indexes(indexes) + message.SerializeToString()


class ProtobufFormat:
    """Confluent's PROTOBUF schema type."""

    @property
    def schema_type(self) -> SchemaType:
        return SchemaType.PROTOBUF

    def parse(self, text: str, references: Mapping[str, str]) -> ProtobufSchema:
        serialized = {name: _serialized(body, name) for name, body in references.items()}
        main = _serialized(text, MAIN_FILE)
        with tempfile.TemporaryDirectory(prefix="schema-") as folder:
            root = Path(folder)
            for name, body in references.items():
                proto = serialized[name]
                _write(root, name, print_file(proto, normalize=True) if proto else body)
            if main is None:
                _write(root, MAIN_FILE, text)
            compiled = _Compiler(root, {n: p for n, p in serialized.items() if p is not None})
            if main is None:
                main = compiled.compile(MAIN_FILE)[MAIN_FILE]
            pool = DescriptorPool()
            imports = compiled.add_to(pool, main)
        try:
            file = pool.FindFileByName(MAIN_FILE)
        except KeyError as e:
            raise InvalidSchema(str(e)) from None
        return ProtobufSchema(file, main, imports)

    def incompatibilities(self, reader: ParsedSchema, writer: ParsedSchema) -> Sequence[str]:
        if not isinstance(reader, ProtobufSchema) or not isinstance(writer, ProtobufSchema):
            return ["Incompatible because of different schema type"]
        return differences(
            original=(writer.proto, writer.imports), update=(reader.proto, reader.imports)
        )


class _Compiler:
    """protoc over one folder of files, remembering each file it compiled by import path."""

    def __init__(self, root: Path, given: Mapping[str, FileDescriptorProto]) -> None:
        self._root = root
        self.files: dict[str, FileDescriptorProto] = dict(given)

    def compile(self, name: str) -> dict[str, FileDescriptorProto]:
        includes = [str(self._root).encode(), *_known_dependency_folders()]
        try:
            generated = _protoc_compiler.get_protos(name.encode(), includes)
        except _protoc_compiler.ProtocErrors as e:
            raise InvalidSchema("\n".join(_protoc_message(error) for error in e.errors())) from None
        for _, code in generated:
            proto = _descriptor_from_generated(code)
            self.files.setdefault(proto.name, proto)
        return self.files

    def add_to(
        self, pool: DescriptorPool, main: FileDescriptorProto
    ) -> dict[str, FileDescriptorProto]:
        """`main` and everything it imports added to `pool`, imports first; the imports by
        name."""
        added: dict[str, FileDescriptorProto] = {}

        def add(proto: FileDescriptorProto) -> None:
            for name in proto.dependency:
                if name not in added:
                    if name not in self.files:
                        self.compile(name)
                    added[name] = self.files[name]
                    add(self.files[name])
            try:
                pool.Add(proto)
            except TypeError as e:
                raise InvalidSchema(f"{proto.name}: {e}") from None

        add(main)
        return added


def _serialized(text: str, name: str) -> FileDescriptorProto | None:
    """The FileDescriptorProto `text` encodes in base64, named `name` (its own name is the
    serializing client's, as confluent-kafka's `_str_to_proto` also treats it), or None when
    it is .proto text (which always has a space or a semicolon, never only base64's
    alphabet)."""
    if not _BASE64.fullmatch(text):
        return None
    try:
        proto = FileDescriptorProto.FromString(base64.b64decode(text, validate=True))
    except (binascii.Error, DecodeError):
        return None
    proto.name = name
    return proto


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    if not path.resolve().is_relative_to(root.resolve()):
        raise InvalidSchema(f"Import path {name!r} leaves the schema's folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@cache
def _known_dependency_folders() -> tuple[bytes, ...]:
    """Where protoc finds the files Confluent knows without a reference (its
    KNOWN_DEPENDENCIES, which confluent-kafka's serializers never register): Google's
    well-known types from the copies grpcio-tools ships, and google/type/*.proto (dates, money,
    lat-lng...) from googleapis-common-protos, whose folder holds them beside its modules."""
    well_known = resources.files("grpc_tools") / "_proto"
    google_type = Path(str(resources.files("google.type") / "date.proto")).parents[2]
    return (str(well_known).encode(), str(google_type).encode())


def _protoc_message(error: _protoc_compiler.ProtocError) -> str:
    """protoc's own `file:line:column: message` (its extension counts from 0, protoc's command
    line from 1; an error about a whole file, such as a missing import, has no position)."""
    filename, message = error.filename.decode(), error.message.decode()
    if error.line < 0:
        return f"{filename}: {message}"
    return f"{filename}:{error.line + 1}:{error.column + 1}: {message}"


def _descriptor_from_generated(code: bytes) -> FileDescriptorProto:
    """The serialized FileDescriptorProto protoc embeds in the Python module it generates
    (`AddSerializedFile(b'...')`): the extension gives modules, not descriptor sets."""
    for node in ast.walk(ast.parse(code)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return FileDescriptorProto.FromString(node.args[0].value)
    raise InvalidSchema("protoc generated no descriptor")


def read_message_indexes(body: bytes) -> tuple[list[int], int]:
    """The message indexes at the start of a body, and the offset of the message after them."""
    count, offset = _read_zigzag(body, 0)
    if count == 0:
        return [0], offset
    if count < 0 or count > len(body):
        raise UndecodableRecord(f"Invalid message index count {count}")
    indexes = []
    for _ in range(count):
        index, offset = _read_zigzag(body, offset)
        indexes.append(index)
    return indexes, offset


def write_message_indexes(indexes: Sequence[int]) -> bytes:
    if list(indexes) == [0]:
        return b"\x00"
    return b"".join(zigzag(value) for value in [len(indexes), *indexes])


def _read_zigzag(body: bytes, offset: int) -> tuple[int, int]:
    encoded = shift = 0
    while True:
        if offset >= len(body) or shift > 63:
            raise UndecodableRecord(f"Truncated message indexes at byte {offset}")
        byte = body[offset]
        offset += 1
        encoded |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (encoded >> 1) ^ -(encoded & 1), offset


PROTOBUF = ProtobufFormat()
