"""Build any version of a kio response from one plain description.

Handlers describe a response once, as nested dicts with Kafka's field names, and `build`
turns that into the dataclass of whatever version the client asked for: fields the version
lacks are dropped, fields the handler left out take the schema's default, and integers are
converted where kio wants richer types (milliseconds to timedelta, ints to ErrorCode).
This keeps one handler per API instead of one per API version.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

from kio.schema.errors import ErrorCode

from .kio_fields import FieldShape, field_shapes

T = TypeVar("T")

_MISSING = dataclasses.MISSING


def _ms_to_timedelta(value: Any) -> Any:
    return datetime.timedelta(milliseconds=value) if isinstance(value, int) else value


def _ms_to_datetime(value: Any) -> Any:
    if isinstance(value, int):
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    return value


def _to_error_code(value: Any) -> Any:
    return value if isinstance(value, ErrorCode) else ErrorCode(value)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "timedelta_i32": _ms_to_timedelta,
    "timedelta_i64": _ms_to_timedelta,
    "datetime_i64": _ms_to_datetime,
    "error_code": _to_error_code,
}


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldPlan:
    name: str
    nested: type | None
    is_array: bool
    convert: Callable[[Any], Any] | None
    fallback: Callable[[], Any] | None


def _fallback(shape: FieldShape) -> Callable[[], Any] | None:
    field = shape.field
    if field.default is not _MISSING:
        default = field.default
        return lambda: default
    if field.default_factory is not _MISSING:
        return field.default_factory
    if shape.optional:
        return lambda: None
    if shape.is_array:
        return tuple
    return None


@cache
def _plan(cls: type) -> tuple[_FieldPlan, ...]:
    return tuple(
        _FieldPlan(
            name=shape.field.name,
            nested=shape.entity,
            is_array=shape.is_array,
            convert=_CONVERTERS.get(shape.kafka_type),
            fallback=_fallback(shape),
        )
        for shape in field_shapes(cls)
    )


def build(cls: type[T], data: Mapping[str, Any] | T) -> T:
    """Instantiate `cls` from `data`, recursing into nested entities and arrays of them."""
    if isinstance(data, cls):
        return data
    assert isinstance(data, Mapping), f"{cls.__qualname__} needs a mapping, got {data!r}"
    values: dict[str, Any] = {}
    schema: type = cls
    for plan in _plan(schema):
        if plan.name in data:
            value = data[plan.name]
        elif plan.fallback is not None:
            values[plan.name] = plan.fallback()
            continue
        else:
            raise TypeError(f"{cls.__module__}.{cls.__qualname__} needs field {plan.name!r}")
        if value is not None:
            if plan.nested is not None:
                nested = plan.nested
                value = (
                    tuple(build(nested, item) for item in value)
                    if plan.is_array
                    else build(nested, value)
                )
            elif plan.is_array:
                value = tuple(value)
            elif plan.convert is not None:
                value = plan.convert(value)
        values[plan.name] = value
    return cls(**values)
