"""Records in Confluent's wire format, told from other bytes and decoded with their schema.

Confluent's serializers write magic byte 0, the schema id as a 4-byte big-endian integer,
then the body in the schema's format (for Protobuf the message indexes first: the format,
not this module, knows that). A byte 0 is not proof (a big-endian integer starts with it
too), so a framed record is decoded only when a registry is configured, and what the registry
says of its id is shown: a record whose id the registry does not know (40403), or whose body
its schema cannot read, becomes an `Undecodable` naming the id and the reason, keeping the
bytes, never an exception in the middle of a tail.

`SchemaDecoder` splits the work so that a UI never waits on the network while drawing:
`learn()` (async) fetches the schemas of ids not seen yet, once each, as records arrive;
`decode()` (plain, fast) then uses only what was learnt.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from localbroker.public import (
    InvalidSchema,
    ParsedSchema,
    SchemaType,
    UndecodableRecord,
    console_codec,
)

from .client import SCHEMA_NOT_FOUND, RegistryClient, RegistryError

MAGIC_BYTE = 0
HEADER_SIZE = 5
RETRY_UNREACHABLE_S = 10.0
"""An id whose schema could not be fetched because the registry did not answer is asked
again after this long (an unknown id is not: the registry said so)."""
DECODED_KEPT = 4096
"""Decoded bodies kept for drawing (a list redraws the same rows a dozen times a second)."""


def schema_id_of(data: bytes | None) -> int | None:
    """The schema id of Confluent-framed bytes (magic byte 0 and at least the id), else None."""
    if data is None or len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
        return None
    return int.from_bytes(data[1:HEADER_SIZE], "big")


def framed(schema_id: int, body: bytes) -> bytes:
    """`body` with Confluent's header: what a serializer writes for schema `schema_id`."""
    return bytes([MAGIC_BYTE]) + schema_id.to_bytes(4, "big") + body


def compact_json(value: object) -> str:
    """JSON as Confluent's console consumers print it: no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """What is known of one schema id: its parsed schema and where it is registered, or why
    records with it cannot be decoded."""

    schema_id: int
    schema_type: SchemaType | None = None
    parsed: ParsedSchema | None = field(default=None, repr=False)
    subject: str | None = None
    version: int | None = None
    failure: str = ""
    """Why records with this id are not decoded ("" when they are)."""

    @property
    def where(self) -> str:
        """`orders-value v3 · schema id 7` (`schema id 7` for an id under no live subject)."""
        if self.subject is None:
            return f"schema id {self.schema_id}"
        return f"{self.subject} v{self.version} · schema id {self.schema_id}"


@dataclass(frozen=True, slots=True)
class Decoded:
    """A framed record decoded: its value as JSON-compatible data and as compact JSON."""

    schema: SchemaInfo
    value: object
    text: str


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A framed record that cannot be decoded; `data` keeps all its bytes."""

    schema_id: int
    reason: str
    data: bytes

    @property
    def text(self) -> str:
        """The marker as text (what a list shows and a filter searches)."""
        return f"⚠ schema id {self.schema_id}: {self.reason} · {self.data.hex()}"


Reading = Decoded | Undecodable


class SchemaDecoder:
    """Decodes framed records with the schemas of the ids it has learnt from a registry."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, console: bool = False
    ) -> None:
        self.clock = clock
        self.console = console
        """Decode as Confluent's console consumer prints (Avro's JSON encoding, unions
        wrapped), not as the readable JSON the Tail pane shows."""
        self._known: dict[int, SchemaInfo] = {}
        self._retry_at: dict[int, float] = {}
        self._decoded: OrderedDict[bytes, Reading] = OrderedDict()
        self.unreachable: RegistryError | None = None
        """Why the registry did not answer, the last time it did not (None since it did)."""

    def info(self, schema_id: int) -> SchemaInfo | None:
        return self._known.get(schema_id)

    def to_learn(self, datas: Iterable[bytes | None]) -> set[int]:
        """The ids among these keys and values whose schemas are not known yet (nor being
        waited for after the registry did not answer)."""
        known, retry_at = self._known, self._retry_at
        now = None
        wanted: set[int] = set()
        for data in datas:
            schema_id = schema_id_of(data)
            if schema_id is None or schema_id in known or schema_id in wanted:
                continue
            if schema_id in retry_at:
                now = self.clock() if now is None else now
                if now < retry_at[schema_id]:
                    continue
            wanted.add(schema_id)
        return wanted

    async def learn(self, client: RegistryClient, ids: Iterable[int]) -> RegistryError | None:
        """Fetch and parse the schemas of `ids`, and where each is registered. An id the
        registry does not know, or a schema that cannot be parsed, is learnt as a failure;
        one the registry could not be asked about is left to ask again later. Returns why
        the registry did not answer, when it stopped answering during this call."""
        answering = self.unreachable is None
        for schema_id in ids:
            try:
                info = await _fetch(client, schema_id)
            except RegistryError as exc:
                if exc.unreachable:
                    self._retry_at[schema_id] = self.clock() + RETRY_UNREACHABLE_S
                    self.unreachable = exc
                    continue
                reason = (
                    "unknown to the registry"
                    if exc.error_code == SCHEMA_NOT_FOUND
                    else f"registry error {exc.error_code}: {exc.message}"
                )
                info = SchemaInfo(schema_id, failure=reason)
            self._retry_at.pop(schema_id, None)
            self._known[schema_id] = info
            self.unreachable = None
        return self.unreachable if answering else None

    def decode(self, data: bytes) -> Reading | None:
        """`data` decoded, or the marker saying why it cannot be; None when the bytes are
        not framed, or their id has not been learnt (yet)."""
        schema_id = schema_id_of(data)
        if schema_id is None:
            return None
        info = self._known.get(schema_id)
        if info is None:
            return None
        if info.parsed is None:
            return Undecodable(schema_id, info.failure, data)
        kept = self._decoded.get(data)
        if kept is not None:
            self._decoded.move_to_end(data)
            return kept
        reading = decode_with(info, data, console=self.console)
        self._decoded[data] = reading
        if len(self._decoded) > DECODED_KEPT:
            self._decoded.popitem(last=False)
        return reading

    def searchable(self, data: bytes) -> str | None:
        """The text a filter searches for `data`: the decoded JSON, the marker, or None
        (not framed, or not known: the filter reads the bytes as it always did)."""
        reading = self.decode(data)
        return None if reading is None else reading.text


def decode_with(info: SchemaInfo, data: bytes, *, console: bool = False) -> Reading:
    """`data` decoded with the schema `info` holds (an Undecodable when the body does not
    match it); with `console`, as Confluent's console consumer prints it (console_codec)."""
    assert info.parsed is not None
    codec = console_codec(info.parsed) if console else info.parsed
    try:
        value = codec.decode(data[HEADER_SIZE:])
    except UndecodableRecord as exc:
        return Undecodable(info.schema_id, f"does not match its schema: {exc}", data)
    return Decoded(info, value, compact_json(value))


async def _fetch(client: RegistryClient, schema_id: int) -> SchemaInfo:
    schema = await client.schema(schema_id)
    try:
        parsed = await client.parsed(schema_id)
    except InvalidSchema as exc:
        return SchemaInfo(schema_id, schema.schema_type, failure=f"schema unreadable: {exc}")
    except LookupError:  # no format for the type (schema_format's mapping lacks it)
        failure = f"{schema.schema_type} schemas cannot be read here"
        return SchemaInfo(schema_id, schema.schema_type, failure=failure)
    try:
        versions = await client.subject_versions(schema_id)
    except RegistryError as exc:
        if exc.unreachable:
            raise
        versions = []  # a registry without the endpoint: the id alone still decodes
    where = versions[0] if versions else None
    return SchemaInfo(
        schema_id,
        schema.schema_type,
        parsed,
        where.subject if where else None,
        where.version if where else None,
    )
