"""The registry's answers to broker-side schema validation (`SchemaIds` in validation.py), read
from the state the `_schemas` topic builds, in the broker's own process and event loop.

The record strategies need the name of the type a schema defines, as Confluent's `name()` gives
it: an Avro record's full name, a JSON schema's `title`, a Protobuf file's first message (else
first enum) with the file's package. It is read from the schema's text, once per id (an id
never changes its content).
"""

from __future__ import annotations

import json
import re

from .schema_format import SchemaType
from .state import RegistryState

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
_FIRST_TYPE = re.compile(r"\b(message|enum)\s+(\w+)\s*\{")


def _avro_name(text: str) -> str | None:
    """Avro's `getFullName` of a record schema (None for any other type)."""
    try:
        schema = json.loads(text)
    except ValueError:
        return None
    if not isinstance(schema, dict) or schema.get("type") not in ("record", "error"):
        return None
    name, namespace = schema.get("name"), schema.get("namespace")
    if not isinstance(name, str):
        return None
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _json_name(text: str) -> str | None:
    try:
        schema = json.loads(text)
    except ValueError:
        return None
    title = schema.get("title") if isinstance(schema, dict) else None
    return title if isinstance(title, str) else None


def _protobuf_name(text: str) -> str | None:
    """The first message of the file (else its first enum), package-qualified. A message
    nested in another comes after its parent's name, so the first found is top-level."""
    source = _COMMENTS.sub("", text)
    firsts = dict(reversed(_FIRST_TYPE.findall(source)))  # the first name of each kind
    first = firsts.get("message") or firsts.get("enum")
    if first is None:
        return None
    package = _PACKAGE.search(source)
    return f"{package.group(1)}.{first}" if package else first


_NAMERS = {
    SchemaType.AVRO: _avro_name,
    SchemaType.JSON: _json_name,
    SchemaType.PROTOBUF: _protobuf_name,
}


def record_name(schema_type: SchemaType, text: str) -> str | None:
    """The name Confluent's RecordNameStrategy takes from a schema of this type and text."""
    return _NAMERS[schema_type](text)


class RegisteredIds:
    """`SchemaIds` over the registry's state: an id counts for a subject while a version of
    the subject that is not deleted has it (soft-deleted versions no longer validate)."""

    def __init__(self, state: RegistryState) -> None:
        self._state = state
        self._names: dict[int, str | None] = {}

    def registered(self, subject: str, schema_id: int) -> bool:
        return any(use.subject == subject for use in self._state.uses_of(schema_id))

    def record_name(self, schema_id: int) -> str | None:
        if schema_id not in self._names:
            content = self._state.content(schema_id)
            if content is None:
                return None
            self._names[schema_id] = record_name(content.schema_type, content.schema)
        return self._names[schema_id]
