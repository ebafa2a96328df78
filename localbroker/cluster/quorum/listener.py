"""The CONTROLLER listener: Kafka framing and dispatch for the controller's APIs.

Kafka's controllers serve their own listener (`controller.listener.names`), apart from the
clients' one, with their own APIs: the quorum's Vote, BeginQuorumEpoch, EndQuorumEpoch,
Fetch and DescribeQuorum, and the controller's BrokerRegistration, BrokerHeartbeat and
AlterPartition, which later parts register here. Handlers run concurrently, so a Fetch
long-polling for new entries does not hold back a Vote on the same connection, and answers
leave in request order, as the protocol requires. ApiVersions answers with the registered
APIs, so Kafka's own tools (kafka-metadata-quorum --bootstrap-controller) can connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ...protocol.build import build
from ...protocol.codec import (
    Request,
    RequestError,
    decode_request,
    encode_response,
    response_schema,
)
from ...protocol.framing import FrameDecoder, FrameError
from ...protocol.names import ApiKey

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Any]]
"""Answers a decoded request with a kio response body of the request's version."""
MAX_FRAME_BYTES = 100 * 1024 * 1024
API_VERSIONS = (0, 4)


class ControllerListener:
    def __init__(self) -> None:
        self._handlers: dict[int, tuple[tuple[int, int], Handler]] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    def register(self, api_key: int, versions: tuple[int, int], handler: Handler) -> None:
        """Serve `api_key` at `versions` (lowest, highest) with `handler`."""
        self._handlers[api_key] = (versions, handler)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, host, port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        answers: asyncio.Queue[asyncio.Task[Any] | None] = asyncio.Queue()
        sender = asyncio.create_task(self._send_in_order(answers, writer))
        try:
            decoder = FrameDecoder(MAX_FRAME_BYTES)
            while data := await reader.read(64 * 1024):
                decoder.feed(data)
                while (frame := decoder.next_frame()) is not None:
                    answers.put_nowait(asyncio.create_task(self._answer(frame)))
        except (FrameError, OSError) as exc:
            log.debug("controller connection closed: %s", exc)
        except asyncio.CancelledError:
            pass  # the listener stops
        finally:
            answers.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await sender
            writer.close()
            self._connections.discard(task)

    async def _send_in_order(
        self, answers: asyncio.Queue[asyncio.Task[Any] | None], writer: asyncio.StreamWriter
    ) -> None:
        try:
            while (answer := await answers.get()) is not None:
                chunks = await answer
                if chunks is None:
                    break
                writer.writelines(chunks)
                await writer.drain()
        finally:
            while not answers.empty():
                pending = answers.get_nowait()
                if pending is not None:
                    pending.cancel()

    async def _answer(self, frame: bytes | bytearray) -> list[Any] | None:
        """The encoded response, or None when the connection must close."""
        supported = {key: versions for key, (versions, _) in self._handlers.items()}
        supported[ApiKey.API_VERSIONS] = API_VERSIONS
        try:
            request = decode_request(frame, supported)
        except RequestError as exc:
            log.info("controller listener closes a connection: %s", exc)
            return None
        header = request.header
        if header.api_key == ApiKey.API_VERSIONS:
            body = self._api_versions(header.api_version, supported)
        else:
            try:
                body = await self._handlers[header.api_key][1](request)
            except Exception:
                log.exception("controller listener closes a connection: handler failed")
                return None
        return encode_response(header.correlation_id, body)

    @staticmethod
    def _api_versions(version: int, supported: dict[int, tuple[int, int]]) -> Any:
        return build(
            response_schema(ApiKey.API_VERSIONS, version),
            {
                "error_code": 0,
                "api_keys": [
                    {"api_key": key, "min_version": low, "max_version": high}
                    for key, (low, high) in sorted(supported.items())
                ],
                "throttle_time": 0,
            },
        )
