"""Kafka spoken by hand over one socket, for what the clients hide (the error codes, a
JoinGroup left parked) and what no client would send (cut frames, stray bytes, fuzz).

Requests are kio entities built from Kafka's field names, framed and headed as a client
would; responses are read back whole and must use up their frame exactly. Every read has a
deadline: the socket's timeout.
"""

from __future__ import annotations

import io
import socket
import struct
from typing import Any

from kio.schema.request_header.v1.header import RequestHeader as RequestHeaderV1
from kio.schema.request_header.v2.header import RequestHeader as RequestHeaderV2
from kio.schema.response_header.v1.header import ResponseHeader as ResponseHeaderV1
from kio.serial import entity_reader, entity_writer

from localbroker.protocol.build import build
from localbroker.protocol.codec import request_schema, response_schema

API_VERSIONS = 18
CLIENT_ID = "raw-test"
TIMEOUT = 30.0
"""Seconds a read may wait for what should take moments: generous, CI's machine is slow."""


def encode(entity: Any) -> bytes:
    out = io.BytesIO()
    entity_writer(type(entity))(out, entity)
    return out.getvalue()


def request_body(api_key: int, version: int, data: dict[str, Any]) -> Any:
    """kio's request entity of this API version (one Kafka 4.0 removed too), built from Kafka
    field names."""
    return build(request_schema(api_key, version), data)


def request_bytes(body: Any, correlation_id: int, client_id: str = CLIENT_ID) -> bytes:
    """Header and body of one request, unframed (header v2 for flexible bodies, else v1)."""
    header_class = RequestHeaderV2 if body.__flexible__ else RequestHeaderV1
    header = header_class(
        request_api_key=body.__api_key__,
        request_api_version=body.__version__,
        correlation_id=correlation_id,
        client_id=client_id,
    )
    return encode(header) + encode(body)


def framed(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def parse_response(frame: bytes, api_key: int, version: int) -> tuple[int, Any]:
    """Correlation id and body of a response; the body must use up the frame exactly."""
    schema = response_schema(api_key, version)
    if schema.__flexible__ and api_key != API_VERSIONS:  # ApiVersions always answers header v0
        header, position = entity_reader(ResponseHeaderV1)(frame, 0)
        correlation_id = header.correlation_id
    else:
        (correlation_id,), position = struct.unpack_from(">i", frame), 4
    body, size = entity_reader(schema)(frame, position)
    unread = len(frame) - position - size
    assert unread == 0, f"{unread} unread bytes after the response body"
    return correlation_id, body


class RawClient:
    """One TCP connection speaking Kafka frames by hand; every read has a deadline. `send` and
    `recv` are apart so that a request that parks (JoinGroup) can be left waiting."""

    def __init__(
        self, bootstrap: str, client_id: str = CLIENT_ID, timeout: float = TIMEOUT
    ) -> None:
        host, port = bootstrap.rsplit(":", 1)
        self.client_id = client_id
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._next_id = 1
        self._buffer = b""

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def abort(self) -> None:
        """Close with a TCP reset, as a crashed client would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, body: Any, trailing: bytes = b"") -> int:
        """Send one request (with optional stray bytes after the body); its correlation id."""
        correlation_id = self.next_id()
        self.send_raw(framed(request_bytes(body, correlation_id, self.client_id) + trailing))
        return correlation_id

    def _fill(self, size: int) -> bool:
        while len(self._buffer) < size:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return False
            except TimeoutError:
                raise AssertionError("the broker neither answered nor closed in time") from None
            if not chunk:
                return False
            self._buffer += chunk
        return True

    def recv_frame(self) -> bytes | None:
        """The next response frame, or None when the broker closed the connection."""
        if not self._fill(4):
            return None
        (size,) = struct.unpack_from(">i", self._buffer)
        if not self._fill(4 + size):
            return None
        frame, self._buffer = self._buffer[4 : 4 + size], self._buffer[4 + size :]
        return frame

    def recv(self, api_key: int, version: int, correlation_id: int) -> Any:
        frame = self.recv_frame()
        assert frame is not None, "the broker closed the connection instead of answering"
        got_id, body = parse_response(frame, api_key, version)
        assert got_id == correlation_id
        return body

    def call(self, api_key: int, version: int, data: dict[str, Any], trailing: bytes = b"") -> Any:
        body = request_body(api_key, version, data)
        return self.recv(api_key, version, self.send(body, trailing))

    def expect_closed(self) -> None:
        """The broker must close the connection without sending another byte."""
        frame = self.recv_frame()
        assert frame is None, f"expected a closed connection, got a {len(frame)}-byte response"
