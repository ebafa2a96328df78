"""The failover demo's pane: a replicated partition's leader killed while a producer (acks=all)
and a consumer run, and the proof that nothing acknowledged was lost.

Top to bottom: the story's caption; what the demo is set up with (the topic's replication
factor and min.insync.replicas, the producer's acks, broker.session.timeout.ms: how long a
killed broker goes unnoticed); each broker's process, whether Metadata lists it and what its
replica of the partition is (leader, follower in the ISR, out of sync); the partition's leader
and ISR; the ledger (records sent, acknowledged, consumed, the producer's retries and, once
the producer has stopped, lost: acknowledged ids the consumer never read); the timeline of
what clients could see happen. The engine is tui/kafka/failover_demo.FailoverDemo, started by
`kwb demo failover` (tui/failover.py), which also tells the story.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from ..kafka.cluster import ClusterSnapshot
from ..kafka.failover_demo import FailoverDemo, FailoverView, NodeRow
from ..kafka.failover_ledger import by_error
from .demo_caption import DemoCaption
from .demo_style import DemoStyles
from .demo_timeline import DemoTimeline
from .pane import Pane
from .table_sync import sync_table

REFRESH_S = 0.25
WIDE = 120
"""Columns from which the ledger stands beside the brokers' table rather than under it."""
_STATES = {
    "running": "success",
    "starting": "accent",
    "killed": "error",
    "exited": "error",
    "stopped": "warning",
}
_ROLES = {"leader": ("★ leader", "primary"), "follower": ("follower, in sync", "success")}


class FailoverPane(Pane):
    """What `kwb demo failover` shows; no keys of its own (the story advances on space)."""

    DEFAULT_CSS = """
    FailoverPane { height: 1fr; }
    FailoverPane #failover-facts {
        height: auto; padding: 0 1; background: $panel;
    }
    FailoverPane #failover-top { height: auto; layout: vertical; }
    FailoverPane #failover-nodes { width: auto; height: auto; }
    FailoverPane #failover-ledger { width: 1fr; height: auto; padding: 0 1; }
    FailoverPane.-wide #failover-top { layout: horizontal; }
    FailoverPane.-wide #failover-nodes { margin-right: 2; }
    """

    caption: reactive[str] = reactive("")
    """The story's narration; hidden when empty."""

    def __init__(self) -> None:
        super().__init__(id="failover-pane")
        self.engine: FailoverDemo | None = None

    def compose(self) -> ComposeResult:
        yield DemoCaption(id="failover-caption")
        yield Static("", id="failover-facts")
        with Horizontal(id="failover-top"):
            yield DataTable(id="failover-nodes", cursor_type="none", zebra_stripes=True)
            yield Static("", id="failover-ledger")
        yield DemoTimeline(id="failover-timeline", placeholder="cluster events appear here")

    def on_mount(self) -> None:
        table = self.query_one("#failover-nodes", DataTable)
        table.add_column("broker", key="broker")
        table.add_column("process", key="process")
        table.add_column("in Metadata", key="registered")
        table.add_column("its replica", key="role")
        self.set_interval(REFRESH_S, self._refresh_view)

    async def on_unmount(self) -> None:
        if self.engine is not None:
            engine, self.engine = self.engine, None
            await engine.close()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")

    def watch_caption(self, caption: str) -> None:
        self.query_one(DemoCaption).say(caption)

    def show(self, snapshot: ClusterSnapshot) -> None:
        if self.engine is not None:
            self.engine.observe(snapshot)
            self._refresh_view()

    def changed_cluster(self) -> None:
        """The demo killed or started a node: a snapshot now rather than at the next poll."""
        self.post_message(Pane.ClusterChanged())

    def _refresh_view(self) -> None:
        if self.engine is not None:
            self.engine.note_retries()
            self.show_view(self.engine.view())

    # -- drawing ------------------------------------------------------------------------------

    def show_view(self, view: FailoverView) -> None:
        """Draw `view` (the engine's, or fixed data in a snapshot test)."""
        styles = DemoStyles.of(self.app)
        self.query_one("#failover-facts", Static).update(self._facts(view, styles))
        sync_table(
            self.query_one("#failover-nodes", DataTable),
            [(str(row.node_id), self._node_cells(row, styles)) for row in view.nodes],
        )
        self.query_one("#failover-ledger", Static).update(self._ledger(view, styles))
        self.query_one(DemoTimeline).show_entries(view.timeline, view.started_ms)

    def _facts(self, view: FailoverView, styles: DemoStyles) -> Text:
        s = view.settings
        out = Text()
        out.append(f"topic {s.topic}", styles.text("foreground", bold=True))
        out.append(f" · replication factor {s.replication_factor}", styles.text("foreground"))
        out.append(f" · min.insync.replicas {s.min_insync_replicas}", styles.text("foreground"))
        out.append(" · producer acks=all, idempotent", styles.text("foreground"))
        out.append(f" · consumer group {s.group_id}", styles.text("kwb-muted"))
        out.append(
            f" · broker.session.timeout.ms {s.broker_session_timeout_ms}"
            f" (broker.heartbeat.interval.ms {s.broker_heartbeat_interval_ms})",
            styles.text("warning"),
        )
        return out

    def _node_cells(self, row: NodeRow, styles: DemoStyles) -> list[Text]:
        role, colour = _ROLES.get(row.role, (row.role, "kwb-muted"))
        if row.role == "out of sync":
            colour = "error"
        state_colour = _STATES.get(row.state, "foreground")
        return [
            Text(f"node {row.node_id}", styles.text("foreground", bold=True)),
            Text(row.state, styles.text(state_colour, bold=state_colour == "error")),
            Text("yes" if row.registered else "no", styles.text("kwb-muted")),
            Text(role, styles.text(colour, bold=row.role == "leader")),
        ]

    def _ledger(self, view: FailoverView, styles: DemoStyles) -> Text:
        tally = view.tally
        out = Text()
        label = styles.text("kwb-muted")
        number = styles.text("foreground", bold=True)
        out.append(f"partition {view.settings.topic}-0 · ", label)
        if view.leader is None:
            out.append("not created yet\n", label)
        else:
            leader = "none" if view.leader < 0 else f"node {view.leader}"
            out.append(f"leader {leader}", styles.text("primary", bold=True))
            out.append(f" · ISR [{','.join(map(str, view.isr))}]", number)
            out.append(f" · log end {view.log_end}\n", label)
        out.append("producer  ", label)
        out.append(f"sent {tally.sent} · acknowledged {tally.acknowledged}", number)
        out.append(f" · waiting {tally.in_flight}", label)
        retries = by_error(view.retried)
        out.append(f" · retries {tally.retries}", styles.text("warning", bold=bool(retries)))
        out.append(f" ({retries})" if retries else "", styles.text("warning"))
        if tally.failed:
            out.append(f" · failed {tally.failed}", styles.text("error", bold=True))
        out.append("\nconsumer  ", label)
        out.append(f"consumed {tally.consumed}", number)
        out.append(f" · acknowledged, not yet consumed {tally.unconsumed}", label)
        if tally.redelivered:
            out.append(f" · read again {tally.redelivered}", styles.text("warning"))
        out.append("\nlost      ", label)
        if tally.lost is None:
            out.append("counted when the producer stops", label)
        else:
            style = styles.text("error" if tally.lost else "success", bold=True)
            out.append(f"{tally.lost}", style)
            out.append(
                f"  ({tally.acknowledged} acknowledged, {tally.consumed} consumed, by record id)",
                label,
            )
        if tally.duplicates:
            out.append(f" · duplicates {tally.duplicates}", styles.text("error", bold=True))
        return out
