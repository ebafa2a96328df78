"""The workbench's broker in a process of its own: started, watched, restarted and stopped here.

In the TUI's process the broker shared one interpreter lock with the screen: whatever the
screen drew slowed every client of the broker (issue 16). As a child (`python -m
localbroker.supervised`) it has a core of its own and still tells the workbench what it
needs, pushed over pipes: the group coordinator's events (the Demo pane's timeline), and its
log lines (the Logs view).

Supervision, in one thread per broker (`_supervise`):
- a child that dies unasked is started again on the same port and data directory, at most
  RESTARTS times in RESTART_WINDOW_S; each time the notice listeners hear why (the app shows
  it), and the log says so too;
- `stop()` sends SIGTERM (the broker flushes and releases its lock), waits STOP_WAIT_S, then
  SIGKILL;
- the child never outlives the workbench: PR_SET_PDEATHSIG (localbroker/lifeline.py) makes
  the kernel stop it when the thread that started it ends (so every child is started from
  the supervising thread, which lives exactly as long as the broker should), and EOF on its
  stdin, a pipe only this process holds, stops it where prctl is missing.

Two brokers never serve one data directory: the child takes the directory's lock (flock) as
LocalBroker always did, and says `in_use` when it cannot; `start()` raises DataDirHeld.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the protocol's modules load on the reading thread, after the child starts
    from localbroker.public import GroupEvent

RESTARTS = 3
RESTART_WINDOW_S = 60.0
START_TIMEOUT_S = 30.0
STOP_WAIT_S = 10.0
RUNNING_FILE = "kwb-running.json"
"""In the data directory while a workbench's broker serves it: the workbench's pid, the
broker's (written again at each restart) and its address (tui/embedded.py reads it)."""
LOG_LINES = 2000
"""Log lines kept for a Logs view opened late."""
T = TypeVar("T")


class BrokerFailed(OSError):
    """The broker process ended, or said it could not start, before it was up."""


class DataDirHeld(BrokerFailed):
    """Another broker holds the data directory's lock (localbroker's DataDirInUse, said by
    the child: this process does not load the broker's modules)."""


class Listeners(list[Callable[[T], None]]):
    """Callbacks, each called on the thread that reads the child; `add` returns `remove`."""

    def add(self, listener: Callable[[T], None]) -> Callable[[], None]:
        self.append(listener)
        return lambda: self.remove(listener) if listener in self else None

    def tell(self, item: T) -> None:
        for listener in list(self):
            listener(item)


class BrokerOutput:
    """What broker processes tell the workbench, kept and passed on: their log lines (the
    Logs view, even one opened late) and notices for the user (ChildBroker, LocalCluster)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: deque[str] = deque(maxlen=LOG_LINES)
        self._log_listeners: Listeners[str] = Listeners()
        self._notice_listeners: Listeners[str] = Listeners()

    def follow_logs(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """The log lines kept so far, then each new one as it comes (on a reader thread)."""
        with self._lock:
            for line in self._logs:
                listener(line)
            return self._log_listeners.add(listener)

    def follow_notices(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """What a user must hear of: a broker died (and was restarted, or was not)."""
        return self._notice_listeners.add(listener)

    def _log(self, line: str) -> None:
        with self._lock:  # one order for every follower, the backlog included
            self._logs.append(line)
            self._log_listeners.tell(line)

    def _notice(self, text: str) -> None:
        self._log(f"kwb: {text}")
        self._notice_listeners.tell(text)


class ChildBroker(BrokerOutput):
    """localbroker in a child process, supervised; the same face as the in-process
    EmbeddedBroker (`bootstrap`, `subscribe_groups`, `follow_logs`, `stop`)."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        config: dict[str, str] | None = None,
        schema_registry_port: int | None = None,
    ) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.config = config or {}
        self.schema_registry_port = schema_registry_port
        """Serve a Schema Registry beside the broker on this port (0: any; None: none)."""
        self.schema_registry_url: str | None = None
        """The registry's URL once started (None without one)."""
        self._bootstrap: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._supervisor: threading.Thread | None = None
        self._stopping = False
        self._group_listeners: Listeners[GroupEvent] = Listeners()

    @property
    def bootstrap(self) -> str:
        assert self._bootstrap is not None, "the broker is not running"
        return self._bootstrap

    @property
    def pid(self) -> int | None:
        """The broker process's pid (a new one after each restart)."""
        process = self._process
        return process.pid if process is not None else None

    def start(self) -> ChildBroker:
        """Start the child and wait until it accepts connections (DataDirHeld when another
        broker holds the data directory, BrokerFailed when it cannot start)."""
        up: Future[str] = Future()
        self._supervisor = threading.Thread(
            target=self._supervise, args=(up,), name="localbroker-supervisor", daemon=True
        )
        self._supervisor.start()
        try:
            self._bootstrap = up.result(START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), at most STOP_WAIT_S, then SIGKILL; no restart."""
        if self._bootstrap is not None:  # it ran, so the record is its own
            (self.data_dir / RUNNING_FILE).unlink(missing_ok=True)
        with self._lock:
            self._stopping = True
            process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_WAIT_S)
        if self._supervisor is not None:
            self._supervisor.join(STOP_WAIT_S)
            self._supervisor = None

    def subscribe_groups(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """Call `listener` (on a reader thread) with each of the coordinator's events."""
        return self._group_listeners.add(listener)

    # -- the supervising thread --------------------------------------------------------------

    def _supervise(self, up: Future[str]) -> None:
        port, exits = self.port, deque[float]()
        while True:
            try:
                process, ready = self._spawn(port)
                bootstrap = ready.result(START_TIMEOUT_S)
            except BaseException as exc:  # handed to the caller, or told
                self._end_unasked()
                if not up.done():
                    up.set_exception(exc)
                elif not self._stopping:  # a restart cut short by stop() is no news
                    self._notice(f"the broker could not be restarted: {exc}")
                return
            write_record(self.data_dir, bootstrap, process.pid, self.schema_registry_url)
            if not up.done():
                up.set_result(bootstrap)
                port = int(bootstrap.rpartition(":")[2])
                if self.schema_registry_url is not None:  # a restart serves it there again
                    self.schema_registry_port = int(self.schema_registry_url.rpartition(":")[2])
            else:
                self._notice(f"the broker is back (pid {process.pid}) on {bootstrap}")
            status = process.wait()
            if process.stdin is not None:
                process.stdin.close()  # its lifeline, no longer needed
            if self._stopping:
                return
            now = time.monotonic()
            while exits and now - exits[0] > RESTART_WINDOW_S:
                exits.popleft()
            if len(exits) >= RESTARTS:
                self._notice(
                    f"the broker {how_it_ended(status)} again: {RESTARTS} restarts within"
                    f" {RESTART_WINDOW_S:g} s, not restarting it (see the Logs view, ctrl+l)"
                )
                return
            exits.append(now)
            self._notice(f"the broker {how_it_ended(status)}; restarting it")

    def _spawn(self, port: int) -> tuple[subprocess.Popen[bytes], Future[str]]:
        command = [
            sys.executable, "-m", "localbroker.supervised",
            "--data-dir", str(self.data_dir), "--host", self.host, "--port", str(port),
            "--parent", str(os.getpid()),
            *(f"--override={key}={value}" for key, value in self.config.items()),
        ]  # fmt: skip
        if self.schema_registry_port is not None:
            command += ["--schema-registry", str(self.schema_registry_port)]
        with self._lock:
            if self._stopping:
                raise BrokerFailed("the broker is being stopped")
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # no SIGINT from the terminal: kwb decides when
            )
            self._process = process
        ready: Future[str] = Future()
        assert process.stdout is not None and process.stderr is not None
        readers = ((self._read_messages, process.stdout), (self._read_log, process.stderr))
        for target, stream in readers:
            threading.Thread(
                target=target, args=(stream, ready), name="localbroker-reader", daemon=True
            ).start()
        return process, ready

    def _end_unasked(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(STOP_WAIT_S)

    def _read_messages(self, stream: IO[bytes], ready: Future[str]) -> None:
        with stream:
            self._read_each_message(stream, ready)
        if not ready.done():
            last = self._logs[-1] if self._logs else "nothing in its log"
            ready.set_exception(BrokerFailed(f"the broker ended before it was up: {last}"))

    def _read_each_message(self, stream: IO[bytes], ready: Future[str]) -> None:
        from localbroker.public import event_from_json

        for line in stream:
            try:
                message = json.loads(line)
                if "group" in message:
                    self._group_listeners.tell(event_from_json(message["group"]))
                elif "ready" in message:
                    registry = message.get("schema_registry")
                    self.schema_registry_url = None if registry is None else str(registry)
                    ready.set_result(str(message["ready"]))
                elif "in_use" in message:
                    ready.set_exception(DataDirHeld(str(message["in_use"])))
                elif "failed" in message:
                    ready.set_exception(BrokerFailed(str(message["failed"])))
            except (ValueError, KeyError, TypeError) as exc:
                self._log(f"kwb: unreadable message from the broker ({exc}): {line!r}")

    def _read_log(self, stream: IO[bytes], ready: Future[str]) -> None:
        with stream:
            for line in stream:
                self._log(line.decode(errors="replace").rstrip("\n"))


def write_record(
    data_dir: Path,
    bootstrap: str,
    broker_pid: int,
    schema_registry: str | None = None,
    brokers: int = 1,
) -> None:
    """Say in `data_dir` that this workbench serves it at `bootstrap` (RUNNING_FILE), its
    Schema Registry's URL if it serves one and how many brokers (a cluster's, its first
    node's pid), whole: written aside and renamed, so that a reader never sees half."""
    record = data_dir / RUNNING_FILE
    aside = record.with_suffix(".tmp")
    fields: dict[str, object] = {"pid": os.getpid(), "bootstrap": bootstrap}
    fields["broker_pid"] = broker_pid
    if schema_registry is not None:
        fields["schema_registry"] = schema_registry
    if brokers != 1:
        fields["brokers"] = brokers
    aside.write_text(json.dumps(fields))
    aside.replace(record)


def how_it_ended(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"
