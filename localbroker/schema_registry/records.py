"""The `_schemas` topic's records, as Confluent's KafkaStore writes them (sans-IO).

Keys and values are JSON, byte for byte as Confluent's Jackson mapper writes them (compact,
keys in Confluent's property order, a global config's subject as `null`): the topic is
compacted by key bytes, so a record written here must replace one written by a Confluent
Schema Registry sharing the topic, and the other way round. Values carry only what this
registry reads; fields Confluent adds (md5, metadata, ruleSet) are ignored when read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from .schema_format import CompatibilityLevel, SchemaReference, SchemaType

SCHEMAS_TOPIC = "_schemas"


class Mode(StrEnum):
    """A subject's (or the registry's) mode; READWRITE by default."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"


@dataclass(frozen=True, slots=True)
class SchemaRecord:
    """One version of a subject (`deleted`: soft-deleted)."""

    subject: str
    version: int
    schema_id: int
    schema_type: SchemaType
    schema: str
    references: tuple[SchemaReference, ...] = ()
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class SchemaTombstone:
    """A version deleted permanently."""

    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    """A subject's (None: the global) config; neither level nor normalize: a tombstone."""

    subject: str | None
    level: CompatibilityLevel | None
    normalize: bool | None = None


@dataclass(frozen=True, slots=True)
class ModeRecord:
    """A subject's (None: the global) mode; mode None is a tombstone."""

    subject: str | None
    mode: Mode | None


@dataclass(frozen=True, slots=True)
class DeleteSubjectRecord:
    """A subject soft-deleted: every version up to `version` is marked deleted."""

    subject: str
    version: int


@dataclass(frozen=True, slots=True)
class ClearSubjectRecord:
    """A subject's (None: every subject's) deleted versions forgotten, written when IMPORT
    mode is set."""

    subject: str | None


@dataclass(frozen=True, slots=True)
class NoopRecord:
    """Written to learn the topic's end: the reader has caught up once it has applied it."""


Record = (
    SchemaRecord
    | SchemaTombstone
    | ConfigRecord
    | ModeRecord
    | DeleteSubjectRecord
    | ClearSubjectRecord
    | NoopRecord
)


def _dumps(document: Mapping[str, object]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def _subject_key(keytype: str, subject: str | None) -> bytes:
    return _dumps({"keytype": keytype, "subject": subject, "magic": 0})


def _with_subject(subject: str | None, fields: Mapping[str, object]) -> bytes:
    """Confluent's SubjectValue leaves out a null subject (the global entry)."""
    return _dumps({"subject": subject, **fields} if subject is not None else dict(fields))


def encode(record: Record) -> tuple[bytes, bytes | None]:
    """The record's key and value (None: a tombstone) as Confluent writes them."""
    match record:
        case SchemaRecord() | SchemaTombstone():
            key = _dumps(
                {
                    "keytype": "SCHEMA",
                    "subject": record.subject,
                    "version": record.version,
                    "magic": 1,
                }
            )
            if isinstance(record, SchemaTombstone):
                return key, None
            value: dict[str, object] = {
                "subject": record.subject,
                "version": record.version,
                "id": record.schema_id,
                "schemaType": record.schema_type.value,
            }
            if record.references:
                value["references"] = [reference_json(ref) for ref in record.references]
            value["schema"] = record.schema
            value["deleted"] = record.deleted
            return key, _dumps(value)
        case ConfigRecord(subject=subject, level=level, normalize=normalize):
            key = _subject_key("CONFIG", subject)
            if level is None and normalize is None:
                return key, None
            fields: dict[str, object] = {}
            if level is not None:
                fields["compatibilityLevel"] = level.value
            if normalize is not None:
                fields["normalize"] = normalize
            return key, _with_subject(subject, fields)
        case ModeRecord(subject=subject, mode=mode):
            key = _subject_key("MODE", subject)
            return key, None if mode is None else _with_subject(subject, {"mode": mode.value})
        case DeleteSubjectRecord(subject=subject, version=version):
            return _subject_key("DELETE_SUBJECT", subject), _dumps(
                {"subject": subject, "version": version}
            )
        case ClearSubjectRecord(subject=subject):
            return _subject_key("CLEAR_SUBJECT", subject), _with_subject(subject, {})
        case NoopRecord():
            return _dumps({"keytype": "NOOP", "magic": 0}), None


def reference_json(reference: SchemaReference) -> dict[str, object]:
    return {"name": reference.name, "subject": reference.subject, "version": reference.version}


def reference_from_json(document: object) -> SchemaReference:
    """A reference as the REST API and the topic spell it; ValueError when it is not one."""
    if not isinstance(document, dict):
        raise ValueError(f"a reference must be an object, not {document!r}")
    name, subject, version = (document.get(k) for k in ("name", "subject", "version"))
    if not isinstance(name, str) or not isinstance(subject, str) or type(version) is not int:
        raise ValueError(f"a reference needs a name, a subject and a version: {document!r}")
    return SchemaReference(name, subject, version)


def _object(raw: bytes) -> dict[str, object]:
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError(f"not a JSON object: {raw[:80]!r}")
    return document


def _string(document: Mapping[str, object], field: str) -> str:
    value = document.get(field)
    if not isinstance(value, str):
        raise ValueError(f"{field} is not a string in {document!r}")
    return value


def _integer(document: Mapping[str, object], field: str) -> int:
    value = document.get(field)
    if type(value) is not int:
        raise ValueError(f"{field} is not an integer in {document!r}")
    return value


def _optional_subject(document: Mapping[str, object]) -> str | None:
    subject = document.get("subject")
    return subject if isinstance(subject, str) else None


def decode(key: bytes, value: bytes | None) -> Record | None:
    """The record a key and value hold; None for key types this registry does not keep
    (contexts, associations). Raises ValueError (json's included) on a malformed record."""
    document = _object(key)
    keytype = document.get("keytype")
    if keytype == "SCHEMA":
        subject, version = _string(document, "subject"), _integer(document, "version")
        if value is None:
            return SchemaTombstone(subject, version)
        body = _object(value)
        references = body.get("references") or []
        if not isinstance(references, list):
            raise ValueError(f"references is not a list in {body!r}")
        return SchemaRecord(
            subject=subject,
            version=version,
            schema_id=_integer(body, "id"),
            schema_type=SchemaType(str(body.get("schemaType") or SchemaType.AVRO)),
            schema=_string(body, "schema"),
            references=tuple(reference_from_json(ref) for ref in references),
            deleted=body.get("deleted") is True,
        )
    if keytype in ("CONFIG", "MODE"):
        scope = _optional_subject(document)
        body = _object(value) if value is not None else {}
        if keytype == "MODE":
            mode = body.get("mode")
            return ModeRecord(scope, Mode(mode) if isinstance(mode, str) else None)
        level = body.get("compatibilityLevel")
        normalize = body.get("normalize")
        return ConfigRecord(
            scope,
            CompatibilityLevel(level) if isinstance(level, str) else None,
            normalize if isinstance(normalize, bool) else None,
        )
    if keytype in ("DELETE_SUBJECT", "CLEAR_SUBJECT") and value is not None:
        body = _object(value)
        if keytype == "CLEAR_SUBJECT":
            return ClearSubjectRecord(_optional_subject(body))
        return DeleteSubjectRecord(_string(body, "subject"), _integer(body, "version"))
    if keytype == "NOOP":
        return NoopRecord()
    return None
