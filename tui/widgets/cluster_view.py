"""The Brokers pane's view of a replicated cluster: each partition's leader, replicas and ISR
(under-replicated and leaderless ones marked), and a timeline of what happened.

The timeline is told from successive snapshots (cluster_events: brokers leaving and joining,
the controller, leaders and ISRs moving) and from what the user did with the brokers the
workbench runs (`record`). Its times are those of the snapshots, relative to the first one
the view saw: what a presenter talks about ("+12.3s"), and fixed for fixed snapshots.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from ..kafka.cluster import ClusterSnapshot
from ..kafka.cluster_events import cluster_changes, timeline_kind, told
from ..kafka.demo_events import TimelineEntry
from .broker_rows import COLOURS, partition_rows
from .demo_style import DemoStyles
from .demo_timeline import DemoTimeline
from .table_sync import sync_table

ENTRIES_KEPT = 500


class ClusterView(Vertical):
    """Partitions above, the timeline below."""

    DEFAULT_CSS = """
    ClusterView { height: 1fr; }
    ClusterView #partitions { height: 1fr; }
    ClusterView #cluster-timeline { height: 1fr; min-height: 4; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._previous: ClusterSnapshot | None = None
        self._started_ms: int | None = None
        self.entries: list[TimelineEntry] = []
        """What the timeline tells, oldest first (tests read it)."""

    def compose(self) -> ComposeResult:
        yield DataTable(id="partitions", cursor_type="row", zebra_stripes=True)
        yield DemoTimeline(
            id="cluster-timeline",
            placeholder="brokers leaving and joining, the controller, leaders and ISRs moving,"
            " and what you do with the brokers appear here",
        )

    def on_mount(self) -> None:
        self.query_one("#partitions", DataTable).add_columns(
            "partition", "leader", "replicas", "isr", ""
        )

    def show(self, snapshot: ClusterSnapshot) -> None:
        """The partitions as of `snapshot` (the timeline follows every snapshot: `follow`)."""
        styles = DemoStyles.of(self.app)
        sync_table(
            self.query_one("#partitions", DataTable),
            [
                (key, (*cells[:4], Text(cells[4], styles.text(COLOURS.get(cells[4], "")))))
                for key, cells in partition_rows(snapshot)
            ],
        )

    def follow(self, snapshot: ClusterSnapshot) -> None:
        """Tell what changed since the snapshot before, shown or not."""
        if self._started_ms is None:
            self._started_ms = _ms(snapshot.taken_at)
        if self._previous is not None:
            at = _ms(snapshot.taken_at)
            for change, line in told(cluster_changes(self._previous, snapshot)):
                self._add(TimelineEntry(at, timeline_kind(change), line))
        self._previous = snapshot
        self._draw()

    def record(self, text: str) -> None:
        """What the user did (stopped, killed or started a broker), told now."""
        if self._started_ms is None:
            self._started_ms = _ms(time.monotonic())
        self._add(TimelineEntry(_ms(time.monotonic()), "action", text))
        self._draw()

    def _add(self, entry: TimelineEntry) -> None:
        self.entries.append(entry)
        del self.entries[:-ENTRIES_KEPT]

    def _draw(self) -> None:
        self.query_one(DemoTimeline).show_entries(tuple(self.entries), self._started_ms or 0)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
