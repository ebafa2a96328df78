"""What a kio schema field is and how kio writes it, read through kio's private modules.

kio describes each message as a dataclass whose fields carry Kafka's type in their metadata;
whether a field is a primitive, an entity or an array of either, whether it is nullable and
whether it is a tagged field, only `kio.serial._introspect` tells, and the writer of one field
only `kio.serial._serialize`. build.py (messages from Kafka's field names), guard.py (bounds
checks of untrusted bytes), spliced.py (responses with pre-encoded elements) and encoder.py
(responses' bytes) need them, so
the private imports live here alone, checked against kio 0.6.5, and tests/unit checks this module
against the installed kio: an upgrade that changes the private API fails there, by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import IO, Any

from kio.serial._implicit_defaults import get_tagged_field_default
from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    PrimitiveField,
    PrimitiveTupleField,
    classify_field,
    get_field_tag,
    is_optional,
)
from kio.serial._serialize import get_field_writer

CHECKED_AGAINST = "0.6.5"


class FieldKind(Enum):
    PRIMITIVE = "primitive"
    PRIMITIVE_ARRAY = "primitive array"
    ENTITY = "entity"
    ENTITY_ARRAY = "entity array"


@dataclass(frozen=True, slots=True)
class FieldShape:
    field: dataclasses.Field[Any]
    kind: FieldKind
    kafka_type: str
    """Kafka's type name ("int32", "string", "error_code" ...); empty for entities."""
    entity: type | None
    """The nested schema of an entity or an array of entities."""
    optional: bool
    """Nullable (a null entity, string, bytes or array)."""
    tag: int | None
    """The tag of a tagged field of a flexible version (encoded after the others, only when
    it is not its default); None for the others."""

    @property
    def tagged(self) -> bool:
        return self.tag is not None

    @property
    def is_array(self) -> bool:
        return self.kind in (FieldKind.PRIMITIVE_ARRAY, FieldKind.ENTITY_ARRAY)


_KINDS = {
    PrimitiveField: FieldKind.PRIMITIVE,
    PrimitiveTupleField: FieldKind.PRIMITIVE_ARRAY,
    EntityField: FieldKind.ENTITY,
    EntityTupleField: FieldKind.ENTITY_ARRAY,
}


@cache
def field_shapes(schema: type) -> tuple[FieldShape, ...]:
    """Every field of a kio schema, in encoding order."""
    shapes = []
    for field in dataclasses.fields(schema):
        classified = classify_field(field)
        kind = _KINDS[type(classified)]
        entity = classified.type_ if kind in (FieldKind.ENTITY, FieldKind.ENTITY_ARRAY) else None
        shapes.append(
            FieldShape(
                field,
                kind,
                str(field.metadata.get("kafka_type", "")),
                entity,
                is_optional(field),
                get_field_tag(field),
            )
        )
    return tuple(shapes)


@cache
def field_writer(schema: type, name: str) -> Callable[[IO[bytes], Any], None]:
    """The writer kio's entity writer uses for the untagged field `name` of a response
    `schema`: the same bytes as when kio encodes the whole entity."""
    (shape,) = (s for s in field_shapes(schema) if s.field.name == name)
    assert not shape.tagged, f"{name} is a tagged field"
    return kio_writer(schema, shape)


def kio_writer(schema: type, shape: FieldShape) -> Callable[[IO[bytes], Any], None]:
    """kio's writer of a field of a response `schema` (of a tagged field, its value's)."""
    flexible: bool = schema.__flexible__  # type: ignore[attr-defined]
    writer: Callable[[IO[bytes], Any], None] = get_field_writer(
        shape.field, flexible=flexible, is_request_header=False, is_tag=shape.tagged
    )
    return writer


def tagged_default(shape: FieldShape) -> Any:
    """The value a tagged field without a declared default is left out at (kio's implicit
    default: 0, "", an empty array ...)."""
    return get_tagged_field_default(shape.field)
