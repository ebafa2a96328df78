"""`PeerClient`: one broker's connection to another, speaking the Kafka protocol as a client.

Cluster mode's nodes talk to each other the way Kafka's do: the controller quorum's Vote,
BeginQuorumEpoch and Fetch, a broker's registration and heartbeats, a follower's Fetch from
its leader. A peer can be down at any moment (that is what a cluster is for), so every call
is bounded by a timeout, a lost connection fails the calls in flight with `PeerUnavailable`
and the next call reconnects. Requests are pipelined on the one connection and answered in
order, as Kafka answers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from typing import Any

from ..protocol.client_codec import framed, parse_response, request_body, request_bytes

log = logging.getLogger(__name__)

_INT32 = struct.Struct(">i")
MAX_RESPONSE_BYTES = 100 * 1024 * 1024
"""A response larger than this is a broken peer, not data (Kafka's fetch.max.bytes is 50 MiB)."""


class PeerUnavailable(ConnectionError):
    """The peer could not be reached, closed the connection, or did not answer in time."""


class PeerClient:
    def __init__(self, host: str, port: int, *, client_id: str, timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.timeout_s = timeout_s
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._pending: dict[int, tuple[int, int, asyncio.Future[Any]]] = {}
        self._next_id = 0
        self._connecting = asyncio.Lock()

    def __repr__(self) -> str:
        return f"PeerClient({self.host}:{self.port})"

    async def call(
        self, api_key: int, version: int, data: dict[str, Any], *, timeout_s: float | None = None
    ) -> Any:
        """Send one request built from Kafka's field names; its response body, or
        `PeerUnavailable` when the peer cannot answer within the timeout."""
        return await self.send(request_body(api_key, version, data), timeout_s=timeout_s)

    async def send(self, body: Any, *, timeout_s: float | None = None) -> Any:
        """Send a kio request entity; its response body."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(timeout):
                writer = await self._connected()
                self._next_id = (self._next_id + 1) & 0x7FFFFFFF
                correlation_id = self._next_id
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                self._pending[correlation_id] = (body.__api_key__, body.__version__, future)
                writer.write(framed(request_bytes(body, correlation_id, self.client_id)))
                try:
                    return await future
                finally:
                    self._pending.pop(correlation_id, None)
        except TimeoutError:
            raise PeerUnavailable(f"{self} did not answer within {timeout:.1f} s") from None
        except OSError as exc:
            if isinstance(exc, PeerUnavailable):
                raise
            raise PeerUnavailable(f"{self}: {exc}") from exc

    async def _connected(self) -> asyncio.StreamWriter:
        async with self._connecting:
            if self._writer is not None and not self._writer.is_closing():
                return self._writer
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._writer = writer
            self._reader_task = asyncio.create_task(self._read(reader, writer))
            return writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reason = "closed the connection"
        try:
            while True:
                (size,) = _INT32.unpack(await reader.readexactly(4))
                if not 0 < size <= MAX_RESPONSE_BYTES:
                    reason = f"sent a {size}-byte response frame"
                    break
                frame = await reader.readexactly(size)
                (correlation_id,) = _INT32.unpack_from(frame)
                pending = self._pending.get(correlation_id)
                if pending is None:
                    continue  # the caller timed out and left
                api_key, version, future = pending
                try:
                    _, body = parse_response(frame, api_key, version)
                except Exception as exc:  # kio raises a variety of errors on bad bytes
                    reason = f"sent a response that does not parse: {exc}"
                    break
                if not future.done():
                    future.set_result(body)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._fail_pending(reason)
            writer.close()
            if self._writer is writer:
                self._writer = None

    def _fail_pending(self, reason: str) -> None:
        for _, _, future in self._pending.values():
            if not future.done():
                future.set_exception(PeerUnavailable(f"{self} {reason}"))

    async def close(self) -> None:
        writer, task = self._writer, self._reader_task
        self._writer = self._reader_task = None
        if writer is not None:
            writer.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
