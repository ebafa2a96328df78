"""Real localbrokers for tests: in a background thread, or as a separate process.

`BrokerThread` runs `LocalBroker` on its own event loop in a thread, so synchronous
clients (confluent-kafka, kafka-python, kcat) and the test's own asyncio loop (aiokafka)
can both talk to it. `BrokerProcess` runs `python -m localbroker` for tests that kill it.
Both bind 127.0.0.1 on a free port, wait a bounded time for readiness and always stop.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from localbroker import LocalBroker
from localbroker.state import BrokerState

T = TypeVar("T")
START_TIMEOUT = 20.0
_READY = re.compile(r"localbroker listening on [^:]+:(\d+)")


class BrokerThread:
    def __init__(
        self, data_dir: Path, config: Mapping[str, str] | None = None, port: int = 0
    ) -> None:
        self.data_dir = data_dir
        self.config = dict(config or {})
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.broker: LocalBroker | None = None
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="localbroker", daemon=True
        )

    def start(self) -> BrokerThread:
        self._thread.start()
        self.broker = LocalBroker(
            self.data_dir, host="127.0.0.1", port=self.port, config=self.config
        )
        self.run(self.broker.start())
        return self

    @property
    def bootstrap(self) -> str:
        assert self.broker is not None
        return self.broker.bootstrap

    @property
    def state(self) -> BrokerState:
        assert self.broker is not None and self.broker.state is not None
        return self.broker.state

    def run(self, coroutine: Any, timeout: float = START_TIMEOUT) -> Any:
        """Run a coroutine on the broker's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def call(self, function: Callable[[], T], timeout: float = START_TIMEOUT) -> T:
        """Run `function` on the broker's loop (where its state may be touched safely)."""
        future: Future[T] = Future()

        def invoke() -> None:
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(invoke)
        return future.result(timeout)

    def stop(self) -> None:
        try:
            if self.broker is not None and self.broker.state is not None:
                self.run(self.broker.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(START_TIMEOUT)
            self.loop.close()

    def restart(self) -> BrokerThread:
        """Stop cleanly and start a new broker on the same data directory and port."""
        port = int(self.bootstrap.rsplit(":", 1)[1])
        self.stop()
        again = BrokerThread(self.data_dir, self.config, port=port)
        return again.start()


class BrokerProcess:
    """`python -m localbroker` in its own process, for SIGKILL and restart tests."""

    def __init__(
        self, data_dir: Path, overrides: Mapping[str, str] | None = None, port: int = 0
    ) -> None:
        self.data_dir = data_dir
        self.overrides = dict(overrides or {})
        self.port = port
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> BrokerProcess:
        command = [
            sys.executable,
            "-m",
            "localbroker",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "WARNING",
        ]
        for key, value in self.overrides.items():
            command += ["--override", f"{key}={value}"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        ready: Future[int] = Future()

        def read_ready_line() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                match = _READY.search(line)
                if match and not ready.done():
                    ready.set_result(int(match.group(1)))
            if not ready.done():
                ready.set_exception(RuntimeError("localbroker exited before it was ready"))

        threading.Thread(target=read_ready_line, daemon=True).start()
        try:
            self.port = ready.result(START_TIMEOUT)
        except BaseException:
            self.kill()
            raise
        return self

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no flush, no clean-shutdown marker."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(START_TIMEOUT)

    def terminate(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(START_TIMEOUT)
