"""The line at the top: which cluster (in its profile's colour), whether it is reachable."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Static

from ..kafka.cluster import ConnectionStatus


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
    """

    status: reactive[ConnectionStatus | None] = reactive(None)

    def __init__(self, label: str, colour: str) -> None:
        super().__init__()
        self._label = label
        self._colour = colour

    def compose(self) -> ComposeResult:
        yield Static(self._label, id="cluster-label")
        yield Static("connecting…", id="cluster-status")

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
