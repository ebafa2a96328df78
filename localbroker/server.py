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

accepting.py takes connections off the listening sockets; `connection_quotas.py` holds the
limits (max.connections, per IP, idle expiry) and this module applies them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import socket
import ssl
import struct
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from .accepting import Acceptor
from .connection_quotas import ConnectionQuotas, IdleExpiry
from .eager import start_eagerly
from .errors import KafkaError
from .handlers import HANDLERS, RequestContext
from .handlers.versions import (
    ClientSoftware,
    accepted_versions,
    advertised_versions,
    refusal_advice,
    removed_by_kip_896,
)
from .protocol.build import build
from .protocol.codec import (
    MalformedRequest,
    RequestError,
    UnknownApi,
    UnsupportedApiVersion,
    decode_request,
    encode_response,
    peek_client_id,
    response_schema,
)
from .protocol.framing import FrameDecoder, FrameError, ReadBuffer
from .protocol.names import ApiKey, api_name
from .security.listeners import Endpoint
from .security.mechanism import SaslFailure
from .security.principal import ANONYMOUS, distinguished_name
from .security.session import Session, Verdict
from .security.settings import ResolvedListener

if TYPE_CHECKING:
    from .state import BrokerState

log = logging.getLogger(__name__)

_CLOSE = object()
MAX_PRODUCES_IN_FLIGHT = 32
"""Produce requests of one connection whose answers may wait together (for an fsync)."""
_TOKEN_SIZE = struct.Struct(">i")


@dataclasses.dataclass(frozen=True, slots=True)
class _Last:
    """A response after which the connection closes (a refused or failed authentication)."""

    response: list[Any]


def _error_response(
    api_key: int, api_version: int, error: ErrorCode, message: str | None = None
) -> Any | None:
    """A response carrying `error` at the top level, when this API's schema has such a field."""
    schema = response_schema(api_key, api_version)
    if schema is None:
        return None
    if "error_code" not in {f.name for f in dataclasses.fields(schema)}:
        return None
    try:
        return build(schema, {"error_code": error, "error_message": message, "throttle_time": 0})
    except TypeError:
        return None


def _api_versions_fallback(
    correlation_id: int, advertised: dict[int, tuple[int, int]]
) -> list[Any]:
    """ApiVersions v0 with UNSUPPORTED_VERSION and ApiVersions' own window only, as Kafka
    answers (ApiVersionsRequest.getErrorResponse): the client retries at a version it finds
    there and learns the rest from that answer."""
    schema = response_schema(ApiKey.API_VERSIONS, 0)
    assert schema is not None
    low, high = advertised[ApiKey.API_VERSIONS]
    body: Any = build(
        schema,
        {
            "error_code": ErrorCode.unsupported_version,
            "api_keys": [{"api_key": ApiKey.API_VERSIONS, "min_version": low, "max_version": high}],
        },
    )
    return encode_response(correlation_id, body)


def _answered(in_flight: deque[asyncio.Future[Any]]) -> list[Any]:
    """The dispatch results of the requests at the head of `in_flight` that are done, taken
    off it in order (they go out before anything behind them)."""
    answered = []
    while in_flight and in_flight[0].done():
        answered.append(in_flight.popleft().result())
    return answered


class Connection(asyncio.BufferedProtocol):
    """One client connection: frames in, responses out, strictly in order."""

    def __init__(
        self, server: KafkaServer, listener: ResolvedListener, peer: tuple[str, int]
    ) -> None:
        self._server = server
        self._listener = listener
        self.session: Session | None = None
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
        self.client_software: ClientSoftware | None = None
        """What the client's ApiVersions v3+ said it is, for the log line of a refusal."""
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def made(self) -> bool:
        return self._transport is not None

    # -- asyncio protocol callbacks -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        self._server.connection_made(self)
        principal = self._tls_principal(transport)
        if principal is None:
            self.close()
            return
        self.session = Session(
            self._listener.security, self._server.state.security.credential, principal
        )
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
        self._wake()
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

    def _tls_principal(self, transport: asyncio.BaseTransport) -> str | None:
        """The principal a client certificate names (ANONYMOUS without one), or None when
        `ssl.principal.mapping.rules` has no rule for it (the handshake then fails)."""
        ssl_object = transport.get_extra_info("ssl_object")
        certificate = ssl_object.getpeercert() if ssl_object is not None else None
        if not certificate:
            return ANONYMOUS
        subject = distinguished_name(certificate)
        principal = self._listener.principal_mapper.principal(subject)
        if principal is None:
            log.warning(
                "closing connection from %s:%d: no ssl.principal.mapping.rules rule applies to %s",
                *self.peer,
                subject,
            )
        return principal

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
        in_flight: deque[asyncio.Future[Any]] = deque()
        try:
            while True:
                # Answers that are ready go out once the requests read with them are taken,
                # together: one write, one wake-up of the client.
                if not self._decoder.pending_frames and not await self._send(_answered(in_flight)):
                    return
                frame = self._decoder.next_frame()
                if frame is None:
                    if self._reading_paused and self._transport:
                        self._transport.resume_reading()
                        self._reading_paused = False
                    await self._next_event(loop, in_flight[0] if in_flight else None)
                    continue
                if self._overlaps(frame) and len(in_flight) < MAX_PRODUCES_IN_FLIGHT:
                    # It appends before the next request is read; only its wait for an fsync
                    # (log.flush.interval.messages) or for replicas overlaps the requests
                    # behind it, which join the next fsync round (BrokerState.flush) instead
                    # of each waiting a round.
                    in_flight.append(start_eagerly(self._server.dispatch(frame, self), loop))
                    if self._decoder.pending_frames:
                        await asyncio.sleep(0)  # the other connections' turn
                    continue
                while in_flight:  # every earlier answer goes out first
                    if not await self._send([await in_flight.popleft()]):
                        return
                if not await self._send([await self._server.dispatch(frame, self)]):
                    return
                if self._decoder.pending_frames:
                    await asyncio.sleep(0)  # the other connections' turn
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("connection from %s:%d failed; closing it", *self.peer)
            self.close()
        finally:
            for future in in_flight:
                future.cancel()

    async def _next_event(
        self, loop: asyncio.AbstractEventLoop, oldest: asyncio.Future[Any] | None
    ) -> None:
        """Wait until bytes arrive or `oldest` (the produce whose answer goes out next) is
        done. One future that both wake, rather than `asyncio.wait`, whose sets, callbacks and
        second future cost as much as a small request's own handling."""
        self._waiter = loop.create_future()
        if oldest is not None:
            oldest.add_done_callback(self._wake)
        try:
            await self._waiter
        finally:
            self._waiter = None
            if oldest is not None:
                oldest.remove_done_callback(self._wake)

    def _wake(self, _: object = None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _overlaps(self, frame: bytes | bytearray) -> bool:
        """Whether `frame` is a Produce request, the one kind whose handling may overlap the
        requests after it on the connection (their answers still go back in order)."""
        session = self.session
        return (
            session is not None
            and not session.raw_tokens
            and len(frame) >= 2
            and int.from_bytes(frame[:2], "big") == ApiKey.PRODUCE
        )

    async def _send(self, responses: list[Any]) -> bool:
        """Write `responses` (dispatch results, in order) in one write; False when the
        connection is done.

        One write, not one per response: each write to a local client wakes its thread, and
        on a busy machine that thread often takes the broker's core there and then, so
        pipelined produce answers written one by one cost the broker a wake-up (and often a
        turn on the core) each."""
        if self._transport is None or self._transport.is_closing():
            return False
        chunks: list[bytes | bytearray | memoryview] = []
        last = False
        for response in responses:
            if response is _CLOSE:
                last = True
                break
            if isinstance(response, _Last):
                chunks.extend(response.response)
                last = True
                break
            if response is not None:
                chunks.extend(response)
        if chunks:
            self._transport.writelines(chunks)
        if last:
            self.close()
            return False
        if chunks:
            self._active()
            if not self._writable.is_set():
                await self._writable.wait()
        return True


class KafkaServer:
    """Accepts connections and routes decoded requests to the API handlers."""

    def __init__(self, state: BrokerState) -> None:
        self.state = state
        self.connections: set[Connection] = set()
        self.read_buffer = ReadBuffer()
        self.quotas = ConnectionQuotas(state.config)
        self.idle: IdleExpiry[Connection] = IdleExpiry(self.quotas.limits.max_idle_ms)
        self.acceptor = Acceptor(self.quotas.slot_available, self._admit)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._release = state.config.api_versions_of
        self._accepted = accepted_versions(self._release)
        self._advertised = advertised_versions(self._release)

    async def start(self, listeners: list[ResolvedListener]) -> list[Endpoint]:
        """Listen on every listener's address and start accepting; returns each listener's
        endpoint with the port it got."""
        self._loop = asyncio.get_running_loop()
        bound = await self.acceptor.listen(listeners)
        if self.idle.enabled:
            self._tasks.append(self._loop.create_task(self._close_idle()))
        return bound

    async def stop(self) -> None:
        self.acceptor.close()
        tasks = [*self._tasks, *self._opening]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for connection in list(self.connections):
            connection.close()

    def _admit(
        self, sock: socket.socket, peer: tuple[str, int], listener: ResolvedListener
    ) -> None:
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
        connection = Connection(self, listener, peer)
        opening = self._loop.create_task(self._open(connection, sock, listener.ssl_context))
        self._opening.add(opening)
        opening.add_done_callback(self._opening.discard)

    async def _open(
        self, connection: Connection, sock: socket.socket, tls: ssl.SSLContext | None
    ) -> None:
        """Hand the socket to asyncio (after the TLS handshake on a TLS listener)."""
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().connect_accepted_socket(
                lambda: connection, sock, ssl=tls
            )
        except OSError as exc:
            log.info("connection from %s failed as it opened: %s", connection.peer[0], exc)
            sock.close()
            if not connection.made:
                self.quotas.release(connection.peer[0])

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
        if self.acceptor.listening and self.quotas.slot_available():
            self.acceptor.resume()

    # -- serving ----------------------------------------------------------------------------

    async def dispatch(self, frame: bytes | bytearray, connection: Connection) -> Any:
        """The encoded response to `frame`, None when none is due, _CLOSE, or a _Last."""
        serving = self.state.serving
        if serving is not None and not serving.is_set():
            await serving.wait()  # a cluster node not yet unfenced
        session = connection.session
        assert session is not None
        now = int(time.time() * 1000)
        if session.raw_tokens:
            return self._raw_token(bytes(frame), session, connection, now)
        try:
            request = decode_request(frame, self._accepted)
        except UnsupportedApiVersion as exc:
            return self._refuse(exc, connection, frame)
        except (UnknownApi, MalformedRequest) as exc:
            log.warning("closing connection from %s:%d: %s", *connection.peer, exc)
            if exc.api_key != ApiKey.SASL_AUTHENTICATE:  # whose bytes carry credentials
                log.debug("the refused frame starts with %s", bytes(frame[:256]).hex())
            return _CLOSE
        header = request.header
        if header.api_key == ApiKey.API_VERSIONS and header.api_version >= 3:
            body = request.body
            connection.client_software = ClientSoftware(
                body.client_software_name, body.client_software_version
            )
        verdict = session.admit(header.api_key, now)
        if verdict is not Verdict.PASS:
            return self._unauthenticated(header, verdict, connection)
        context = RequestContext(header, connection.peer[0], connection.peer[1], now, session)
        handler = HANDLERS[header.api_key]
        try:
            result = handler.function(self.state, context, request.body)
            if asyncio.iscoroutine(result):
                result = await result
            if context.close_connection:
                return _CLOSE
            if result is None:
                return None
            response = encode_response(header.correlation_id, result)
            return _Last(response) if context.close_after_response else response
        except KafkaError as exc:
            log.info("%s from %s:%d failed: %s", api_name(header.api_key), *connection.peer, exc)
            error, message = exc.code, exc.message or None
        except Exception:  # a handler's bug, or an answer it built that does not encode
            log.exception(
                "%s v%d from %s:%d failed",
                api_name(header.api_key),
                header.api_version,
                *connection.peer,
            )
            error, message = ErrorCode.unknown_server_error, None
        result = _error_response(header.api_key, header.api_version, error, message)
        if result is None or context.close_connection:
            return _CLOSE
        response = encode_response(header.correlation_id, result)
        return _Last(response) if context.close_after_response else response

    def _unauthenticated(self, header: Any, verdict: Verdict, connection: Connection) -> Any:
        """Kafka's answer to a request the connection's SASL state does not allow: a closed
        connection, or ILLEGAL_SASL_STATE and then a closed connection."""
        name = api_name(header.api_key)
        log.info(
            "closing connection from %s:%d: unexpected Kafka request of type %s during SASL"
            " authentication",
            *connection.peer,
            name,
        )
        if verdict is Verdict.CLOSE:
            return _CLOSE
        body = _error_response(header.api_key, header.api_version, ErrorCode.illegal_sasl_state)
        if body is None:
            return _CLOSE
        return _Last(encode_response(header.correlation_id, body))

    def _raw_token(self, token: bytes, session: Session, connection: Connection, now: int) -> Any:
        """A bare SASL token after a SaslHandshake v0, answered with a bare token; a failure
        closes the connection without an answer, as Kafka's does."""
        try:
            challenge, _ = session.authenticate(token, 0, now)
        except SaslFailure as failure:
            log.info("authentication of %s:%d failed: %s", *connection.peer, failure)
            return _CLOSE
        return [_TOKEN_SIZE.pack(len(challenge)), challenge]

    def _refuse(self, exc: RequestError, connection: Connection, frame: bytes | bytearray) -> Any:
        if exc.api_key == ApiKey.API_VERSIONS:
            return _api_versions_fallback(exc.correlation_id, self._advertised)
        if self._release is not None and removed_by_kip_896(exc.api_key, exc.api_version):
            advice = refusal_advice(
                exc.api_key,
                exc.api_version,
                self._release,
                peek_client_id(frame),
                connection.client_software,
            )
            log.warning("%s:%d: %s; closing the connection", *connection.peer, advice)
            return _CLOSE
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
