"""The broker's only networking: accept connections, cut frames, dispatch, answer in order.

Each connection serves its requests one at a time, as Kafka's socket server does (it mutes a
channel until the response is sent), so responses leave in request order and a long-polling
fetch holds back only its own connection. Anything a peer sends that is not a valid request
ends in an error response or a closed connection; it never reaches the rest of the broker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import struct
import time
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

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
from .protocol.framing import FrameDecoder, FrameError
from .protocol.names import ApiKey, api_name
from .security.listeners import Endpoint
from .security.mechanism import SaslFailure
from .security.principal import ANONYMOUS, distinguished_name
from .security.session import Session, Verdict
from .security.settings import ResolvedListener

if TYPE_CHECKING:
    from .state import BrokerState

log = logging.getLogger(__name__)

_PAUSE_READING_BYTES = 64 * 1024 * 1024
_CLOSE = object()
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

    def __init__(self, server: KafkaServer, listener: ResolvedListener) -> None:
        self._server = server
        self._listener = listener
        self.session: Session | None = None
        self._decoder = FrameDecoder(server.state.config.socket_request_max_bytes)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._reading_paused = False
        self._task: asyncio.Task[None] | None = None
        self.peer: tuple[str, int] = ("", 0)

    # -- asyncio protocol callbacks -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername") or ("", 0)
        self.peer = (str(peer[0]), int(peer[1]))
        principal = self._tls_principal(transport)
        if principal is None:
            self.close()
            return
        self.session = Session(
            self._listener.security, self._server.state.security.credential, principal
        )
        self._server.connections.add(self)
        self._task = asyncio.get_running_loop().create_task(self._serve())

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._decoder.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        try:
            self._decoder.buffer_updated(nbytes)
        except FrameError as exc:
            log.warning("closing connection from %s:%d: %s", *self.peer, exc)
            self.close()
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if self._decoder.buffered_bytes > _PAUSE_READING_BYTES and self._transport:
            self._transport.pause_reading()
            self._reading_paused = True

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
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
                if isinstance(response, _Last):
                    self._transport.writelines(response.response)
                    self.close()
                    return
                if response is not None:
                    self._transport.writelines(response)
                    if not self._writable.is_set():
                        await self._writable.wait()
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
        self._servers: list[asyncio.Server] = []
        self._supported = supported_versions()

    async def start(self, listeners: list[ResolvedListener]) -> list[Endpoint]:
        """Bind every listener; returns each one's endpoint with the port it got."""
        loop = asyncio.get_running_loop()
        bound = []
        for listener in listeners:
            endpoint = listener.security.endpoint
            server = await loop.create_server(
                lambda listener=listener: Connection(self, listener),
                endpoint.host,
                endpoint.port,
                reuse_address=True,
                backlog=1024,
                ssl=listener.ssl_context,
            )
            self._servers.append(server)
            sockname = server.sockets[0].getsockname()
            bound.append(endpoint.at(str(sockname[0]), int(sockname[1])))
        return bound

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for connection in list(self.connections):
            connection.close()
        for server in self._servers:
            await server.wait_closed()

    async def dispatch(self, frame: bytes | bytearray, connection: Connection) -> Any:
        """The encoded response to `frame`, None when none is due, _CLOSE, or a _Last."""
        session = connection.session
        assert session is not None
        now = int(time.time() * 1000)
        if session.raw_tokens:
            return self._raw_token(bytes(frame), session, connection, now)
        try:
            request = decode_request(frame, self._supported)
        except UnsupportedApiVersion as exc:
            return self._refuse(exc, connection)
        except (UnknownApi, MalformedRequest) as exc:
            log.warning("closing connection from %s:%d: %s", *connection.peer, exc)
            if exc.api_key != ApiKey.SASL_AUTHENTICATE:  # whose bytes carry credentials
                log.debug("the refused frame starts with %s", bytes(frame[:256]).hex())
            return _CLOSE
        header = request.header
        verdict = session.admit(header.api_key, now)
        if verdict is not Verdict.PASS:
            return self._unauthenticated(header, verdict, connection)
        context = RequestContext(header, connection.peer[0], connection.peer[1], now, session)
        handler = HANDLERS[header.api_key]
        try:
            result = handler.function(self.state, context, request.body)
            if asyncio.iscoroutine(result):
                result = await result
        except KafkaError as exc:
            log.info("%s from %s:%d failed: %s", api_name(header.api_key), *connection.peer, exc)
            result = _error_response(
                header.api_key, header.api_version, exc.code, exc.message or None
            )
            if result is None:
                return _CLOSE
        except Exception:
            log.exception(
                "%s v%d from %s:%d failed",
                api_name(header.api_key),
                header.api_version,
                *connection.peer,
            )
            result = _error_response(
                header.api_key, header.api_version, ErrorCode.unknown_server_error
            )
            if result is None:
                return _CLOSE
        if context.close_connection:
            return _CLOSE
        if result is None:
            return None
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
