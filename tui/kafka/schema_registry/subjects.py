"""A registry's subjects as the workbench's Schemas pane shows them, and a version's text.

What a list row needs takes three requests a subject (its latest version, its versions, its
own compatibility level) plus one for the global level, so the rows are gathered
concurrently. Texts are shown and compared in the format's canonical form, JSON indented:
two versions then differ only where their schemas do, not where their authors' spacing did.
"""

from __future__ import annotations

import asyncio
import difflib
import json
from dataclasses import dataclass

from localbroker.public import CompatibilityLevel, InvalidSchema, SchemaReference, SchemaType

from .client import RegisteredSchema, RegistryClient, RegistryError, shaped

PROTOBUF_LEXER, JSON_LEXER = "protobuf", "json"


@dataclass(frozen=True, slots=True)
class SubjectSummary:
    """One subject: its latest version, how many it has, its type, compatibility, references."""

    subject: str
    latest: int
    versions: tuple[int, ...]
    schema_type: SchemaType
    own_level: CompatibilityLevel | None
    """The subject's own compatibility level; None when it follows the global one."""
    global_level: CompatibilityLevel
    references: tuple[SchemaReference, ...]

    @property
    def compatibility(self) -> str:
        """As the list shows it: the subject's own level, or `global BACKWARD`."""
        if self.own_level is not None:
            return self.own_level.value
        return f"global {self.global_level.value}"


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    """One version of a subject with its schema."""

    subject: str
    version: int
    schema: RegisteredSchema


async def subject_summaries(client: RegistryClient) -> list[SubjectSummary]:
    """Every live subject of the registry, as the registry orders them."""
    names = await client.subjects()
    global_level = await client.compatibility(None)
    assert global_level is not None, "the global level is always configured"
    return list(await asyncio.gather(*(_summary(client, n, global_level) for n in names)))


async def _summary(
    client: RegistryClient, subject: str, global_level: CompatibilityLevel
) -> SubjectSummary:
    latest, versions, own = await asyncio.gather(
        schema_version(client, subject, "latest"),
        client.versions(subject),
        client.compatibility(subject),
    )
    return SubjectSummary(
        subject,
        latest.version,
        tuple(versions),
        latest.schema.schema_type,
        own,
        global_level,
        latest.schema.references,
    )


async def schema_version(client: RegistryClient, subject: str, version: int | str) -> SchemaVersion:
    """GET /subjects/{subject}/versions/{version} (`latest` allowed), as a SchemaVersion."""
    body = await client.version(subject, version)
    return shaped(
        lambda: SchemaVersion(
            subject, int(body["version"]), RegisteredSchema.from_answer(int(body["id"]), body)
        ),
        body,
    )


async def canonical_text(client: RegistryClient, schema: RegisteredSchema) -> str:
    """The schema in its format's canonical form (JSON indented), its references resolved;
    the text as registered when the format cannot parse it (it is still worth showing)."""
    try:
        text = (await client.parse(schema)).canonical()
    except (InvalidSchema, RegistryError):
        text = schema.text
    return readable(text, schema.schema_type)


def readable(text: str, schema_type: SchemaType) -> str:
    """JSON indented two spaces (Avro and JSON Schema); Protobuf as it is."""
    if schema_type is SchemaType.PROTOBUF:
        return text
    try:
        return json.dumps(json.loads(text), indent=2)
    except ValueError:
        return text


def lexer_of(schema_type: SchemaType) -> str:
    """The Pygments lexer that highlights a schema of this type."""
    return PROTOBUF_LEXER if schema_type is SchemaType.PROTOBUF else JSON_LEXER


def unified_diff(old: SchemaVersion, old_text: str, new: SchemaVersion, new_text: str) -> str:
    """The unified diff from `old` to `new`, headed by subject and version."""
    lines = difflib.unified_diff(
        old_text.splitlines(),
        new_text.splitlines(),
        f"{old.subject} v{old.version}",
        f"{new.subject} v{new.version}",
        lineterm="",
    )
    return "\n".join(lines)
