"""Responses' bytes: the encoding kio's entity writer gives, from one generated function per
schema.

kio writes an entity through a generic closure per field: a call, a `struct.pack` and often a
phantom-type check per field, and a BytesIO per entity for its tagged fields. A produce
answer for one partition took ~15 us that way, as long as appending the batch itself. Here
each schema gets one Python function, generated once from kio's field descriptions (as
`dataclasses` generates `__init__`), that packs each run of fixed-size fields with one
precompiled struct, writes lengths and strings inline and calls its nested schemas'
functions. Tagged fields, which are rare and mostly unset, go through kio's own writers.

tests/unit/localbroker/protocol/test_encoder.py holds this to kio's bytes for every response
schema the broker serves, on Hypothesis' examples of each.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import MISSING
from functools import cache
from typing import Any

from kio.serial.writers import write_tagged_field
from kio.static.constants import uuid_zero

from ..varints import uvarint
from .chunks import LARGE, ChunkWriter
from .kio_fields import FieldKind, FieldShape, field_shapes, kio_writer, tagged_default

Encoder = Callable[[ChunkWriter, Any], bytearray]
"""Writes an entity to a ChunkWriter; returns the writer's buffer after it."""

_FIXED: dict[str, tuple[str, str]] = {
    # Kafka type: (struct code, expression of the value `{}` as packed), as kio's writers
    "int8": ("b", "{}"),
    "int16": ("h", "{}"),
    "int32": ("i", "{}"),
    "int64": ("q", "{}"),
    "uint8": ("B", "{}"),
    "uint16": ("H", "{}"),
    "uint32": ("I", "{}"),
    "uint64": ("Q", "{}"),
    "float64": ("d", "{}"),
    "bool": ("?", "{}"),
    "error_code": ("h", "{}.value"),
    "timedelta_i32": ("i", "round({}.total_seconds() * 1000)"),
    "timedelta_i64": ("q", "round({}.total_seconds() * 1000)"),
    "datetime_i64": ("q", "round({}.timestamp() * 1000)"),
    "uuid": ("16s", "(_UUID_ZERO if {0} is None else {0}.bytes)"),
}
_NULLABLE_FIXED: dict[str, tuple[str, str]] = {
    "datetime_i64": ("q", "(-1 if {0} is None else round({0}.timestamp() * 1000))"),
    "uuid": _FIXED["uuid"],
}


@cache
def encoder(schema: type) -> Encoder:
    """The encoding function of a kio response schema (or of an entity inside one)."""
    return _Generator(schema).build()


def encode(out: ChunkWriter, entity: Any) -> None:
    """Write `entity` to `out`, as kio's entity writer would."""
    schema: type = type(entity)
    encoder(schema)(out, entity)


def _fixed(shape: FieldShape) -> tuple[str, str] | None:
    """The struct code and value expression of a field of a fixed size, else None."""
    if shape.kind is not FieldKind.PRIMITIVE or shape.tagged:
        return None
    return (_NULLABLE_FIXED if shape.optional else _FIXED).get(shape.kafka_type)


class _Generator:
    """The source of one schema's function, and the names it refers to."""

    def __init__(self, schema: type) -> None:
        self.schema = schema
        self.flexible: bool = schema.__flexible__  # type: ignore[attr-defined]
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "_UUID_ZERO": uuid_zero.bytes,
            "_uvarint": uvarint,
            "_pack_array": _pack_array,
        }

    def name(self, value: Any) -> str:
        """A name the generated code can call `value` by."""
        name = f"_n{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)

    def build(self) -> Encoder:
        shapes = field_shapes(self.schema)
        run: list[tuple[FieldShape, str, str]] = []
        for shape in shapes:
            if shape.tagged:
                continue
            fixed = _fixed(shape)
            if fixed is not None:
                run.append((shape, *fixed))
                continue
            self.pack(run)
            run = []
            self.field(shape, f"e.{shape.field.name}")
        self.pack(run)
        if self.flexible:
            self.tagged([shape for shape in shapes if shape.tagged])
        body = "\n".join(self.lines)
        exec(f"def encode(c, e):\n    b = c.buffer\n{body}\n    return b\n", self.names)
        function: Encoder = self.names["encode"]
        function.__qualname__ = f"encode_{self.schema.__qualname__}"
        return function

    def pack(self, run: list[tuple[FieldShape, str, str]]) -> None:
        """One struct for a run of fixed-size fields."""
        if not run:
            return
        layout = struct.Struct(">" + "".join(code for _, code, _ in run))
        values = ", ".join(expr.format(f"e.{shape.field.name}") for shape, _, expr in run)
        self.emit(f"b += {self.name(layout.pack)}({values})")

    def length(self, value: str, depth: int, legacy: str) -> None:
        """An array's or a string's length (null when `value` is None, if nullable)."""
        if self.flexible:
            self.emit(f"b += _uvarint(len({value}) + 1)", depth)
        else:
            self.emit(f"b += {self.name(struct.Struct(legacy).pack)}(len({value}))", depth)

    def null(self, depth: int, legacy: bytes) -> None:
        null = b"\x00" if self.flexible else legacy
        self.emit(f"b += {null!r}", depth)

    def field(self, shape: FieldShape, value: str, depth: int = 1) -> None:
        """Code writing one untagged field whose value is the expression `value`."""
        kind, v = shape.kind, f"v{depth}"
        self.emit(f"{v} = {value}", depth)
        if kind is FieldKind.ENTITY:
            assert shape.entity is not None
            nested = self.name(encoder(shape.entity))
            if shape.optional:  # KIP-893: an int8 marker, -1 for null and 1 before the entity
                self.emit(f"if {v} is None:", depth)
                self.emit("b += b'\\xff'", depth + 1)
                self.emit("else:", depth)
                self.emit("b += b'\\x01'", depth + 1)
                self.emit(f"b = {nested}(c, {v})", depth + 1)
            else:
                self.emit(f"b = {nested}(c, {v})", depth)
            return
        if shape.is_array:
            self.emit(f"if {v} is None:", depth)
            self.null(depth + 1, b"\xff\xff\xff\xff")
            self.emit("else:", depth)
            self.length(v, depth + 1, ">i")
            self.items(shape, v, depth + 1)
            return
        self.primitive(shape, v, depth)

    def items(self, shape: FieldShape, array: str, depth: int) -> None:
        item = f"x{depth}"
        if shape.kind is FieldKind.ENTITY_ARRAY:
            assert shape.entity is not None
            nested = self.name(encoder(shape.entity))
            self.emit(f"for {item} in {array}:", depth)
            self.emit(f"b = {nested}(c, {item})", depth + 1)
            return
        fixed = _FIXED.get(shape.kafka_type)
        if fixed is not None:
            code, expr = fixed
            if expr == "{}":  # plain numbers: one pack for the whole array
                self.emit(f"b += _pack_array({code!r}, {array})", depth)
                return
            pack = self.name(struct.Struct(">" + code).pack)
            self.emit(f"for {item} in {array}:", depth)
            self.emit(f"b += {pack}({expr.format(item)})", depth + 1)
            return
        self.emit(f"for {item} in {array}:", depth)
        self.primitive(shape, item, depth + 1, in_array=True)

    def primitive(self, shape: FieldShape, v: str, depth: int, in_array: bool = False) -> None:
        """A primitive that is not fixed-size: a string, bytes or records."""
        kafka_type = shape.kafka_type
        nullable = shape.optional and not in_array
        if kafka_type in ("string", "bytes", "records"):
            if nullable:
                self.emit(f"if {v} is None:", depth)
                self.null(depth + 1, b"\xff\xff" if kafka_type == "string" else b"\xff\xff\xff\xff")
                self.emit("else:", depth)
                depth += 1
            if self.flexible:  # kio's compact writer takes text or bytes for any of the three
                self.emit(f"if isinstance({v}, str): {v} = {v}.encode()", depth)
            elif kafka_type == "string":
                self.emit(f"{v} = {v}.encode()", depth)
            self.length(v, depth, ">h" if kafka_type == "string" else ">i")
            self.emit(f"if len({v}) >= {LARGE}:", depth)
            self.emit(f"b = c.large({v})", depth + 1)
            self.emit("else:", depth)
            self.emit(f"b += {v}", depth + 1)
            return
        # Fixed-size types never get here (build() and items() pack them), so this is a type,
        # or a nullable one, that kio has no writer for either (its get_writer refuses it).
        raise NotImplementedError(f"no encoding for {kafka_type!r} field {shape.field.name}")

    def tagged(self, shapes: list[FieldShape]) -> None:
        """The tagged fields that are set, after their count (kio leaves out a field equal
        to its declared default or, without one, to its type's implicit default)."""
        if not shapes:
            self.emit("b += b'\\x00'")
            return
        fields = tuple(
            (
                shape.tag,
                shape.field.name,
                kio_writer(self.schema, shape),
                shape.field.default,
                tagged_default(shape),
            )
            for shape in sorted(shapes, key=lambda shape: shape.tag or 0)
        )
        self.emit(f"b = {self.name(_write_tagged)}(c, e, {self.name(fields)})")


def _pack_array(code: str, values: Any) -> bytes:
    return struct.pack(f">{len(values)}{code}", *values)


def _write_tagged(
    out: ChunkWriter, entity: Any, fields: tuple[tuple[int, str, Any, Any, Any], ...]
) -> bytearray:
    present = []
    for tag, name, writer, default, implicit in fields:
        value = getattr(entity, name)
        if value == default or (default is MISSING and value == implicit):
            continue
        present.append((tag, writer, value))
    out.buffer += uvarint(len(present))
    for tag, writer, value in present:
        write_tagged_field(out, tag, writer, value)  # type: ignore[arg-type]
    return out.buffer
