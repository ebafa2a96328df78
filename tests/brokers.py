"""Real localbrokers for tests: in a background thread, or as a separate process.

`running_broker` runs the workbench's own EmbeddedBroker (LocalBroker on its own event loop in
a thread), so synchronous clients (confluent-kafka, kafka-python, kcat), the test's own asyncio
loop (aiokafka) and the app under test all talk to the broker the product runs.
`BrokerProcess` runs `python -m localbroker` for tests that kill it. Both bind 127.0.0.1 on a
free port, wait a bounded time for readiness and always stop.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from tui.embedded import EmbeddedBroker

START_TIMEOUT = 20.0
_READY = re.compile(r"localbroker listening on [^:]+:(\d+)")
_REGISTRY_READY = re.compile(r"schema registry listening on (\S+)")


def listening(bootstrap: str) -> bool:
    """Whether something accepts connections at `host:port` now."""
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def running_broker(
    data_dir: Path, config: Mapping[str, str] | None = None
) -> Iterator[EmbeddedBroker]:
    """An embedded broker on a free port (the OS picks it: port 0), stopped at the end
    whatever happens. Its start, its calls and its stop are bounded by EmbeddedBroker."""
    broker = EmbeddedBroker(data_dir, port=0, config=dict(config or {})).start()
    try:
        yield broker
    finally:
        broker.stop()


def localbroker_command(
    data_dir: Path, port: int, overrides: Mapping[str, str] | None = None
) -> list[str]:
    """`python -m localbroker` on 127.0.0.1:`port` (0: any free port) over `data_dir`, logging
    warnings only, with each of `overrides` as `--override key=value`. (bench/ uses it too.)"""
    command = [
        sys.executable,
        "-m",
        "localbroker",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "WARNING",
    ]
    for key, value in (overrides or {}).items():
        command += ["--override", f"{key}={value}"]
    return command


class BrokerProcess:
    """`python -m localbroker` in its own process, for SIGKILL and restart tests. With
    `log_path`, what it logs (stderr) is appended to that file, for tests that read it."""

    def __init__(
        self,
        data_dir: Path,
        overrides: Mapping[str, str] | None = None,
        port: int = 0,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        *,
        descriptor_limit: int | None = None,
        schema_registry: bool = False,
        registry_user: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.schema_registry = schema_registry or registry_user is not None
        """Also serve the Schema Registry (`--schema-registry 0`); `registry_url` once started."""
        self.registry_user = registry_user
        """USER:PASSWORD the registry requires (`--schema-registry-user`)."""
        self.registry_url = ""
        self.overrides = dict(overrides or {})
        self.port = port
        self.descriptor_limit = descriptor_limit
        """`ulimit -n` for the broker (soft and hard), to run it out of file descriptors."""
        self.log_path = log_path
        self.env = dict(env or {})
        self.process: subprocess.Popen[str] | None = None

    def _limit_descriptors(self) -> None:
        if self.descriptor_limit is not None:
            limit = (self.descriptor_limit, self.descriptor_limit)
            resource.setrlimit(resource.RLIMIT_NOFILE, limit)

    def start(self) -> BrokerProcess:
        with contextlib.ExitStack() as opened:
            stderr = (
                opened.enter_context(open(self.log_path, "a"))
                if self.log_path is not None
                else None
            )
            command = localbroker_command(self.data_dir, self.port, self.overrides)
            if self.schema_registry:
                command += ["--schema-registry", "0"]
            if self.registry_user is not None:
                command += ["--schema-registry-user", self.registry_user]
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                preexec_fn=self._limit_descriptors if self.descriptor_limit else None,
            )
        ready: Future[int] = Future()
        registry_ready: Future[str] = Future()

        def read_ready_lines() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                match = _READY.search(line)
                if match and not ready.done():
                    ready.set_result(int(match.group(1)))
                match = _REGISTRY_READY.search(line)
                if match and not registry_ready.done():
                    registry_ready.set_result(match.group(1))
            for future in (ready, registry_ready):
                if not future.done():
                    future.set_exception(RuntimeError("localbroker exited before it was ready"))

        threading.Thread(target=read_ready_lines, daemon=True).start()
        try:
            self.port = ready.result(START_TIMEOUT)
            if self.schema_registry:
                self.registry_url = registry_ready.result(START_TIMEOUT)
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

    def log_text(self) -> str:
        """What the process logged so far (needs `log_path`)."""
        assert self.log_path is not None, "start the broker with a log_path"
        return self.log_path.read_text() if self.log_path.exists() else ""

    def terminate(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(START_TIMEOUT)
