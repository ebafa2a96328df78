"""Confluent's error codes and the refusals built from them, with Confluent's messages.

Clients branch on `error_code` (confluent-kafka's `SchemaRegistryError.error_code`), so every
refusal carries Confluent's number and HTTP status (rest/exceptions/Errors.java and the
Rest*Exception classes of confluentinc/schema-registry). The REST layer turns a RegistryError
into `{"error_code": N, "message": "..."}` and nothing else ever reaches a client.
"""

from __future__ import annotations

from enum import IntEnum


class ErrorCode(IntEnum):
    """Confluent's error codes; the first three digits are the HTTP status (a bare HTTP status
    is the code of a body Jackson cannot read, as in Confluent)."""

    BAD_REQUEST = 400
    UNPROCESSABLE_ENTITY = 422
    SUBJECT_NOT_FOUND = 40401
    VERSION_NOT_FOUND = 40402
    SCHEMA_NOT_FOUND = 40403
    SUBJECT_SOFT_DELETED = 40404
    SUBJECT_NOT_SOFT_DELETED = 40405
    SCHEMAVERSION_SOFT_DELETED = 40406
    SCHEMAVERSION_NOT_SOFT_DELETED = 40407
    SUBJECT_LEVEL_COMPATIBILITY_NOT_CONFIGURED = 40408
    SUBJECT_LEVEL_MODE_NOT_CONFIGURED = 40409
    INCOMPATIBLE_SCHEMA = 40901
    INVALID_SCHEMA = 42201
    INVALID_VERSION = 42202
    INVALID_COMPATIBILITY_LEVEL = 42203
    INVALID_MODE = 42204
    OPERATION_NOT_PERMITTED = 42205
    REFERENCE_EXISTS = 42206
    ID_DOES_NOT_MATCH = 42207
    INVALID_SUBJECT = 42208
    STORE_ERROR = 50001
    OPERATION_TIMEOUT = 50002
    REQUEST_FORWARDING_FAILED = 50003

    @property
    def http_status(self) -> int:
        return self.value if self.value < 1000 else self.value // 100


class RegistryError(Exception):
    """A refusal the client sees as `{"error_code": code, "message": message}`."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def subject_not_found(subject: str | None) -> RegistryError:
    return RegistryError(ErrorCode.SUBJECT_NOT_FOUND, f"Subject '{subject}' not found.")


def version_not_found(version: int) -> RegistryError:
    return RegistryError(ErrorCode.VERSION_NOT_FOUND, f"Version {version} not found.")


def schema_not_found(schema_id: int | None = None) -> RegistryError:
    message = "Schema not found" if schema_id is None else f"Schema {schema_id} not found"
    return RegistryError(ErrorCode.SCHEMA_NOT_FOUND, message)


def invalid_version(version: str) -> RegistryError:
    return RegistryError(
        ErrorCode.INVALID_VERSION,
        f"The specified version '{version}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"',
    )


def invalid_schema(message: str) -> RegistryError:
    return RegistryError(ErrorCode.INVALID_SCHEMA, message)


def not_permitted(message: str) -> RegistryError:
    return RegistryError(ErrorCode.OPERATION_NOT_PERMITTED, message)


def reference_exists(subject: str, version: int) -> RegistryError:
    """Confluent names the referenced version by its SchemaKey's toString()."""
    return RegistryError(
        ErrorCode.REFERENCE_EXISTS,
        "One or more references exist to the schema "
        f"{{magic=1,keytype=SCHEMA,subject={subject},version={version}}}.",
    )


INVALID_COMPATIBILITY = RegistryError(
    ErrorCode.INVALID_COMPATIBILITY_LEVEL,
    "Invalid compatibility level. Valid values are none, backward, forward, full, "
    "backward_transitive, forward_transitive, and full_transitive",
)
INVALID_MODE = RegistryError(
    ErrorCode.INVALID_MODE,
    "Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT.",
)
