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
    schema: type = cls
    built: T = _builder(schema)(data)
    return built


@cache
def _builder(cls: type) -> Callable[[Any], Any]:
    """`build` for one schema, as one generated function: a response is built for every
    request, and a loop over the plan per entity cost as much as the rest of answering a
    produce."""
    names: dict[str, Any] = {"_cls": cls, "_Mapping": Mapping}
    lines = [
        "def build(data):",
        "    if isinstance(data, _cls):",
        "        return data",
        "    assert type(data) is dict or isinstance(data, _Mapping), (",
        "        f'{_cls.__qualname__} needs a mapping, got {data!r}')",
    ]
    arguments = []
    for index, plan in enumerate(_plan(cls)):
        value = f"v{index}"
        arguments.append(f"{plan.name}={value}")
        lines += [f"    if {plan.name!r} in data:", f"        {value} = data[{plan.name!r}]"]
        transform = None
        if plan.nested is not None:
            names[f"_b{index}"] = _builder(plan.nested)
            transform = (
                f"tuple([_b{index}(x) for x in {value}])"
                if plan.is_array
                else f"_b{index}({value})"
            )
        elif plan.is_array:
            transform = f"tuple({value})"
        elif plan.convert is not None:
            names[f"_c{index}"] = plan.convert
            transform = f"_c{index}({value})"
        if transform is not None:
            lines += [f"        if {value} is not None:", f"            {value} = {transform}"]
        lines.append("    else:")
        if plan.fallback is not None:
            names[f"_f{index}"] = plan.fallback
            lines.append(f"        {value} = _f{index}()")
        else:
            message = f"{cls.__module__}.{cls.__qualname__} needs field {plan.name!r}"
            lines.append(f"        raise TypeError({message!r})")
    lines.append(f"    return _cls({', '.join(arguments)})")
    exec("\n".join(lines), names)
    function: Callable[[Any], Any] = names["build"]
    return function
