"""Compatibility levels composed from one question a format answers, as Confluent does.

Confluent's CompatibilityChecker builds each level from a strategy (BACKWARD: the new schema
reads the old, "canRead"; FORWARD: the old reads the new, "canBeRead"; FULL: both, "mutualRead")
and a scope (the latest version, or every version newest first for `_TRANSITIVE`, stopping at
the first that fails). Messages are worded as SchemaValidatorBuilder words them: a format's
`%s` placeholders become "new"/"old" (reader, writer), the version and text of the schema
checked against follow, and the registry adds the level (AbstractSchemaRegistry).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .schema_format import CompatibilityLevel, ParsedSchema, SchemaFormat, SchemaType

DIFFERENT_SCHEMA_TYPE = "Incompatible because of different schema type"
_MAX_SCHEMA_IN_MESSAGE = 10 * 1024


@dataclass(frozen=True, slots=True)
class Existing:
    """A registered version to check against (`schema` None when its type differs from the
    new schema's: it is never parsed then)."""

    version: int
    schema_type: SchemaType
    text: str
    schema: ParsedSchema | None


def _worded(lines: Sequence[str], reader: str, writer: str) -> list[str]:
    return [line.replace("%s", reader, 1).replace("%s", writer, 1) for line in lines]


def _with_old_schema(lines: list[str], existing: Existing) -> list[str]:
    if not lines:
        return lines
    text = existing.text
    if len(text) > _MAX_SCHEMA_IN_MESSAGE:
        shown = f"{{oldSchema: <truncated> '{text[:_MAX_SCHEMA_IN_MESSAGE]}...'}}"
    else:
        shown = f"{{oldSchema: '{text}'}}"
    return [*lines, f"{{oldSchemaVersion: {existing.version}}}", shown]


def _against(
    schema_format: SchemaFormat,
    level: CompatibilityLevel,
    new: ParsedSchema,
    existing: Existing,
) -> list[str]:
    if existing.schema is None or new.schema_type != existing.schema_type:
        return [DIFFERENT_SCHEMA_TYPE]
    messages: list[str] = []
    if level.old_reads_new:
        lines = schema_format.incompatibilities(existing.schema, new)
        worded = _worded(lines, "old", "new")
        messages += worded if level.new_reads_old else _with_old_schema(worded, existing)
    if level.new_reads_old:
        lines = schema_format.incompatibilities(new, existing.schema)
        messages += _with_old_schema(_worded(lines, "new", "old"), existing)
    return messages


def incompatibilities(
    schema_format: SchemaFormat,
    level: CompatibilityLevel,
    new: ParsedSchema,
    previous: Sequence[Existing],
) -> list[str]:
    """Why `new` may not follow `previous` (oldest first) at `level`; empty when it may."""
    if level is CompatibilityLevel.NONE or not previous:
        return []
    scope = list(reversed(previous)) if level.transitive else [previous[-1]]
    for existing in scope:
        messages = _against(schema_format, level, new, existing)
        if messages:
            return [*messages, f"{{validateFields: 'false', compatibility: '{level.value}'}}"]
    return []
