"""The registry's state as the `_schemas` topic builds it, record by record (sans-IO).

Confluent's reader applies every record of the topic, in order, to an in-memory store; its
answers come only from that store, so a registry's state is whatever the topic says. This is
that store: `apply` takes decoded records, the queries answer the REST API.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .records import (
    ClearSubjectRecord,
    ConfigRecord,
    DeleteSubjectRecord,
    Mode,
    ModeRecord,
    NoopRecord,
    Record,
    SchemaRecord,
    SchemaTombstone,
)
from .schema_format import CompatibilityLevel, SchemaReference, SchemaType

log = logging.getLogger(__name__)

LATEST = -1
"""Confluent's VersionId for "latest"."""

DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
DEFAULT_MODE = Mode.READWRITE


@dataclass(frozen=True, slots=True)
class Content:
    """What one schema id stands for: registering equal content again gets the same id."""

    schema_type: SchemaType
    schema: str
    references: tuple[SchemaReference, ...]


def content_of(record: SchemaRecord) -> Content:
    return Content(record.schema_type, record.schema, record.references)


class RegistryState:
    def __init__(self) -> None:
        self._subjects: dict[str, dict[int, SchemaRecord]] = {}
        self._content_by_id: dict[int, Content] = {}
        self._id_by_content: dict[Content, int] = {}
        self._users: dict[int, set[tuple[str, int]]] = {}
        self.max_id = 0
        """The largest id ever read: Confluent's next id is one more (IncrementalIdGenerator)."""
        self._configs: dict[str | None, ConfigRecord] = {}
        self._modes: dict[str | None, Mode] = {}

    # -- records in -------------------------------------------------------------------------

    def apply(self, record: Record) -> None:
        match record:
            case SchemaRecord():
                self._put_version(record)
            case SchemaTombstone(subject=subject, version=version):
                self._drop_version(subject, version)
            case ConfigRecord(subject=subject, level=None, normalize=None):
                self._configs.pop(subject, None)
            case ConfigRecord():
                self._configs[record.subject] = record
            case ModeRecord(subject=subject, mode=mode):
                if mode is None:
                    self._modes.pop(subject, None)
                else:
                    self._modes[subject] = mode
            case DeleteSubjectRecord(subject=subject, version=up_to):
                versions = self._subjects.get(subject, {})
                for number, kept in list(versions.items()):
                    if number <= up_to and not kept.deleted:
                        versions[number] = replace(kept, deleted=True)
            case ClearSubjectRecord(subject=cleared):
                for name in [cleared] if cleared is not None else list(self._subjects):
                    for kept in self.versions(name, deleted=True):
                        if kept.deleted:
                            self._drop_version(name, kept.version)
            case NoopRecord():
                pass

    def _put_version(self, record: SchemaRecord) -> None:
        content = content_of(record)
        known = self._content_by_id.get(record.schema_id)
        if known is not None and known != content:
            # Confluent's reader refuses (skips) a record that reuses an id for other content.
            log.warning(
                "_schemas: %s version %d reuses id %d for another schema; skipped",
                record.subject,
                record.version,
                record.schema_id,
            )
            return
        previous = self._subjects.get(record.subject, {}).get(record.version)
        if previous is not None and previous.schema_id != record.schema_id:
            self._drop_version(record.subject, record.version)
        self._subjects.setdefault(record.subject, {})[record.version] = record
        self._content_by_id[record.schema_id] = content
        self._id_by_content.setdefault(content, record.schema_id)
        self._users.setdefault(record.schema_id, set()).add((record.subject, record.version))
        self.max_id = max(self.max_id, record.schema_id)

    def _drop_version(self, subject: str, version: int) -> None:
        versions = self._subjects.get(subject, {})
        record = versions.pop(version, None)
        if not versions:
            self._subjects.pop(subject, None)
        if record is None:
            return
        users = self._users.get(record.schema_id, set())
        users.discard((subject, version))
        if not users:
            self._users.pop(record.schema_id, None)
            content = self._content_by_id.pop(record.schema_id)
            if self._id_by_content.get(content) == record.schema_id:
                del self._id_by_content[content]

    # -- queries ----------------------------------------------------------------------------

    def subjects(self, *, deleted: bool = False, deleted_only: bool = False) -> list[str]:
        """Subjects with a live version (or, with `deleted`, any version; with
        `deleted_only`, only soft-deleted ones), sorted as Confluent lists them."""
        names = []
        for name, versions in self._subjects.items():
            live = any(not v.deleted for v in versions.values())
            if deleted_only:
                if any(v.deleted for v in versions.values()):
                    names.append(name)
            elif live or deleted:
                names.append(name)
        return sorted(names)

    def versions(self, subject: str, *, deleted: bool = False) -> list[SchemaRecord]:
        """The subject's versions in ascending order, soft-deleted ones only if asked."""
        versions = self._subjects.get(subject, {})
        return [versions[n] for n in sorted(versions) if deleted or not versions[n].deleted]

    def has_subject(self, subject: str, *, deleted: bool = False) -> bool:
        return bool(self.versions(subject, deleted=deleted))

    def version(self, subject: str, version: int, *, deleted: bool = False) -> SchemaRecord | None:
        """One version (LATEST: the newest one shown), or None."""
        if version == LATEST:
            versions = self.versions(subject, deleted=deleted)
            return versions[-1] if versions else None
        record = self._subjects.get(subject, {}).get(version)
        return record if record is not None and (deleted or not record.deleted) else None

    def next_version(self, subject: str) -> int:
        """One more than any version the subject ever had that the topic still holds."""
        return max(self._subjects.get(subject, {}), default=0) + 1

    def content(self, schema_id: int) -> Content | None:
        return self._content_by_id.get(schema_id)

    def id_of(self, content: Content) -> int | None:
        return self._id_by_content.get(content)

    def uses_of(self, schema_id: int, *, deleted: bool = False) -> list[SchemaRecord]:
        """The subject versions registered with this id, sorted by subject and version."""
        uses = sorted(self._users.get(schema_id, ()))
        records = [self._subjects[subject][version] for subject, version in uses]
        return [record for record in records if deleted or not record.deleted]

    def all_versions(self) -> Iterator[SchemaRecord]:
        for versions in self._subjects.values():
            yield from versions.values()

    def referenced_by(
        self, subject: str, version: int, *, deleted: bool = False
    ) -> list[SchemaRecord]:
        """Versions whose references name `subject` at `version`."""
        return [
            record
            for record in self.all_versions()
            if (deleted or not record.deleted)
            and any(r.subject == subject and r.version == version for r in record.references)
        ]

    def config(self, subject: str | None) -> ConfigRecord | None:
        """The config set on the subject (None: the global one), if any."""
        return self._configs.get(subject)

    def compatibility(self, subject: str | None) -> CompatibilityLevel:
        """The level in scope: the subject's, else the global one, else BACKWARD."""
        for scope in (subject, None):
            config = self._configs.get(scope)
            if config is not None and config.level is not None:
                return config.level
        return DEFAULT_COMPATIBILITY

    def normalize(self, subject: str | None) -> bool:
        """`normalize` in scope, as Confluent applies it to registrations and lookups."""
        for scope in (subject, None):
            config = self._configs.get(scope)
            if config is not None and config.normalize is not None:
                return config.normalize
        return False

    def mode(self, subject: str | None) -> Mode | None:
        """The mode set on the subject (None: the global one), if any."""
        return self._modes.get(subject)

    def mode_in_scope(self, subject: str | None) -> Mode:
        """A global READONLY_OVERRIDE first, then the subject's mode, the global one,
        READWRITE."""
        global_mode = self._modes.get(None)
        if global_mode is Mode.READONLY_OVERRIDE:
            return global_mode
        return self._modes.get(subject) or global_mode or DEFAULT_MODE
