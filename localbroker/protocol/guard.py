"""A bounds check of a request's encoding before kio decodes it.

kio's native reader sizes its arrays from the count on the wire before it checks that the
bytes are there, so a 20-byte request claiming 4 billion topics would make it allocate
tens of gigabytes and abort the process. This walk over the same schema reads only counts
and lengths, refusing any that claim more than the bytes left in the frame (as Kafka does
before allocating), so kio only ever sees counts the frame can back.

It also refuses a null (length -1) where the schema has no null, as Kafka's generated parsers
do ("non-nullable field ... was serialized as null"), so no handler meets a None it does not
expect: such a request closes the connection, as in Kafka.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from functools import cache
from typing import Any

from .kio_fields import FieldKind, field_shapes

_FIXED_SIZES = {
    "int8": 1,
    "bool": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "error_code": 2,
    "int32": 4,
    "uint32": 4,
    "timedelta_i32": 4,
    "int64": 8,
    "uint64": 8,
    "float64": 8,
    "timedelta_i64": 8,
    "datetime_i64": 8,
    "uuid": 16,
}
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_MAX_UVARINT_BYTES = 5

Step = Callable[[memoryview, int], int]


class EncodingError(Exception):
    """The request claims more data than it carries, or encodes a length Kafka would refuse."""


def _uvarint(data: memoryview, offset: int) -> tuple[int, int]:
    value = shift = 0
    for index in range(_MAX_UVARINT_BYTES):
        if offset + index >= len(data):
            raise EncodingError("truncated varint")
        byte = data[offset + index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value >= 2**32:
                raise EncodingError("varint larger than 32 bits")
            return value, offset + index + 1
        shift += 7
    raise EncodingError("varint longer than 5 bytes")


def _need(data: memoryview, offset: int, size: int) -> int:
    if size < 0 or offset + size > len(data):
        raise EncodingError(f"{size} bytes claimed at {offset}, {len(data) - offset} left")
    return offset + size


def _length(data: memoryview, offset: int, flexible: bool, wide: bool) -> tuple[int, int]:
    """A length or count: -1 means null; compact forms store it plus one."""
    if flexible:
        value, offset = _uvarint(data, offset)
        return value - 1, offset
    layout = _INT32 if wide else _INT16
    _need(data, offset, layout.size)
    return layout.unpack_from(data, offset)[0], offset + layout.size


def _fixed(size: int) -> Step:
    return lambda data, offset: _need(data, offset, size)


def _null(nullable: bool, offset: int) -> int:
    """A null where the schema allows one; Kafka refuses the request for any other."""
    if not nullable:
        raise EncodingError(f"non-nullable field serialized as null at {offset}")
    return offset


def _variable(flexible: bool, wide: bool, nullable: bool) -> Step:
    def step(data: memoryview, offset: int) -> int:
        size, offset = _length(data, offset, flexible, wide)
        return _null(nullable, offset) if size < 0 else _need(data, offset, size)

    return step


def _primitive(kafka_type: str, flexible: bool, nullable: bool) -> Step:
    if kafka_type in _FIXED_SIZES:
        return _fixed(_FIXED_SIZES[kafka_type])
    if kafka_type == "string":
        return _variable(flexible, wide=False, nullable=nullable)
    if kafka_type in ("bytes", "records"):
        return _variable(flexible, wide=True, nullable=nullable)
    raise NotImplementedError(f"no bounds check for kafka type {kafka_type!r}")


def _array(element: Step | None, flexible: bool, element_size: int, nullable: bool) -> Step:
    """An array; `element` None when every element is `element_size` bytes, all of which one
    comparison checks (10,000 partitions' offsets are not walked one by one)."""

    def step(data: memoryview, offset: int) -> int:
        count, offset = _length(data, offset, flexible, wide=True)
        if count < 0:
            return _null(nullable, offset)
        end = _need(data, offset, count * element_size)
        if element is None:
            return end
        for _ in range(count):
            offset = element(data, offset)
        return offset

    return step


def _tagged_fields(data: memoryview, offset: int) -> int:
    if offset < len(data) and data[offset] == 0:
        return offset + 1  # none, nearly always: once per element of every flexible array
    count, offset = _uvarint(data, offset)
    _need(data, offset, count * 2)
    for _ in range(count):
        _, offset = _uvarint(data, offset)
        size, offset = _uvarint(data, offset)
        offset = _need(data, offset, size)
    return offset


def _nullable(step: Step) -> Step:
    def nullable(data: memoryview, offset: int) -> int:
        _need(data, offset, 1)
        return offset + 1 if data[offset] == 0xFF else step(data, offset + 1)

    return nullable


@cache
def entity_check(schema: type) -> Step:
    """The bounds check for one encoded `schema` entity (a request or a nested struct)."""
    return _entity(schema)[1]


@cache
def _entity(schema: type) -> tuple[int | None, Step]:
    """The size of every `schema` entity when it is fixed (None when not), and its check; runs
    of fixed-size fields are checked at once."""
    flexible: bool = schema.__flexible__  # type: ignore[attr-defined]
    steps: list[tuple[int | None, Step]] = []
    for shape in field_shapes(schema):
        if shape.tagged:
            continue
        kafka_type = shape.kafka_type
        if shape.kind is FieldKind.PRIMITIVE:
            fixed = _FIXED_SIZES.get(kafka_type)
            steps.append((fixed, _primitive(kafka_type, flexible, shape.optional)))
        elif shape.kind is FieldKind.PRIMITIVE_ARRAY:
            fixed = _FIXED_SIZES.get(kafka_type)
            element = None if fixed else _primitive(kafka_type, flexible, nullable=False)
            steps.append((None, _array(element, flexible, fixed or 1, shape.optional)))
        else:
            assert shape.entity is not None
            fixed, nested = _entity(shape.entity)
            if shape.kind is FieldKind.ENTITY_ARRAY:
                element = None if fixed else nested
                steps.append((None, _array(element, flexible, fixed or 1, shape.optional)))
            elif shape.optional:
                steps.append((None, _nullable(nested)))
            else:
                steps.append((fixed, nested))
    if flexible:
        steps.append((None, _tagged_fields))
    sizes = [size for size, _ in steps if size is not None]
    merged = _merged(steps)

    def check(data: memoryview, offset: int) -> int:
        for step in merged:
            offset = step(data, offset)
        return offset

    return (sum(sizes) if len(sizes) == len(steps) else None), check


def _merged(steps: list[tuple[int | None, Step]]) -> list[Step]:
    """`steps` with each run of fixed-size ones made one."""
    merged: list[Step] = []
    run = 0
    for size, step in steps:
        if size is not None:
            run += size
            continue
        if run:
            merged.append(_fixed(run))
            run = 0
        merged.append(step)
    if run:
        merged.append(_fixed(run))
    return merged


def check_request(schema: Any, frame: bytes | bytearray | memoryview) -> None:
    """Raise EncodingError unless header and body of `frame` stay within its bytes."""
    data = memoryview(frame)
    offset = _need(data, 0, 8)  # api key, api version, correlation id
    size, offset = _length(data, offset, False, wide=False)  # client id: always a legacy string
    if size > 0:
        offset = _need(data, offset, size)
    if schema.__flexible__:
        offset = _tagged_fields(data, offset)
    entity_check(schema)(data, offset)
