"""Accepting connections: the broker's own loop over its listening sockets, rather than
asyncio's server, so that it can stop at `max.connections` (new connections then wait in the
listen backlog, as with Kafka) and refuse a connection it has no descriptor for instead of
leaving it waiting (descriptors.py). The server decides what to do with each accepted socket.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

from . import descriptors
from .security.listeners import Endpoint
from .security.settings import ResolvedListener

log = logging.getLogger(__name__)

_BACKLOG = 1024
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_ACCEPT_RETRY_S = 0.1

Accepted = Callable[[socket.socket, tuple[str, int], ResolvedListener], None]
"""Called with each accepted socket, its peer's address and port, and its listener."""


class Acceptor:
    """The listening sockets of every listener, watched while there is room for more."""

    def __init__(self, room: Callable[[], bool], accepted: Accepted) -> None:
        self._room = room
        """False at max.connections: accepting pauses until `resume()`."""
        self._accepted = accepted
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: list[tuple[socket.socket, ResolvedListener]] = []
        """Every listening socket, with the listener (security, TLS) it serves."""
        self._accepting = False
        self._reserve: descriptors.Reserve | None = None
        self._refusals = descriptors.RefusalLog()

    @property
    def listening(self) -> bool:
        return bool(self._sockets)

    async def listen(self, listeners: list[ResolvedListener]) -> list[Endpoint]:
        """Listen on every listener's address (all it resolves to) and start accepting;
        returns each listener's endpoint with the port it got."""
        descriptors.raise_soft_limit()
        self._reserve = descriptors.Reserve()
        self._loop = asyncio.get_running_loop()
        bound = []
        try:
            for listener in listeners:
                endpoint = listener.security.endpoint
                sockets = await _listen(endpoint.host, endpoint.port)
                self._sockets += [(sock, listener) for sock in sockets]
                sockname = sockets[0].getsockname()
                bound.append(endpoint.at(str(sockname[0]), int(sockname[1])))
        except BaseException:
            self.close()
            raise
        self.resume()
        return bound

    def close(self) -> None:
        self._stop_accepting()
        for sock, _ in self._sockets:
            sock.close()
        self._sockets = []
        if self._reserve is not None:
            self._reserve.close()
            self._reserve = None

    def resume(self) -> None:
        """Watch the listening sockets (a reader each, kept until accepting stops)."""
        assert self._loop is not None
        if not self._accepting and self._sockets:
            for sock, listener in self._sockets:
                self._loop.add_reader(sock.fileno(), self._accept, sock, listener)
            self._accepting = True

    def _stop_accepting(self) -> None:
        if self._accepting and self._loop is not None:
            for sock, _ in self._sockets:
                self._loop.remove_reader(sock.fileno())
            self._accepting = False

    def _accept(self, listening: socket.socket, listener: ResolvedListener) -> None:
        """Take the connections waiting on `listening` (as many as the backlog holds)."""
        for _ in range(_BACKLOG):
            if not self._room():  # max.connections: the rest wait queued
                self._stop_accepting()
                return
            try:
                sock, address = listening.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_DESCRIPTORS:
                    refused = self._refuse_one(listening, exc)
                    if refused is not None:  # one refused, or none was waiting after all
                        if refused:
                            continue
                        return
                else:
                    log.warning("accepting a connection failed: %s", exc)
                self._stop_accepting()  # look again in a moment, not in a busy loop
                assert self._loop is not None
                self._loop.call_later(_ACCEPT_RETRY_S, self.resume)
                return
            self._accepted(sock, (str(address[0]), int(address[1])), listener)

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
