"""Kafka request and response framing on top of kio's generated schemas.

Decoding never trusts the peer: every failure surfaces as `MalformedRequest`,
`UnknownApi` or `UnsupportedApiVersion`, so the server can choose between an error
response and closing the connection without guessing what went wrong.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from typing import IO, Any, cast

from kio.index import UnknownAPIKey, UnknownEntity, load_request_schema, load_response_schema
from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.serial import entity_reader
from kio.static.constants import EntityType

from .chunks import ChunkWriter
from .encoder import encode
from .guard import EncodingError, check_request
from .kio_removed import load_schema
from .names import KNOWN_API_KEYS, ApiKey, api_name
from .spliced import Spliced, write_spliced

_PREFIX = struct.Struct(">hhi")
_INT32 = struct.Struct(">i")
_INT16 = struct.Struct(">h")
_EMPTY_TAGGED_FIELDS = b"\x00"


class RequestError(Exception):
    """A request that cannot be served as sent."""

    def __init__(
        self, message: str, api_key: int = -1, api_version: int = -1, correlation_id: int = -1
    ) -> None:
        super().__init__(message)
        self.api_key = api_key
        self.api_version = api_version
        self.correlation_id = correlation_id


class MalformedRequest(RequestError):
    """Bytes that do not parse as the request they claim to be."""


class UnknownApi(RequestError):
    """An API key no Kafka version defines."""


class UnsupportedApiVersion(RequestError):
    """A known API at a version this broker does not serve."""


@dataclass(frozen=True, slots=True)
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str | None


@dataclass(frozen=True, slots=True)
class Request:
    header: RequestHeader
    body: Any
    size: int


@cache
def request_schema(api_key: int, api_version: int) -> Any:
    """kio's request class for this API version (from kio_removed for a version Kafka 4.0
    removed), or None when there is no schema for it."""
    try:
        return load_request_schema(api_key, api_version)
    except (UnknownAPIKey, UnknownEntity):
        return load_schema(api_key, api_version, EntityType.request)


@cache
def response_schema(api_key: int, api_version: int) -> Any:
    try:
        return load_response_schema(api_key, api_version)
    except (UnknownAPIKey, UnknownEntity):
        return load_schema(api_key, api_version, EntityType.response)


@cache
def _body_reader(schema: type) -> Any:
    return entity_reader(schema)


@cache
def _header_reader(flexible: bool) -> Any:
    return entity_reader(RequestHeaderV2 if flexible else RequestHeaderV1)


def peek_header(frame: bytes | bytearray) -> tuple[int, int, int]:
    """api_key, api_version and correlation_id: fixed-position fields every header starts with."""
    if len(frame) < _PREFIX.size:
        raise MalformedRequest(f"request of {len(frame)} bytes is shorter than a request header")
    return _PREFIX.unpack_from(frame)


def peek_client_id(frame: bytes | bytearray) -> str | None:
    """The header's client_id, read without the body's schema (request headers v1 and v2 both
    carry it as a classic nullable string); None when absent or cut short."""
    start = _PREFIX.size + _INT16.size
    if len(frame) < start:
        return None
    (length,) = _INT16.unpack_from(frame, _PREFIX.size)
    if length < 0 or len(frame) < start + length:
        return None
    return bytes(frame[start : start + length]).decode("utf-8", errors="replace")


def decode_request(frame: bytes | bytearray, supported: dict[int, tuple[int, int]]) -> Request:
    """Parse one frame into its header and kio body, for an API version in `supported`."""
    api_key, api_version, correlation_id = peek_header(frame)
    where = dict(api_key=api_key, api_version=api_version, correlation_id=correlation_id)
    if api_key not in KNOWN_API_KEYS:
        raise UnknownApi(f"unknown API key {api_key}", **where)
    window = supported.get(api_key)
    schema = request_schema(api_key, api_version)
    if window is None or not window[0] <= api_version <= window[1] or schema is None:
        raise UnsupportedApiVersion(f"{api_name(api_key)} v{api_version} is not supported", **where)
    try:
        check_request(schema, frame)
    except EncodingError as exc:
        raise MalformedRequest(
            f"{api_name(api_key)} v{api_version} does not parse: {exc}", **where
        ) from exc
    if isinstance(frame, bytearray):  # kio's native reader accepts read-only buffers only
        frame = memoryview(frame).toreadonly()  # type: ignore[assignment]
    try:
        header, header_size = _header_reader(schema.__flexible__)(frame, 0)
        # Bytes after the body are ignored, as Kafka ignores them: librdkafka sends three
        # stray bytes with every all-topics Metadata request from v9 on.
        body, _ = _body_reader(schema)(frame, header_size)
    except Exception as exc:  # kio raises a variety of decode errors for truncated bytes
        raise MalformedRequest(
            f"{api_name(api_key)} v{api_version} does not parse: {exc}", **where
        ) from exc
    return Request(
        RequestHeader(api_key, api_version, correlation_id, header.client_id), body, len(frame)
    )


def encode_response(
    correlation_id: int, body: Any, *, flexible_header: bool | None = None
) -> list[bytes | bytearray | memoryview]:
    """Length-prefixed response frame as a list of chunks ready for `writelines`; `body` is a
    kio response or a `Spliced` one.

    The response header is flexible (v1) exactly when the body's version is flexible,
    except for ApiVersions, whose response header is always v0 so that a client that
    sent a version we reject can still read our answer.
    """
    schema = type(body.body if isinstance(body, Spliced) else body)
    if flexible_header is None:
        flexible_header = schema.__flexible__ and schema.__api_key__ != ApiKey.API_VERSIONS
    out = ChunkWriter()
    out.write(b"\x00\x00\x00\x00")
    out.write(_INT32.pack(correlation_id))
    if flexible_header:
        out.write(_EMPTY_TAGGED_FIELDS)
    if isinstance(body, Spliced):
        write_spliced(cast(IO[bytes], out), body)
    else:
        encode(out, body)
    return out.finish_frame()
