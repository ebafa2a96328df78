"""The broker the workbench runs for itself, and where it keeps its data.

`kwb` runs it as a child process (tui/broker_process.py: ChildBroker), so that the broker and
the screen do not share one interpreter lock. EmbeddedBroker runs a LocalBroker on its own
event loop in a thread of this process instead: the tests use it to reach into the broker's
state. Both are an `OwnBroker` to the app: an address, the group coordinator's events, the
log. Data goes under the user's XDG data directory; the port is 9092 or the next free one.

One broker serves a data directory at a time (it holds a lock on it). A second `kwb` used to
die there with a 25-line traceback ending in DataDirInUse; now the workbench that runs the
broker writes where it listens into the data directory (RUNNING_FILE), and the second joins
that broker as a client (`open_local`). The lock is the kernel's (flock): it goes with the
process that held it, so a workbench killed with -9 leaves nothing stale behind it, and the
next `kwb` recovers the log as after any unclean stop. A record left by a dead process is
ignored. The child holds that lock; the record names the workbench (whose death ends the
child) and the child's pid.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from localbroker.groups.events import GroupEvent

from .broker_process import RUNNING_FILE, ChildBroker, DataDirHeld, write_record

if TYPE_CHECKING:
    from localbroker import LocalBroker
    from localbroker.schema_registry.service import SchemaRegistry
    from localbroker.state import BrokerState

FIRST_PORT = 9092
SCHEMA_REGISTRY_PORT = 8081
"""Where the embedded broker's Schema Registry listens (or the next free port): Confluent's
default, which its serializers' examples and tools assume."""
PORTS_TO_TRY = 100
_TIMEOUT = 30.0
RECORD_PATIENCE_S = 5.0
"""How long a second workbench waits for the first, which took the lock a moment ago, to say
where it listens (it writes that once its broker is up)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunningBroker:
    """Another workbench's embedded broker, which this one joins as a client."""

    pid: int
    bootstrap: str
    schema_registry_url: str | None = None
    brokers: int = 1
    """How many brokers it runs (`kwb --brokers N`)."""


class OwnBroker(Protocol):
    """The broker the workbench runs, as the app and its panes see it (in-process or child)."""

    @property
    def bootstrap(self) -> str:
        """`host:port` its clients use."""

    @property
    def schema_registry_url(self) -> str | None:
        """The Schema Registry served beside it (None: none)."""

    def subscribe_groups(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """Call `listener`, maybe on another thread, with each of the group coordinator's
        events; returns the function that unsubscribes."""

    def follow_logs(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener`, maybe on another thread, with the broker's log lines: those kept
        so far, then each as it comes; returns the function that stops."""

    def follow_notices(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener`, maybe on another thread, with what the user must hear of (the
        broker died and was restarted); returns the function that stops."""

    def stop(self) -> None:
        """Stop it cleanly."""


class BrokerInUse(Exception):
    """The data directory is held by a broker that no running workbench says it serves."""


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


def call_on_loop(loop: asyncio.AbstractEventLoop, function: Callable[[], T], timeout: float) -> T:
    """Run `function` on `loop`, running in another thread, and return what it returns."""
    future: Future[T] = Future()

    def invoke() -> None:
        try:
            future.set_result(function())
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(invoke)
    return future.result(timeout)


class EmbeddedBroker:
    """Start and stop a LocalBroker in a background thread; call into it safely."""

    def __init__(
        self,
        data_dir: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        config: dict[str, str] | None = None,
        schema_registry_port: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.config = config or {}
        self.schema_registry_port = schema_registry_port
        """Serve a Schema Registry beside the broker on this port (0: any; None: none)."""
        self.schema_registry_url: str | None = None
        self._registry: SchemaRegistry | None = None
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
        from localbroker import LocalBroker  # the broker's modules, for this process only

        port = self.port if self.port is not None else free_port(self.host)
        self._broker = LocalBroker(self.data_dir, host=self.host, port=port, config=self.config)
        self._thread.start()
        try:
            self._run(self._broker.start())
            if self.schema_registry_port is not None:
                from localbroker.schema_registry.service import serve_beside

                registry = serve_beside(self._broker, self.host, self.schema_registry_port)
                self._registry = self._run(registry)
                self.schema_registry_url = self._registry.url
        except BaseException:
            self.stop()
            raise
        write_record(self.data_dir, self.bootstrap, os.getpid(), self.schema_registry_url)
        return self

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the broker's loop (where its state may be touched)."""
        return call_on_loop(self._loop, function, _TIMEOUT)

    def call_soon(self, function: Callable[[], Any]) -> None:
        """Run `function` on the broker's loop without waiting for it."""
        self._loop.call_soon_threadsafe(function)

    def subscribe_groups(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """Call `listener` on the broker's loop with each of the coordinator's events."""
        unsubscribe: list[Callable[[], None]] = []
        self.call_soon(lambda: unsubscribe.append(self.state.subscribe_groups(listener)))
        return lambda: self.call_soon(lambda: [done() for done in unsubscribe])

    def follow_logs(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Each line `localbroker`'s loggers write from now on (nothing kept before)."""
        handler = _LineHandler(listener)
        logging.getLogger("localbroker").addHandler(handler)
        return lambda: logging.getLogger("localbroker").removeHandler(handler)

    def follow_notices(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """An in-process broker is never restarted: it has nothing to tell."""
        return lambda: None

    def stop(self) -> None:
        """Flush and stop the broker (a clean shutdown), then end its thread."""
        if self._broker is None:
            return
        (self.data_dir / RUNNING_FILE).unlink(missing_ok=True)
        registry, self._registry = self._registry, None
        try:
            if registry is not None:
                self._run(registry.stop())
            if self._broker.state is not None:
                self._run(self._broker.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(_TIMEOUT)
            self._broker = None

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_TIMEOUT)


class _LineHandler(logging.Handler):
    def __init__(self, listener: Callable[[str], None]) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._listener = listener

    def emit(self, record: logging.LogRecord) -> None:
        self._listener(self.format(record))


def open_local(
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    patience: float = RECORD_PATIENCE_S,
) -> ChildBroker | RunningBroker:
    """Start the workbench's broker (a child process) on `data_dir`, or, when another
    workbench runs it, that workbench's broker to join. BrokerInUse when something else
    holds the data directory.

    A directory held with no record may be on its way to free: the broker of a workbench
    killed a moment ago stops by itself (lifeline.py) and lets go of the lock as it ends. So
    until `patience` runs out, a lock found free is tried again."""
    deadline = time.monotonic() + patience
    while True:
        try:
            broker = ChildBroker(
                data_dir,
                host,
                port if port is not None else free_port(host),
                schema_registry_port=free_port(host, SCHEMA_REGISTRY_PORT),
            )
            broker.start()
        except DataDirHeld:
            pass
        else:
            return broker
        while not _lock_free(data_dir):
            if (running := running_broker(data_dir)) is not None:
                return running
            if time.monotonic() > deadline:
                raise BrokerInUse(
                    f"{data_dir} is in use by another broker that no running workbench"
                    " serves; stop it, or give kwb another --data-dir"
                )
            time.sleep(0.1)  # the other workbench is starting: it writes its record once up


def _lock_free(data_dir: Path) -> bool:
    """Whether no process holds the data directory's lock now (taken and let go at once)."""
    from localbroker.log.manager import LOCK_FILE  # loads the log's modules: only when held

    try:
        fd = os.open(data_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # closing lets go of a lock taken
    return True


def running_broker(data_dir: Path) -> RunningBroker | None:
    """The broker a live workbench says it serves from `data_dir` and that answers there;
    None for no record, a dead process's record, or an address nobody answers on."""
    try:
        record = json.loads((data_dir / RUNNING_FILE).read_text())
        registry = record.get("schema_registry")
        running = RunningBroker(
            int(record["pid"]),
            str(record["bootstrap"]),
            None if registry is None else str(registry),
            int(record.get("brokers", 1)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(running.pid) or not _answers(running.bootstrap):
        return None
    return running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def _answers(bootstrap: str) -> bool:
    """Whether one of the addresses of `bootstrap` (a cluster's list) accepts connections."""
    for address in bootstrap.split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=2):
                return True
        except (OSError, ValueError):
            continue
    return False
