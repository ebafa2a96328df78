"""The line at the top: which cluster (in its profile's colour), whether it is reachable, and
what the workbench is waiting for (a spinner and the action's words) while an action that
calls the cluster waits for its answer (issue 14, point 5: a dry run said nothing for 2 s)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static

from ..kafka.cluster_monitor import ConnectionStatus

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPIN_SECONDS = 0.1


class ClusterBar(Horizontal):
    """Cluster label and connection status; prod never looks like local (profile colour)."""

    DEFAULT_CSS = """
    ClusterBar {
        height: 1;
        background: $panel;
    }
    ClusterBar #cluster-label {
        width: auto;
        padding: 0 1;
        text-style: bold;
    }
    ClusterBar #cluster-status {
        width: 1fr;
        padding: 0 1;
        color: $kwb-muted;
    }
    ClusterBar #cluster-status.-down {
        color: $error;
    }
    ClusterBar #cluster-busy {
        width: auto;
        padding: 0 1;
        color: $warning;
        display: none;
    }
    ClusterBar #cluster-busy.-busy {
        display: block;
    }
    """

    status: reactive[ConnectionStatus | None] = reactive(None)
    busy: reactive[str] = reactive("")
    """What an action waits for ("deleting topic orders"); "" when nothing is."""

    def __init__(self, label: str, colour: str) -> None:
        super().__init__()
        self._label = label
        self._colour = colour
        self._spinner: Timer | None = None
        self._frame = 0

    def compose(self) -> ComposeResult:
        yield Static(self._label, id="cluster-label")
        yield Static("connecting…", id="cluster-status")
        yield Static("", id="cluster-busy")

    def on_mount(self) -> None:
        self.set_cluster(self._label, self._colour)

    def set_cluster(self, label: str, colour: str) -> None:
        """Show another cluster (after a profile switch) in its profile's colour."""
        widget = self.query_one("#cluster-label", Static)
        widget.update(label)
        widget.styles.background = colour
        widget.styles.color = "black"
        self.query_one("#cluster-status", Static).update("connecting…")

    def watch_status(self, status: ConnectionStatus | None) -> None:
        if status is None:
            return
        widget = self.query_one("#cluster-status", Static)
        widget.update(("● " if status.connected else "○ ") + status.message)
        widget.set_class(not status.connected, "-down")

    def watch_busy(self, busy: str) -> None:
        widget = self.query_one("#cluster-busy", Static)
        widget.set_class(bool(busy), "-busy")
        if busy and self._spinner is None:
            self._spinner = self.set_interval(SPIN_SECONDS, self._spin)
        elif not busy and self._spinner is not None:
            self._spinner.stop()
            self._spinner = None
        self._spin()

    def _spin(self) -> None:
        self._frame = (self._frame + 1) % len(SPINNER)
        text = f"{SPINNER[self._frame]} {self.busy}…" if self.busy else ""
        self.query_one("#cluster-busy", Static).update(text)
