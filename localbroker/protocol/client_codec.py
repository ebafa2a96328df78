"""The client's side of the wire: requests encoded, responses decoded.

The broker itself speaks as a client when it talks to its peers in cluster mode (the
controller quorum's Vote and Fetch, a follower's Fetch to its leader), and the tests speak
it by hand; both use these functions so that there is one encoding of a request.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.schema.response_header.v1.header import ResponseHeader as ResponseHeaderV1
from kio.serial import entity_reader, entity_writer
from kio.static.primitive import i32

from .build import build
from .codec import request_schema, response_schema
from .names import ApiKey

_INT32 = struct.Struct(">i")


def encode(entity: Any) -> bytes:
    out = io.BytesIO()
    entity_writer(type(entity))(out, entity)
    return out.getvalue()


def request_body(api_key: int, version: int, data: dict[str, Any]) -> Any:
    """kio's request entity of this API version (one Kafka 4.0 removed too), built from Kafka
    field names."""
    return build(request_schema(api_key, version), data)


def request_header(body: Any, correlation_id: int, client_id: str) -> bytes:
    """The encoded header of a request (v2 for flexible bodies, else v1)."""
    header_class = RequestHeaderV2 if body.__flexible__ else RequestHeaderV1
    header = header_class(
        request_api_key=body.__api_key__,
        request_api_version=body.__version__,
        correlation_id=i32(correlation_id),
        client_id=client_id,
    )
    return encode(header)


def request_bytes(body: Any, correlation_id: int, client_id: str) -> bytes:
    """Header and body of one request, unframed."""
    return request_header(body, correlation_id, client_id) + encode(body)


def framed(payload: bytes) -> bytes:
    return _INT32.pack(len(payload)) + payload


class TrailingBytes(ValueError):
    """A response body that did not use up its frame."""


def parse_response(frame: bytes, api_key: int, version: int) -> tuple[int, Any]:
    """Correlation id and body of a response; the body must use up the frame exactly."""
    schema = response_schema(api_key, version)
    if schema.__flexible__ and api_key != ApiKey.API_VERSIONS:  # ApiVersions: header v0
        header, position = entity_reader(ResponseHeaderV1)(frame, 0)
        correlation_id = header.correlation_id
    else:
        (correlation_id,), position = _INT32.unpack_from(frame), 4
    body, size = entity_reader(schema)(frame, position)
    unread = len(frame) - position - size
    if unread:
        raise TrailingBytes(f"{unread} unread bytes after the response body")
    return correlation_id, body
