"""Requests that change the registry, planned as records to write (sans-IO).

Each method checks a request against the current state as Confluent's KafkaSchemaRegistry
does (same order of checks, same refusals) and returns the records Confluent would write with
the answer the client gets once they are applied. The caller writes them to `_schemas` and
answers only when its reader has applied them; writes are planned one at a time, so each plan
sees every earlier write.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from . import errors
from .compatibility import Existing, incompatibilities
from .errors import ErrorCode, RegistryError
from .records import (
    ClearSubjectRecord,
    ConfigRecord,
    DeleteSubjectRecord,
    Mode,
    ModeRecord,
    Record,
    SchemaRecord,
    SchemaTombstone,
)
from .schema_format import (
    CompatibilityLevel,
    InvalidSchema,
    ParsedSchema,
    SchemaFormat,
    SchemaReference,
    SchemaType,
)
from .state import LATEST, Content, RegistryState, content_of
from .views import config_view, schema_view

log = logging.getLogger(__name__)

DEFAULT_CONTEXT = "."


@dataclass(frozen=True, slots=True)
class SchemaRequest:
    """The body of a register, lookup or compatibility request."""

    schema: str
    schema_type: str = SchemaType.AVRO.value
    references: tuple[SchemaReference, ...] = ()
    version: int = 0
    schema_id: int = -1


@dataclass(frozen=True, slots=True)
class Written:
    """Records to write, and the answer once the reader has applied them."""

    records: tuple[Record, ...]
    answer: object


class Registry:
    def __init__(self, state: RegistryState, formats: Mapping[SchemaType, SchemaFormat]) -> None:
        self.state = state
        self.formats = formats
        self._parsed: dict[Content, ParsedSchema] = {}

    # -- parsing ----------------------------------------------------------------------------

    def _format(self, schema_type: str) -> SchemaFormat:
        schema_format = (
            self.formats.get(SchemaType(schema_type))
            if schema_type in SchemaType.__members__
            else None
        )
        if schema_format is None:
            raise errors.invalid_schema(f"Invalid schema type {schema_type}")
        return schema_format

    def _reference_texts(
        self, schema_type: str, references: tuple[SchemaReference, ...]
    ) -> dict[str, str]:
        """Each reference's name (and, through it, every name it references) to its text."""
        texts: dict[str, str] = {}
        pending = list(references)
        while pending:
            reference = pending.pop()
            if reference.name in texts:
                continue
            record = self.state.version(reference.subject, reference.version, deleted=True)
            if record is None:
                raise errors.invalid_schema(
                    f"Invalid schema of type {schema_type}, details: reference "
                    f"'{reference.name}' names version {reference.version} of subject "
                    f"'{reference.subject}', which does not exist"
                )
            texts[reference.name] = record.schema
            pending.extend(record.references)
        return texts

    def parse(self, request: SchemaRequest) -> tuple[SchemaFormat, ParsedSchema]:
        """The request's schema parsed by its format; 42201 when it is not a schema."""
        schema_format = self._format(request.schema_type)
        if not request.schema.strip():
            raise errors.invalid_schema("Empty schema")
        references = self._reference_texts(request.schema_type, request.references)
        try:
            return schema_format, schema_format.parse(request.schema, references)
        except InvalidSchema as exc:
            detail = str(exc)
        except Exception as exc:  # a format's parser meeting input it did not foresee
            log.warning("%s parser failed on a schema", request.schema_type, exc_info=True)
            detail = f"{type(exc).__name__}: {exc}"
        raise errors.invalid_schema(
            f"Invalid schema of type {request.schema_type}, details: {detail}"
        )

    def parsed(self, record: SchemaRecord) -> ParsedSchema:
        """A stored version parsed, once per content."""
        content = content_of(record)
        parsed = self._parsed.get(content)
        if parsed is None:
            request = SchemaRequest(record.schema, record.schema_type.value, record.references)
            parsed = self._parsed[content] = self.parse(request)[1]
        return parsed

    def _existing(self, record: SchemaRecord, schema_type: SchemaType) -> Existing:
        parsed = self.parsed(record) if record.schema_type == schema_type else None
        return Existing(record.version, record.schema_type, record.schema, parsed)

    def _incompatibilities(
        self,
        subject: str,
        schema_format: SchemaFormat,
        parsed: ParsedSchema,
        previous: list[SchemaRecord],
    ) -> list[str]:
        level = self.state.compatibility(subject)
        existing = [self._existing(record, schema_format.schema_type) for record in previous]
        return incompatibilities(schema_format, level, parsed, existing)

    # -- register, look up, check -----------------------------------------------------------

    def _check_register_mode(self, subject: str, schema_id: int) -> Mode:
        mode = self.state.mode_in_scope(subject)
        where = f"Subject {subject} in context {DEFAULT_CONTEXT}"
        if mode in (Mode.READONLY, Mode.READONLY_OVERRIDE):
            raise errors.not_permitted(f"{where} is in read-only mode")
        if schema_id >= 0 and mode is not Mode.IMPORT:
            raise errors.not_permitted(f"{where} is not in import mode")
        if schema_id < 0 and mode is not Mode.READWRITE:
            raise errors.not_permitted(f"{where} is not in read-write mode")
        return mode

    @staticmethod
    def _content(
        schema_format: SchemaFormat, parsed: ParsedSchema, request: SchemaRequest, normalize: bool
    ) -> Content:
        """What the request registers or looks up: its canonical text, or with `normalize` its
        normalized one (Confluent's canonicalizeSchema); versions match it only exactly."""
        text = parsed.normalized() if normalize else parsed.canonical()
        return Content(schema_format.schema_type, text, request.references)

    def register(self, subject: str, request: SchemaRequest, normalize: bool) -> Written:
        mode = self._check_register_mode(subject, request.schema_id)
        schema_format, parsed = self.parse(request)
        normalize = normalize or self.state.normalize(subject)
        content = self._content(schema_format, parsed, request, normalize)
        every_version = self.state.versions(subject, deleted=True)
        live = [record for record in every_version if not record.deleted]
        schema_id = request.schema_id
        known_id = self.state.id_of(content)
        if known_id is not None and (schema_id < 0 or schema_id == known_id):
            schema_id = known_id
        if request.version == 0:
            for record in reversed(live):
                if (schema_id < 0 or schema_id == record.schema_id) and content_of(
                    record
                ) == content:
                    return Written((), {"id": record.schema_id, "version": record.version})
        if mode is not Mode.IMPORT:
            messages = self._incompatibilities(subject, schema_format, parsed, live)
            if messages:
                raise RegistryError(
                    ErrorCode.INCOMPATIBLE_SCHEMA,
                    "Schema being registered is incompatible with an earlier schema for "
                    f'subject "{subject}", details: [{", ".join(messages)}]',
                )
        version = self.state.next_version(subject)
        if request.version > 0:
            if request.version != version and mode is not Mode.IMPORT:
                raise errors.invalid_schema("Version is not one more than previous version")
            version = request.version
        if schema_id >= 0:
            stored = self.state.content(schema_id)
            if stored is not None and stored != content:
                raise errors.not_permitted(
                    f"Overwrite new schema with id {schema_id} in context "
                    f"{DEFAULT_CONTEXT} is not permitted."
                )
        else:
            schema_id = self.state.max_id + 1
        records: list[Record] = [
            SchemaTombstone(subject, record.version)
            for record in every_version
            if record.deleted
            and record.schema_id == schema_id
            and record.version < version
            and not self.state.referenced_by(subject, record.version, deleted=True)
        ]
        records.append(
            SchemaRecord(
                subject, version, schema_id, content.schema_type, content.schema, content.references
            )
        )
        return Written(tuple(records), {"id": schema_id, "version": version})

    def lookup(
        self, subject: str, request: SchemaRequest, normalize: bool, deleted: bool
    ) -> dict[str, object]:
        """POST /subjects/{subject}: the version of `subject` holding this schema."""
        schema_format, parsed = self.parse(request)
        normalize = normalize or self.state.normalize(subject)
        content = self._content(schema_format, parsed, request, normalize)
        for record in reversed(self.state.versions(subject, deleted=deleted)):
            if content_of(record) == content:
                return schema_view(record)
        if not self.state.has_subject(subject, deleted=deleted):
            raise errors.subject_not_found(subject)
        raise errors.schema_not_found()

    def check_compatibility(
        self, subject: str, version: int | None, request: SchemaRequest, verbose: bool
    ) -> dict[str, object]:
        """POST /compatibility/subjects/{subject}/versions[/{version}]."""
        if version is None:
            previous = self.state.versions(subject)
        else:
            record = self.state.version(subject, version)
            if record is None and version != LATEST:
                raise errors.version_not_found(version)
            previous = [record] if record is not None else []
        try:
            schema_format, parsed = self.parse(request)
            messages = self._incompatibilities(subject, schema_format, parsed, previous)
        except RegistryError as exc:
            if not verbose or exc.code is not ErrorCode.INVALID_SCHEMA:
                raise
            messages = [exc.message]
        answer: dict[str, object] = {"is_compatible": not messages}
        if verbose:
            answer["messages"] = messages
        return answer

    # -- deletes ----------------------------------------------------------------------------

    def _check_writable(self, subject: str) -> None:
        if self.state.mode_in_scope(subject) in (Mode.READONLY, Mode.READONLY_OVERRIDE):
            raise errors.not_permitted(
                f"Subject {subject} in context {DEFAULT_CONTEXT} is in read-only mode"
            )

    def _forget_settings(self, subject: str) -> list[Record]:
        """A subject deleted permanently loses its mode and config too."""
        records: list[Record] = []
        if self.state.mode(subject) is not None:
            records.append(ModeRecord(subject, None))
        if self.state.config(subject) is not None:
            records.append(ConfigRecord(subject, None))
        return records

    def delete_version(self, subject: str, version: int, permanent: bool) -> Written:
        record = self.state.version(subject, version, deleted=permanent)
        if record is None and version != LATEST:
            record = self.state.version(subject, version, deleted=True)
            if record is not None:
                raise RegistryError(
                    ErrorCode.SCHEMAVERSION_SOFT_DELETED,
                    f"Subject '{subject}' Version {version} was soft deleted."
                    "Set permanent=true to delete permanently",
                )
        if record is None:
            if not self.state.has_subject(subject, deleted=True):
                raise errors.subject_not_found(subject)
            raise errors.version_not_found(version)
        self._check_writable(subject)
        if self.state.referenced_by(subject, record.version, deleted=permanent):
            raise errors.reference_exists(subject, record.version)
        if not permanent:
            deleted = SchemaRecord(
                subject,
                record.version,
                record.schema_id,
                record.schema_type,
                record.schema,
                record.references,
                deleted=True,
            )
            return Written((deleted,), record.version)
        if not record.deleted:
            raise RegistryError(
                ErrorCode.SCHEMAVERSION_NOT_SOFT_DELETED,
                f"Subject '{subject}' Version {record.version} was not deleted "
                "first before being permanently deleted",
            )
        records: list[Record] = [SchemaTombstone(subject, record.version)]
        if len(self.state.versions(subject, deleted=True)) == 1:
            records += self._forget_settings(subject)
        return Written(tuple(records), record.version)

    def delete_subject(self, subject: str, permanent: bool) -> Written:
        if not self.state.has_subject(subject, deleted=True):
            raise errors.subject_not_found(subject)
        if not permanent and not self.state.has_subject(subject):
            raise RegistryError(
                ErrorCode.SUBJECT_SOFT_DELETED,
                f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
            )
        self._check_writable(subject)
        versions = self.state.versions(subject, deleted=permanent)
        for record in versions:
            referrers = self.state.referenced_by(subject, record.version, deleted=permanent)
            if any(referrer.subject != subject for referrer in referrers):
                raise errors.reference_exists(subject, record.version)
            if permanent and not record.deleted:
                raise RegistryError(
                    ErrorCode.SUBJECT_NOT_SOFT_DELETED,
                    f"Subject '{subject}' was not deleted first before being permanently deleted",
                )
        numbers = [record.version for record in versions]
        if not permanent:
            return Written((DeleteSubjectRecord(subject, numbers[-1]),), numbers)
        records: list[Record] = [SchemaTombstone(subject, n) for n in reversed(numbers)]
        return Written(tuple(records + self._forget_settings(subject)), numbers)

    # -- config and mode --------------------------------------------------------------------

    def set_config(
        self, subject: str | None, level: CompatibilityLevel | None, normalize: bool | None
    ) -> Written:
        current = self.state.config(subject)
        if current is not None:
            level = level or current.level
            normalize = current.normalize if normalize is None else normalize
        record = ConfigRecord(subject, level, normalize)
        answer: dict[str, object] = {} if level is None else {"compatibility": level.value}
        if normalize is not None:
            answer["normalize"] = normalize
        return Written((record,), answer)

    def delete_config(self, subject: str | None) -> Written:
        current = self.state.config(subject)
        if subject is not None and current is None:
            raise errors.subject_not_found(subject)
        answer = config_view(self.state, subject, default_to_global=subject is None)
        return Written((ConfigRecord(subject, None),), answer)

    def set_mode(self, subject: str | None, mode: Mode, force: bool) -> Written:
        records: list[Record] = []
        if (
            mode is Mode.IMPORT
            and self.state.mode_in_scope(subject) is not Mode.IMPORT
            and not force
        ):
            names = self.state.subjects() if subject is None else [subject]
            if any(self.state.has_subject(name) for name in names):
                raise errors.not_permitted("Cannot import since found existing subjects")
            every = self.state.subjects(deleted=True) if subject is None else [subject]
            for name in every:
                for record in self.state.versions(name, deleted=True):
                    if self.state.referenced_by(name, record.version, deleted=True):
                        raise errors.reference_exists(name, record.version)
                    records.append(SchemaTombstone(name, record.version))
            records.append(ClearSubjectRecord(subject))
        records.append(ModeRecord(subject, mode))
        return Written(tuple(records), {"mode": mode.value})

    def delete_mode(self, subject: str | None) -> Written:
        current = self.state.mode(subject)
        if current is None:
            raise errors.subject_not_found(subject)
        return Written((ModeRecord(subject, None),), {"mode": current.value})
