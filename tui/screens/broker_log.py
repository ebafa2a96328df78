"""ctrl+l: the log of the workbench's own broker, live.

The broker runs in a process of its own (tui/broker_process.py), so its log no longer lands
in the workbench's: this screen shows it, the lines kept from before it opened first, then
each as the broker writes it, with the supervisor's own notices ("kwb: the broker was killed
by SIGKILL; restarting it") among them. Lines come on the thread that reads the broker; they
are queued and handed to the screen's loop in one batch, so a chatty broker costs one
wake-up per batch, not one per line.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import suppress

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from ..host import host_of

MAX_LINES = 5000


class BrokerLogScreen(ModalScreen[None]):
    """The broker's log lines, newest at the bottom, following as they come."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("ctrl+l", "dismiss", "Close", show=False),
    ]

    DEFAULT_CSS = """
    BrokerLogScreen { align: center middle; }
    BrokerLogScreen > #broker-log-frame {
        width: 95%; height: 90%; border: round $primary; background: $surface;
    }
    BrokerLogScreen #broker-log-title { color: $primary; text-style: bold; padding: 0 1; }
    BrokerLogScreen Log { height: 1fr; background: $surface; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_following: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="broker-log-frame"):
            yield Static("broker log · escape closes", id="broker-log-title")
            yield Log(max_lines=MAX_LINES, id="broker-log")

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        workbench = host_of(self).workbench
        broker = workbench.embedded if workbench is not None else None
        if broker is None or workbench is None or not workbench.profile.embedded:
            where = workbench.connection.bootstrap_servers if workbench is not None else "-"
            self.query_one(Log).write_line(
                f"The log shown here is the workbench's own broker's; this workbench uses"
                f" {where}, whose log is where that broker runs."
            )
            return
        self._stop_following = broker.follow_logs(self._line)

    def on_unmount(self) -> None:
        if self._stop_following is not None:
            self._stop_following()
            self._stop_following = None

    def _line(self, line: str) -> None:
        """Any thread: queue, and wake the screen's loop once per batch."""
        with self._lock:
            self._pending.append(line)
            if self._drain_scheduled or self._loop is None:
                return
            self._drain_scheduled = True
        with suppress(RuntimeError):  # the loop is closed: nobody reads any more
            self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            lines, self._pending = self._pending, []
            self._drain_scheduled = False
        if self.is_attached:
            self.query_one(Log).write_lines(lines)
