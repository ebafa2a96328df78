"""Kafka spoken by hand over one socket, for what the clients hide (the error codes, a
JoinGroup left parked) and what no client would send (cut frames, stray bytes, fuzz).

Requests are kio entities built from Kafka's field names, framed and headed as a client
would; responses are read back whole and must use up their frame exactly. Every read has a
deadline: the socket's timeout.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from localbroker.protocol.client_codec import (
    encode,
    framed,
    parse_response,
    request_body,
)
from localbroker.protocol.client_codec import request_bytes as _request_bytes

__all__ = ["API_VERSIONS", "RawClient", "encode", "framed", "parse_response", "request_body"]

API_VERSIONS = 18
CLIENT_ID = "raw-test"
TIMEOUT = 30.0
"""Seconds a read may wait for what should take moments: generous, CI's machine is slow."""


def request_bytes(body: Any, correlation_id: int, client_id: str = CLIENT_ID) -> bytes:
    """Header and body of one request, unframed (header v2 for flexible bodies, else v1)."""
    return _request_bytes(body, correlation_id, client_id)


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
