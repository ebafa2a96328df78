"""Rebalance demo pane: consumers of one group sharing a topic's partitions, live.

`s` starts the demo (a topic with 6 partitions, a producer writing a steady trickle into it,
3 consumers in a group); then add consumers, stop one gracefully, kill one without a
goodbye, pause one, and watch: who owns which partition, each partition's committed offset,
position and lag, and the group's events as they happen. The engine is
tui/kafka/demo_group.DemoGroup; on the embedded broker the timeline comes from the broker's
group coordinator, elsewhere from what the consumers report. The demo keeps running while
other panes are shown, and leaves the group cleanly when the app closes.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Static

from localbroker.public import GroupState

from ..kafka.demo_group import DemoGroup, DemoSettings, EventTap
from ..kafka.demo_status import MemberStatus
from ..kafka.demo_view import ConsumerRow, DemoView, idle_view
from ..kafka.errors import KafkaToolError
from .demo_caption import DemoCaption
from .demo_partitions import PartitionMap
from .demo_style import DemoStyles
from .demo_timeline import DemoTimeline
from .pane import Pane
from .table_sync import cursor_key, sync_table

REFRESH_S = 0.25
DELAY_STEP_MS = 50
_WIDE = (120, 30)
GLOSSARY = Text.assemble(
    ("offset       ", "bold"),
    "a record's number in its partition\n",
    ("position     ", "bold"),
    "the next offset a consumer will read\n",
    ("committed    ", "bold"),
    "where the group resumes after a takeover\n",
    ("lag          ", "bold"),
    "log end offset - committed offset\n",
    ("generation   ", "bold"),
    "goes up by one at every rebalance\n",
    ("★ leader     ", "bold"),
    "the consumer that computes the assignment\n",
    ("expired      ", "bold"),
    "silent for session.timeout.ms: removed",
)
"""For an audience that has never used Kafka (shown where there is room)."""
_STATUS = {
    MemberStatus.RUNNING: ("running", "success"),
    MemberStatus.PAUSED: ("‖ paused", "warning"),
    MemberStatus.JOINING: ("joining…", "accent"),
    MemberStatus.REBALANCING: ("rebalancing…", "accent"),
    MemberStatus.STARTING: ("starting…", "kwb-muted"),
    MemberStatus.STOPPING: ("leaving…", "warning"),
    MemberStatus.LEFT: ("left", "kwb-muted"),
    MemberStatus.KILLED: ("✖ killed", "error"),
    MemberStatus.EXPIRED: ("✖ expired", "error"),
    MemberStatus.FAILED: ("failed", "error"),
    MemberStatus.EXTERNAL: ("other client", "kwb-muted"),
}
"""How the consumer table writes each status, and in which theme colour."""


class DemoPane(Pane):
    """The demo's consumers, partitions and timeline; keys act on the consumer under the
    cursor."""

    BINDINGS = [
        ("s", "toggle_demo", "Start/stop"),
        ("a", "add", "Add"),
        ("g", "stop_consumer", "Leave"),
        ("k", "kill", "Kill"),
        ("p", "pause", "Pause"),
        ("plus", "faster", "Faster"),
        ("minus", "slower", "Slower"),
        ("f", "feeder", "Producer"),
    ]

    DEFAULT_CSS = """
    DemoPane { height: 1fr; }
    DemoPane.-wide #demo-caption { padding: 1 2; }
    DemoPane #demo-facts {
        height: 1; padding: 0 1; background: $panel; text-wrap: nowrap; text-overflow: ellipsis;
    }
    DemoPane #demo-idle { height: auto; padding: 1 2; color: $kwb-muted; }
    DemoPane #demo-idle.-hidden { display: none; }
    DemoPane.-idle #demo-partitions, DemoPane.-idle #demo-timeline { display: none; }
    DemoPane #demo-top { height: auto; layout: vertical; }
    DemoPane #demo-partitions { width: 1fr; }
    DemoPane #demo-side { height: auto; }
    DemoPane #demo-consumers { height: auto; max-height: 7; }
    DemoPane #demo-glossary { display: none; }
    DemoPane.-wide #demo-top { layout: horizontal; }
    DemoPane.-wide #demo-side { width: 64; margin: 1 1 0 0; }
    DemoPane.-wide #demo-consumers { max-height: 12; }
    DemoPane.-wide #demo-glossary {
        display: block; height: auto; margin-top: 1; padding: 0 1;
        border: round $panel; border-title-color: $kwb-muted;
    }
    """

    caption: reactive[str] = reactive("")
    """A line for the audience (the scripted demo's narration); hidden when empty."""

    def __init__(self, settings: DemoSettings | None = None) -> None:
        super().__init__(id="demo-pane")
        self.settings = settings or DemoSettings()
        self.engine: DemoGroup | None = None
        self._last_view: DemoView | None = None

    def compose(self) -> ComposeResult:
        yield DemoCaption(id="demo-caption")
        yield Static("", id="demo-facts")
        yield Static(self._idle_text(), id="demo-idle")
        with Horizontal(id="demo-top"):
            yield PartitionMap(id="demo-partitions")
            with Vertical(id="demo-side"):
                yield DataTable(id="demo-consumers", cursor_type="row", zebra_stripes=True)
                glossary = Static(GLOSSARY, id="demo-glossary")
                glossary.border_title = "what the words mean"
                yield glossary
        yield DemoTimeline(id="demo-timeline")

    def on_mount(self) -> None:
        table = self.query_one("#demo-consumers", DataTable)
        table.add_column("consumer", key="consumer")
        table.add_column("state", key="state")
        table.add_column("partitions", key="partitions")
        table.add_column("processed", key="processed")
        table.add_column("delay", key="delay")
        self.set_interval(REFRESH_S, self._refresh_view)
        self.watch(self.app, "generation", self._cluster_changed, init=False)
        self.show_view(self._idle_view())

    async def on_unmount(self) -> None:
        if self.engine is not None:
            engine, self.engine = self.engine, None
            await engine.close()

    def on_resize(self) -> None:
        wide = self.size.width >= _WIDE[0] and self.size.height >= _WIDE[1]
        self.set_class(wide, "-wide")
        self.query_one(PartitionMap).wide = wide
        if self._last_view is not None:
            self.show_view(self._last_view)

    def watch_caption(self, caption: str) -> None:
        self.query_one(DemoCaption).say(caption)

    # -- what the pane shows ----------------------------------------------------------------

    def _idle_text(self) -> str:
        s = self.settings
        return (
            f"Press s to start the rebalance demo: it creates topic {s.topic} with"
            f" {s.partitions} partitions, a producer writing {s.feed_rate:g} records/s into it,"
            f" and {s.consumers} consumers in group {s.group_id}"
            f" (session.timeout.ms {s.session_timeout_ms}, so a killed consumer is noticed"
            f" within {s.session_timeout_ms / 1000:g} s).\n"
            "Then: a adds a consumer, g stops the one under the cursor gracefully, k kills it"
            " without a goodbye, p pauses it, + makes it faster and - slower (its processing"
            " delay),"
            " f stops or restarts the producer."
        )

    def _idle_view(self) -> DemoView:
        s = self.settings
        return idle_view(s.group_id, s.topic, s.session_timeout_ms, self._source())

    def _source(self) -> str:
        return "broker" if self._tap() is not None else "client"

    def _refresh_view(self) -> None:
        if self.engine is None:
            return
        self.show_view(self.engine.view())
        while self.engine.errors:
            self.notify(self.engine.errors.popleft(), title="Demo", severity="error")

    def show_view(self, view: DemoView) -> None:
        """Draw `view` (the engine's, or fixed data in a snapshot test)."""
        self._last_view = view
        idle = not view.running and not view.partitions
        self.query_one("#demo-idle").set_class(not idle, "-hidden")
        self.set_class(idle, "-idle")
        self.query_one("#demo-facts", Static).update(self._facts(view))
        self.query_one(PartitionMap).show_view(view)
        self.query_one(DemoTimeline).show_entries(view.timeline, view.started_ms)
        styles = DemoStyles.of(self.app)
        sync_table(
            self.query_one("#demo-consumers", DataTable),
            [(row.name, self._consumer_cells(row, styles)) for row in view.consumers],
        )

    def _facts(self, view: DemoView) -> Text:
        styles = DemoStyles.of(self.app)
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(f"group {view.group_id}", styles.text("foreground", bold=True))
        out.append(" · ")
        state_colour = "success" if view.state == GroupState.STABLE.value else "accent"
        out.append(view.state, styles.text(state_colour, bold=True))
        out.append(f" · generation {view.generation}", styles.text("foreground", bold=True))
        out.append(f" · lag {view.total_lag}", styles.text("warning", bold=True))
        out.append(f" · topic {view.topic}", styles.text("foreground"))
        out.append(f" · session.timeout.ms {view.session_timeout_ms}", styles.text("kwb-muted"))
        producer = "producer off" if view.feed_rate is None else f"producer {view.feed_rate:g}/s"
        out.append(f" · {producer}", styles.text("kwb-muted"))
        if view.reprocessed:
            out.append(f" · processed twice {view.reprocessed}", styles.text("warning"))
        source = "broker events" if view.source == "broker" else "client-side events"
        out.append(f" · {source}", styles.text("kwb-muted"))
        return out

    def _consumer_cells(self, row: ConsumerRow, styles: DemoStyles) -> list[Text]:
        label, colour = _STATUS.get(row.status, (row.status, "foreground"))
        if row.expires_in_s is not None:
            label = f"✖ killed (~{row.expires_in_s:.0f}s)"
        name = Text("■ ", styles.consumer(row.colour))
        name.append(row.name + (" ★" if row.leader else ""), styles.consumer(row.colour))
        partitions = " ".join(f"P{p}" for p in row.partitions) or "-"
        delay = "-" if row.delay_ms is None else f"{row.delay_ms} ms"
        killed = row.status in (MemberStatus.KILLED, MemberStatus.EXPIRED)
        return [
            name,
            Text(label, styles.text(colour, bold=killed)),
            Text(partitions),
            Text(str(row.processed), justify="right"),
            Text(delay, justify="right"),
        ]

    # -- the engine ---------------------------------------------------------------------------

    def _tap(self) -> EventTap | None:
        workbench = self.host.workbench
        if workbench is None or workbench.embedded is None or not workbench.profile.embedded:
            return None
        return workbench.embedded.subscribe_groups

    async def begin(self) -> DemoGroup | None:
        """Start the demo with `self.settings`; the engine, or None if it could not start."""
        workbench = self.host.workbench
        if workbench is None or self.engine is not None:
            return self.engine
        engine = DemoGroup(workbench.connection, self.settings, self._tap())
        self.engine = engine
        try:
            await engine.start()
        except KafkaToolError as exc:
            self.engine = None
            self.notify(f"cannot start the demo: {exc}", title="Demo", severity="error")
            return None
        self.query_one("#demo-consumers", DataTable).focus()
        self._refresh_view()
        return engine

    @work(exclusive=True, group="demo-lifecycle")
    async def start_demo(self) -> None:
        await self.begin()

    @work(exclusive=True, group="demo-lifecycle")
    async def stop_demo(self) -> None:
        if self.engine is None:
            return
        engine, self.engine = self.engine, None
        self.show_view(engine.view())
        await engine.close()
        self.show_view(engine.view())

    def _cluster_changed(self, _generation: int) -> None:
        self.stop_demo()

    def action_toggle_demo(self) -> None:
        if self.engine is None:
            self.start_demo()
        else:
            self.stop_demo()

    def _selected(self) -> str | None:
        if self.engine is None:
            self.notify("press s to start the demo first", title="Demo")
            return None
        name = cursor_key(self.query_one("#demo-consumers", DataTable))
        if name is None:
            self.notify("no consumer selected", title="Demo")
        return name

    def action_add(self) -> None:
        if self.engine is None:
            self.notify("press s to start the demo first", title="Demo")
            return
        self.engine.add()
        self._refresh_view()

    def action_stop_consumer(self) -> None:
        name = self._selected()
        if name is not None and self.engine is not None:
            self.run_worker(self.engine.stop(name), group="demo-ops")

    def action_kill(self) -> None:
        name = self._selected()
        if name is not None and self.engine is not None:
            self.run_worker(self.engine.kill(name), group="demo-ops")

    def action_pause(self) -> None:
        name = self._selected()
        if name is not None and self.engine is not None:
            if self.engine.pause(name) is None:
                self.notify(f"{name} is not running", title="Demo")
            self._refresh_view()

    def _change_delay(self, step: int) -> None:
        name = self._selected()
        if name is None or self.engine is None:
            return
        member = self.engine.roster.get(name)
        if member is not None:
            self.engine.set_delay(name, member.processing_delay_ms + step)
            self._refresh_view()

    def action_faster(self) -> None:
        self._change_delay(-DELAY_STEP_MS)

    def action_slower(self) -> None:
        self._change_delay(DELAY_STEP_MS)

    def action_feeder(self) -> None:
        if self.engine is None:
            self.notify("press s to start the demo first", title="Demo")
            return
        self.run_worker(self.engine.toggle_feeder(), group="demo-ops")
