"""What each schema format (Avro, Protobuf, JSON Schema) gives the registry and the workbench.

The registry itself is format-blind: it stores schema text, hands a format the text of a new
schema with the texts of the schemas it references, and asks the format whether one parsed
schema can read data written with another. Compatibility levels are directions over that one
question (BACKWARD: the new schema reads what the old wrote; FORWARD: the old reads what the new
writes; FULL: both), each against the latest version or, for `_TRANSITIVE`, all of them, as
Confluent's `CompatibilityChecker` composes them; so a format implements `incompatibilities`
once and every level follows.

Encoding and decoding take the body after Confluent's 5-byte header (magic byte 0 and the
4-byte schema id); for Protobuf the body starts with the message indexes, so the format, not
its caller, knows that part of the wire format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class SchemaType(StrEnum):
    """`schemaType` in the registry's REST API; absent in a request means AVRO."""

    AVRO = "AVRO"
    PROTOBUF = "PROTOBUF"
    JSON = "JSON"


class CompatibilityLevel(StrEnum):
    """Confluent's compatibility levels, per subject or global (BACKWARD by default)."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """Checked against every earlier version, not only the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def new_reads_old(self) -> bool:
        """The new schema must read data written with the earlier ones (BACKWARD, FULL)."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def old_reads_new(self) -> bool:
        """The earlier schemas must read data written with the new one (FORWARD, FULL)."""
        return self.value.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True, slots=True)
class SchemaReference:
    """A reference as the REST API spells it: the name the referring schema uses (an Avro
    full name, a Protobuf import path, a JSON `$ref` URL) and the subject version it means."""

    name: str
    subject: str
    version: int


class InvalidSchema(ValueError):
    """The text is not a schema of its type; the registry answers 422 with error code 42201
    and this message, which says what is wrong and where."""


class UndecodableRecord(ValueError):
    """A record body does not match the schema its id names (or a value does not match the
    schema it is encoded with); the message says where it stopped."""


class ParsedSchema(Protocol):
    """One schema, parsed with its references resolved."""

    @property
    def schema_type(self) -> SchemaType: ...

    def canonical(self) -> str:
        """The text the registry stores and returns for this schema (Confluent's
        `canonicalString()`): two registrations with equal canonical text get one id."""
        ...

    def normalized(self) -> str:
        """The canonical text after Confluent's normalization (`normalize=true`: Avro's
        parsing canonical form, Protobuf's sorted and fully-qualified form, JSON's sorted
        keys), so equivalent spellings share an id when a client asks for it."""
        ...

    def formatted(self, fmt: str) -> str:
        """The text for `?format=fmt` on a schema read (Confluent's `formattedString`): a
        type's own forms (Protobuf `serialized`, a base64 FileDescriptorProto, which
        confluent-kafka's Python deserializer asks for; Avro `resolved`, references inlined);
        `default` or a form the type does not know gives `canonical()`, as Confluent answers
        unknown forms rather than refuse them. Names are matched in any case."""
        ...

    def decode(self, body: bytes) -> object:
        """A record body (after the 5-byte header) as JSON-compatible Python values, as
        Confluent's JSON rendering of the format shows them."""
        ...

    def encode(self, value: object) -> bytes:
        """The body (after the 5-byte header) Confluent's serializer writes for `value` (JSON
        values, as `decode` gives them); raises UndecodableRecord naming the first field that
        does not fit."""
        ...


class SchemaFormat(Protocol):
    """One schema type's parsing and compatibility."""

    @property
    def schema_type(self) -> SchemaType: ...

    def parse(self, text: str, references: Mapping[str, str]) -> ParsedSchema:
        """`text` parsed; `references` maps each reference name used by `text` (directly or
        through another reference) to the referenced schema's text. Raises InvalidSchema."""
        ...

    def incompatibilities(self, reader: ParsedSchema, writer: ParsedSchema) -> Sequence[str]:
        """Why `reader` cannot read data written with `writer`, one line per problem, in
        Confluent's words (its error types, e.g. READER_FIELD_MISSING_DEFAULT_VALUE, and the
        path); empty when it can."""
        ...
