"""The broker the workbench runs for itself: a LocalBroker on its own event loop in a thread.

The broker lives in-process so the workbench can watch its group coordinator's events
directly, and on its own loop so a burst of traffic through the broker never stalls the
TUI's loop. Data goes under the user's XDG data directory; the port is 9092 or the next
free one.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from localbroker import LocalBroker
from localbroker.state import BrokerState

FIRST_PORT = 9092
PORTS_TO_TRY = 100
_TIMEOUT = 30.0
T = TypeVar("T")


def data_home() -> Path:
    """Where the embedded broker keeps its data ($XDG_DATA_HOME/kafka-workbench)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kafka-workbench" / "localbroker"


def free_port(host: str, first: int = FIRST_PORT) -> int:
    """`first` or the next port after it that nothing listens on."""
    for port in range(first, first + PORTS_TO_TRY):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {first}..{first + PORTS_TO_TRY - 1} on {host}")


class EmbeddedBroker:
    """Start and stop a LocalBroker in a background thread; call into it safely."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        config: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.config = config or {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="embedded-localbroker", daemon=True
        )
        self._broker: LocalBroker | None = None

    @property
    def bootstrap(self) -> str:
        assert self._broker is not None, "the embedded broker is not running"
        return self._broker.bootstrap

    def bootstrap_for(self, listener: str) -> str:
        """`host:port` of the named listener (a broker may listen with several protocols)."""
        assert self._broker is not None, "the embedded broker is not running"
        return self._broker.bootstrap_for(listener)

    @property
    def state(self) -> BrokerState:
        assert self._broker is not None and self._broker.state is not None
        return self._broker.state

    def start(self) -> EmbeddedBroker:
        port = self.port if self.port is not None else free_port(self.host)
        self._broker = LocalBroker(self.data_dir, host=self.host, port=port, config=self.config)
        self._thread.start()
        try:
            self._run(self._broker.start())
        except BaseException:
            self._loop.call_soon_threadsafe(self._loop.stop)
            raise
        return self

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the broker's loop (where its state may be touched)."""
        future: Future[T] = Future()

        def invoke() -> None:
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(invoke)
        return future.result(_TIMEOUT)

    def call_soon(self, function: Callable[[], Any]) -> None:
        """Run `function` on the broker's loop without waiting for it."""
        self._loop.call_soon_threadsafe(function)

    def stop(self) -> None:
        """Flush and stop the broker (a clean shutdown), then end its thread."""
        if self._broker is None:
            return
        try:
            if self._broker.state is not None:
                self._run(self._broker.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_TIMEOUT)
            self._broker = None

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_TIMEOUT)
