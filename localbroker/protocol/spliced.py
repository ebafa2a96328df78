"""Responses whose one big array arrives already encoded.

Metadata for every topic is an array of thousands of entries that rarely change between
requests, and encoding them with kio, field by field in Python, was most of the time of such a
request (about 0.3 s for 10,000 partitions). A handler that keeps each element's bytes hands
them over as a `Spliced` response: the kio response with that array left empty, and the
elements' encodings. `write_spliced` writes kio's own encoding of that response with the
elements' bytes where kio would have written the (empty) array, so the frame is byte for byte
what kio writes for the whole response (tests/unit/localbroker/protocol/test_spliced.py
compares them).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from kio.serial.writers import Writable, write_compact_array_length, write_int32
from kio.static.primitive import i32

from .chunks import ChunkWriter
from .encoder import encode
from .kio_fields import field_shapes, field_writer


@dataclass(frozen=True, slots=True)
class Spliced:
    """A response (`body`, a kio entity whose array `field` is empty) and the encodings of the
    elements that array holds."""

    body: Any
    field: str
    elements: Sequence[bytes]


def element_schema(response: type, field: str) -> type:
    """The kio schema of the elements of the array `field` of `response`."""
    (shape,) = (s for s in field_shapes(response) if s.field.name == field)
    assert shape.entity is not None and shape.is_array, f"{field} is no array of entities"
    return shape.entity


def encode_entity(value: Any) -> bytes:
    """The encoding of one entity: an element as the array of its response holds it."""
    out = ChunkWriter()
    encode(out, value)
    return b"".join(out.chunks())


def _empty_array(flexible: bool) -> bytes:
    buffer = io.BytesIO()
    _write_count(buffer, 0, flexible)
    return buffer.getvalue()


def _write_count(out: Writable, count: int, flexible: bool) -> None:
    if flexible:
        write_compact_array_length(out, count)
    else:
        write_int32(out, i32(count))


def write_spliced(out: IO[bytes], spliced: Spliced) -> None:
    """Write the response with its elements in place of the empty array: what comes before the
    array is where kio's writers of the fields before it say it ends."""
    body = spliced.body
    schema: type = type(body)
    flexible: bool = body.__flexible__
    assert getattr(body, spliced.field) == (), f"{spliced.field} is spliced in, not built"
    before = io.BytesIO()
    for shape in field_shapes(schema):
        name = shape.field.name
        if name == spliced.field:
            break
        if not shape.tagged:
            field_writer(schema, name)(before, getattr(body, name))
    shell = encode_entity(body)
    head = before.getvalue()
    split = len(head)
    empty = _empty_array(flexible)
    assert shell[: split + len(empty)] == head + empty, f"{spliced.field} is not at {split}"
    out.write(shell[:split])
    _write_count(cast(Writable, out), len(spliced.elements), flexible)
    out.write(b"".join(spliced.elements))
    out.write(shell[split + len(empty) :])
