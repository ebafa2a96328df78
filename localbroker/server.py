"""The broker's only networking: accept connections, cut frames, dispatch, answer in order.

Each connection serves its requests one at a time, as Kafka's socket server does (it mutes a
channel until the response is sent), so responses leave in request order and a long-polling
fetch holds back only its own connection. Anything a peer sends that is not a valid request
ends in an error response or a closed connection; it never reaches the rest of the broker.

No connection can hold the others up. A connection yields to the event loop after every
request while it has more waiting, since a handler that does not await (an acks=0 produce)
would otherwise run a whole pipeline back to back: every other socket, the accept queue and
the group coordinator's timer wait meanwhile. Reading stops while a connection has whole
requests waiting (Kafka mutes a channel while its request is in flight), so read-ahead is one
socket read, and a client that does not read its answers stops being read: its unsent answers
stop at the transport's high-water mark and its requests stay in the kernel, where TCP pushes
back on it.

Accepting is this module's own loop rather than asyncio's server, so that it can stop at
`max.connections` (new connections wait in the listen backlog, as with Kafka) and refuse a
connection it has no descriptor for instead of leaving it waiting (descriptors.py).
`connection_quotas.py` holds the limits; this module applies them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import logging
import socket
import time
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from . import descriptors
from .connection_quotas import ConnectionQuotas, IdleExpiry
from .errors import KafkaError
from .handlers import HANDLERS, RequestContext, supported_versions
from .protocol.build import build
from .protocol.codec import (
    MalformedRequest,
    RequestError,
    UnknownApi,
    UnsupportedApiVersion,
    decode_request,
    encode_response,
    response_schema,
)
from .protocol.framing import FrameDecoder, FrameError, ReadBuffer
from .protocol.names import ApiKey, api_name

if TYPE_CHECKING:
    from .state import BrokerState

log = logging.getLogger(__name__)

_CLOSE = object()
_BACKLOG = 1024
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_ACCEPT_RETRY_S = 0.1


def _error_response(api_key: int, api_version: int, error: ErrorCode) -> Any | None:
    """A response carrying `error` at the top level, when this API's schema has such a field."""
    schema = response_schema(api_key, api_version)
    if schema is None:
        return None
    if "error_code" not in {f.name for f in dataclasses.fields(schema)}:
        return None
    try:
        return build(schema, {"error_code": error, "throttle_time": 0})
    except TypeError:
        return None


def _api_versions_fallback(correlation_id: int) -> list[Any]:
    """ApiVersions v0 with UNSUPPORTED_VERSION and our full table, so the client can downgrade."""
    schema = response_schema(ApiKey.API_VERSIONS, 0)
    assert schema is not None
    body: Any = build(
        schema,
        {
            "error_code": ErrorCode.unsupported_version,
            "api_keys": [
                {"api_key": key, "min_version": low, "max_version": high}
                for key, (low, high) in supported_versions().items()
            ],
        },
    )
    return encode_response(correlation_id, body)


class Connection(asyncio.BufferedProtocol):
    """One client connection: frames in, responses out, strictly in order."""

    def __init__(self, server: KafkaServer, peer: tuple[str, int]) -> None:
        self._server = server
        self.peer = peer
        """The client's address and port, as accepted (and as connection quotas count it)."""
        self._decoder = FrameDecoder(
            server.state.config.socket_request_max_bytes, server.read_buffer
        )
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._reading_paused = False
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def made(self) -> bool:
        return self._transport is not None

    # -- asyncio protocol callbacks -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        self._server.connection_made(self)
        self._task = self._loop.create_task(self._serve())

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._decoder.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self._active()
        try:
            self._decoder.buffer_updated(nbytes)
        except FrameError as exc:
            log.warning("closing connection from %s:%d: %s", *self.peer, exc)
            self.close()
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if self._decoder.pending_frames and not self._reading_paused and self._transport:
            self._transport.pause_reading()
            self._reading_paused = True

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connection_lost(self)
        if self._task is not None:
            self._task.cancel()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # -- serving ------------------------------------------------------------------------

    def close(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def _active(self) -> None:
        """Bytes moved: the connection is not idle (connections.max.idle.ms)."""
        assert self._loop is not None
        self._server.idle.touch(self, self._loop.time())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = self._decoder.next_frame()
                if frame is None:
                    if self._reading_paused and self._transport:
                        self._transport.resume_reading()
                        self._reading_paused = False
                    self._waiter = loop.create_future()
                    await self._waiter
                    self._waiter = None
                    continue
                response = await self._server.dispatch(frame, self)
                if self._transport is None or self._transport.is_closing():
                    return
                if response is _CLOSE:
                    self.close()
                    return
                if response is not None:
                    self._transport.writelines(response)
                    self._active()
                    if not self._writable.is_set():
                        await self._writable.wait()
                if self._decoder.pending_frames:
                    await asyncio.sleep(0)  # the other connections' turn
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("connection from %s:%d failed; closing it", *self.peer)
            self.close()


class KafkaServer:
    """Accepts connections and routes decoded requests to the API handlers."""

    def __init__(self, state: BrokerState) -> None:
        self.state = state
        self.connections: set[Connection] = set()
        self.read_buffer = ReadBuffer()
        self.quotas = ConnectionQuotas(state.config)
        self.idle: IdleExpiry[Connection] = IdleExpiry(self.quotas.limits.max_idle_ms)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: list[socket.socket] = []
        self._accepting = False
        self._opening: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._reserve: descriptors.Reserve | None = None
        self._refusals = descriptors.RefusalLog()
        self._supported = supported_versions()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on `host`:`port` (every address it resolves to) and start accepting."""
        descriptors.raise_soft_limit()
        self._reserve = descriptors.Reserve()
        self._loop = asyncio.get_running_loop()
        try:
            self._listeners = await _listen(host, port)
        except BaseException:
            self._reserve.close()
            raise
        self._accept_when_ready()
        if self.idle.enabled:
            self._tasks.append(self._loop.create_task(self._close_idle()))
        sockname = self._listeners[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def stop(self) -> None:
        self._stop_accepting()
        tasks = [*self._tasks, *self._opening]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for listener in self._listeners:
            listener.close()
        self._listeners = []
        for connection in list(self.connections):
            connection.close()
        if self._reserve is not None:
            self._reserve.close()

    # -- accepting --------------------------------------------------------------------------

    def _accept_when_ready(self) -> None:
        """Watch the listening sockets (a reader each, kept until accepting stops)."""
        assert self._loop is not None
        if not self._accepting:
            for listener in self._listeners:
                self._loop.add_reader(listener.fileno(), self._accept, listener)
            self._accepting = True

    def _stop_accepting(self) -> None:
        if self._accepting and self._loop is not None:
            for listener in self._listeners:
                self._loop.remove_reader(listener.fileno())
            self._accepting = False

    def _accept(self, listener: socket.socket) -> None:
        """Take the connections waiting on `listener` (as many as the backlog holds)."""
        for _ in range(_BACKLOG):
            if not self.quotas.slot_available():  # max.connections: the rest wait queued
                self._stop_accepting()
                return
            try:
                sock, address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_DESCRIPTORS:
                    refused = self._refuse_one(listener, exc)
                    if refused is not None:  # one refused, or none was waiting after all
                        if refused:
                            continue
                        return
                else:
                    log.warning("accepting a connection failed: %s", exc)
                self._stop_accepting()  # look again in a moment, not in a busy loop
                assert self._loop is not None
                self._loop.call_later(_ACCEPT_RETRY_S, self._accept_when_ready)
                return
            self._admit(sock, (str(address[0]), int(address[1])))

    def _admit(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        limit = self.quotas.admit(peer[0])
        if limit is not None:
            log.info(
                "Rejected connection from %s, address already has the configured maximum"
                " of %d connections.",
                peer[0],
                limit,
            )
            sock.close()
            return
        assert self._loop is not None
        opening = self._loop.create_task(self._open(Connection(self, peer), sock))
        self._opening.add(opening)
        opening.add_done_callback(self._opening.discard)

    async def _open(self, connection: Connection, sock: socket.socket) -> None:
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(lambda: connection, sock)
        except OSError as exc:
            log.info("connection from %s failed as it opened: %s", connection.peer[0], exc)
            sock.close()
            if not connection.made:
                self.quotas.release(connection.peer[0])

    def _refuse_one(self, listener: socket.socket, error: OSError) -> bool | None:
        """With every descriptor taken (accept() fails so even with no connection waiting),
        take the next waiting connection with the reserved one and close it. True: refused
        one; False: none was waiting; None: even that failed."""
        assert self._reserve is not None
        self._reserve.lend()
        try:
            sock, address = listener.accept()
            sock.close()
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            self._refusals.refused(None, error)
            return None
        finally:
            self._reserve.restore()
        self._refusals.refused(str(address[0]), error)
        return True

    async def _close_idle(self) -> None:
        """Close connections that moved no bytes for connections.max.idle.ms, oldest first."""
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.idle.next_deadline()
            delay = self.idle.max_idle if deadline is None else deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            for connection in self.idle.expired(loop.time()):
                log.debug(
                    "closing connection from %s:%d: idle for more than %d ms"
                    " (connections.max.idle.ms)",
                    *connection.peer,
                    self.idle.max_idle * 1000,
                )
                connection.close()

    def connection_made(self, connection: Connection) -> None:
        self.connections.add(connection)
        self.idle.touch(connection, asyncio.get_running_loop().time())

    def connection_lost(self, connection: Connection) -> None:
        self.connections.discard(connection)
        self.idle.forget(connection)
        self.quotas.release(connection.peer[0])
        if self._listeners and self.quotas.slot_available():
            self._accept_when_ready()

    # -- serving ----------------------------------------------------------------------------

    async def dispatch(self, frame: bytes | bytearray, connection: Connection) -> Any:
        """The encoded response to `frame`, None when none is due, or _CLOSE."""
        try:
            request = decode_request(frame, self._supported)
        except UnsupportedApiVersion as exc:
            return self._refuse(exc, connection)
        except (UnknownApi, MalformedRequest) as exc:
            log.warning("closing connection from %s:%d: %s", *connection.peer, exc)
            log.debug("the refused frame starts with %s", bytes(frame[:256]).hex())
            return _CLOSE
        header = request.header
        context = RequestContext(
            header, connection.peer[0], connection.peer[1], int(time.time() * 1000)
        )
        handler = HANDLERS[header.api_key]
        try:
            result = handler.function(self.state, context, request.body)
            if asyncio.iscoroutine(result):
                result = await result
            if context.close_connection:
                return _CLOSE
            return None if result is None else encode_response(header.correlation_id, result)
        except KafkaError as exc:
            log.info("%s from %s:%d failed: %s", api_name(header.api_key), *connection.peer, exc)
            error = exc.code
        except Exception:  # a handler's bug, or an answer it built that does not encode
            log.exception(
                "%s v%d from %s:%d failed",
                api_name(header.api_key),
                header.api_version,
                *connection.peer,
            )
            error = ErrorCode.unknown_server_error
        result = _error_response(header.api_key, header.api_version, error)
        return _CLOSE if result is None else encode_response(header.correlation_id, result)

    def _refuse(self, exc: RequestError, connection: Connection) -> Any:
        if exc.api_key == ApiKey.API_VERSIONS:
            return _api_versions_fallback(exc.correlation_id)
        body = _error_response(exc.api_key, exc.api_version, ErrorCode.unsupported_version)
        log.warning(
            "%s from %s:%d%s",
            exc,
            *connection.peer,
            "" if body is not None else "; closing the connection",
        )
        if body is None:
            return _CLOSE
        return encode_response(exc.correlation_id, body)


async def _listen(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address `host` resolves to (all interfaces when empty),
    the later ones on the port the first got when `port` is 0, as a listener has one port."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    listeners: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            listener = socket.socket(family, kind, proto)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if len(listeners) > 1:
                address = (address[0], listeners[0].getsockname()[1], *address[2:])
            listener.bind(address)
            listener.listen(_BACKLOG)
            listener.setblocking(False)
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners
