"""Read-only answers of the REST API, from the state (sans-IO), shaped as Confluent's entities.

Confluent leaves `schemaType` out for Avro and `references` out when there are none (its
entities' NON_EMPTY inclusion and Avro default), and clients default them the same way.
"""

from __future__ import annotations

from . import errors
from .errors import ErrorCode, RegistryError
from .records import SchemaRecord, reference_json
from .schema_format import SchemaReference, SchemaType
from .state import LATEST, RegistryState

_MAX_VERSION = 2**31 - 1


def parse_version(text: str) -> int:
    """Confluent's VersionId: "latest" (any case, or -1) or 1 to 2^31-1; 42202 otherwise."""
    if text.strip().lower() == "latest":
        return LATEST
    try:
        version = int(text.strip())
    except ValueError:
        raise errors.invalid_version(text) from None
    if version == LATEST or 1 <= version <= _MAX_VERSION:
        return version
    raise errors.invalid_version(text)


def _typed(
    document: dict[str, object],
    schema_type: SchemaType,
    references: tuple[SchemaReference, ...],
    schema: str,
) -> dict[str, object]:
    if schema_type is not SchemaType.AVRO:
        document["schemaType"] = schema_type.value
    if references:
        document["references"] = [reference_json(ref) for ref in references]
    document["schema"] = schema
    return document


def schema_view(record: SchemaRecord) -> dict[str, object]:
    """A subject version as GET /subjects/{s}/versions/{v} shows it."""
    document: dict[str, object] = {
        "subject": record.subject,
        "version": record.version,
        "id": record.schema_id,
    }
    return _typed(document, record.schema_type, record.references, record.schema)


def version_of(state: RegistryState, subject: str, version: int, deleted: bool) -> SchemaRecord:
    record = state.version(subject, version, deleted=deleted)
    if record is not None:
        return record
    if not state.has_subject(subject, deleted=deleted):
        raise errors.subject_not_found(subject)
    raise errors.version_not_found(version)


def subject_versions(state: RegistryState, subject: str, deleted: bool) -> list[int]:
    versions = [record.version for record in state.versions(subject, deleted=deleted)]
    if not versions:
        raise errors.subject_not_found(subject)
    return versions


def referenced_by(state: RegistryState, subject: str, version: int, deleted: bool) -> list[int]:
    record = version_of(state, subject, version, deleted=True)
    referrers = state.referenced_by(subject, record.version, deleted=deleted)
    return sorted({referrer.schema_id for referrer in referrers})


def schema_by_id(
    state: RegistryState, schema_id: int, subject: str | None, fetch_max_id: bool
) -> dict[str, object]:
    """GET /schemas/ids/{id}; with `subject`, the schema must be registered under it."""
    content = state.content(schema_id)
    uses = state.uses_of(schema_id, deleted=True)
    if content is None or (subject is not None and all(use.subject != subject for use in uses)):
        raise errors.schema_not_found(schema_id)
    document = _typed({}, content.schema_type, content.references, content.schema)
    if fetch_max_id:
        document["maxId"] = state.max_id
    return document


def schema_text(state: RegistryState, schema_id: int) -> str:
    content = state.content(schema_id)
    if content is None:
        raise errors.schema_not_found(schema_id)
    return content.schema


def id_subjects(state: RegistryState, schema_id: int, deleted: bool) -> list[str]:
    subjects = sorted({use.subject for use in state.uses_of(schema_id, deleted=deleted)})
    if not subjects:
        raise errors.schema_not_found()
    return subjects


def id_versions(state: RegistryState, schema_id: int, deleted: bool) -> list[dict[str, object]]:
    uses = state.uses_of(schema_id, deleted=deleted)
    if not uses:
        raise errors.schema_not_found()
    return [{"subject": use.subject, "version": use.version} for use in uses]


def config_view(
    state: RegistryState, subject: str | None, default_to_global: bool
) -> dict[str, object]:
    """GET /config[/{subject}]: the subject's own config, or with `default_to_global` (and
    always for the global one) the config in scope."""
    config = state.config(subject)
    if config is None and not default_to_global:
        raise RegistryError(
            ErrorCode.SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED,
            f"Subject '{subject}' does not have subject-level compatibility configured",
        )
    document: dict[str, object] = {"compatibilityLevel": state.compatibility(subject).value}
    if state.normalize(subject):
        document["normalize"] = True
    return document


def mode_view(state: RegistryState, subject: str | None, default_to_global: bool) -> dict[str, str]:
    mode = state.mode(subject)
    if subject is None or default_to_global:
        mode = state.mode_in_scope(subject)
    if mode is None:
        raise RegistryError(
            ErrorCode.SUBJECT_LEVEL_MODE_NOT_CONFIGURED,
            f"Subject '{subject}' does not have subject-level mode configured",
        )
    return {"mode": mode.value}
