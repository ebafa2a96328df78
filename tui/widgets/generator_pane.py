"""Generator pane: traffic generators, the workbench's kafka-producer-perf-test.

Start one or several generators from the form (topic, rate or no limit, record size, keys,
value template, headers, compression, acks); watch each one's records/s, MB/s and latency
(p50, p99) second by second, and its totals as ProducerPerformance's summary line prints them.
The generators belong to the app's GeneratorFleet (tui/kafka/generator.py), not to this
widget: they keep sending while another pane is shown, and stop when the app quits or
connects to another cluster. This pane only reads the fleet once a second and draws it.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import DataTable, Label, Static

from ..kafka.cluster import ClusterSnapshot
from ..kafka.connection import SettingsError
from ..kafka.errors import KafkaToolError
from ..kafka.generator import GeneratorFleet, GeneratorSpec, GeneratorView, SpecError
from ..kafka.schema_registry.client import RegistryError
from .generator_chart import GeneratorChart, reading
from .generator_form import GeneratorForm
from .generator_schema import GeneratorSchema
from .pane import Pane
from .table_sync import cursor_key, sync_table

REFRESH_SECONDS = 1.0
CHART_POINTS = 120
"""The last two minutes: enough to see a trend, few enough to keep each second visible."""
WIDE = 120
TALL = 40
HINT = (
    "No generators yet.\n\n"
    "A generator sends records to a topic at the rate you ask for, like\n"
    "kafka-producer-perf-test, and charts its records/s, MB/s and latency here.\n"
    "Fill in the form below (n), then Start (ctrl+s)."
)
STATE_COLOURS = {
    "running": "success",
    "stopping": "warning",
    "stopped": "kwb-muted",
    "failed": "error",
}
"""The theme variable each state is written in."""


class GeneratorPane(Pane):
    """The generators in a table; charts and the summary of the one under the cursor; the
    form of a new one below."""

    BINDINGS = [
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("n", "new", "New"),
        Binding("x", "stop", "Stop/remove"),
        Binding("X", "stop_all", "Stop all"),
        Binding("plus", "rate(2)", "Double rate"),
        Binding("minus", "rate(0.5)", "Halve rate"),
    ]

    DEFAULT_CSS = """
    GeneratorPane { height: 1fr; }
    GeneratorPane #gen-table { height: auto; max-height: 5; }
    GeneratorPane.-tall #gen-table { max-height: 9; }
    GeneratorPane #gen-charts { height: 1fr; min-height: 5; }
    GeneratorPane.-narrow #gen-mb-chart { display: none; }
    GeneratorPane #gen-hint {
        height: 1fr; content-align: center middle; text-align: center; color: $kwb-muted;
    }
    GeneratorPane #gen-summary { height: auto; padding: 0 1; }
    GeneratorPane #gen-totals { height: 2; padding: 0 1; color: $kwb-rate; }
    GeneratorPane #gen-error { height: auto; max-height: 2; padding: 0 1; color: $error; }
    GeneratorPane .section { height: 1; padding: 0 1; color: $kwb-muted; text-style: bold; }
    GeneratorPane.-tall .section { margin-top: 1; }
    """

    def __init__(self) -> None:
        super().__init__(id="generator-pane")
        self._views: list[GeneratorView] = []
        self._reported: set[int] = set()
        self._topics: tuple[str, ...] = ()
        self._shown: dict[str, str | Text] = {}

    @property
    def fleet(self) -> GeneratorFleet | None:
        """The host's generators (None in a host that has none, like the snapshot tests')."""
        return self.host.generators

    def compose(self) -> ComposeResult:
        yield DataTable(id="gen-table", cursor_type="row", zebra_stripes=True)
        yield Static(HINT, id="gen-hint")
        with Horizontal(id="gen-charts"):
            yield GeneratorChart("records/s", [("records/s", "kwb-rate")], id="gen-rate-chart")
            yield GeneratorChart("MB/s", [("MB/s", "primary")], id="gen-mb-chart")
            yield GeneratorChart(
                "latency", [("p50", "primary"), ("p99", "accent")], " ms", id="gen-latency-chart"
            )
        yield Static("", id="gen-summary")
        yield Static("", id="gen-totals")
        yield Static("", id="gen-error")
        yield Label("new generator", classes="section")
        yield GeneratorForm(id="gen-form")

    def on_mount(self) -> None:
        table = self.query_one("#gen-table", DataTable)
        for label, key in (
            ("#", "number"),
            ("topic", "topic"),
            ("state", "state"),
            ("records/s", "rate"),
            ("MB/s", "mb"),
            ("p50 ms", "p50"),
            ("p99 ms", "p99"),
            ("sent", "sent"),
        ):
            table.add_column(label, key=key)
        self.show_generators([])
        self.set_interval(REFRESH_SECONDS, self._poll)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < WIDE, "-narrow")
        self.set_class(event.size.height >= TALL, "-tall")

    def focus_default(self) -> bool:
        """The table when there are generators (x stops one), else Start: never a text
        field, so that the pane keys (1-9) keep working."""
        table = self.query_one("#gen-table", DataTable)
        (table if table.row_count else self.query_one("#gen-start")).focus()
        return True

    def show(self, snapshot: ClusterSnapshot) -> None:
        topics = tuple(topic.name for topic in snapshot.topics)
        if topics != self._topics:
            self._topics = topics
            self.query_one(GeneratorForm).set_topics(topics)
        workbench = self.host.workbench
        for schema_row in self.query(GeneratorSchema):  # none while the app is closing
            schema_row.connect(None if workbench is None else workbench.registry)

    # -- drawing ----------------------------------------------------------------------------

    def _poll(self) -> None:
        """Draw the fleet while the pane is shown; while it is not, only report failures
        (a hidden pane's redraws would cost the generators' loop for nothing)."""
        fleet = self.fleet
        if fleet is None:
            return
        views = [generator.view() for generator in fleet.generators]
        # display turns False as soon as the app starts removing the pane: a stop worker
        # that finishes while the pane's children are already gone must not draw them.
        if self.is_on_screen and self.display:
            self.show_generators(views)
        else:
            self._report_failures(views)

    def on_show(self) -> None:
        self._poll()

    def show_generators(self, views: list[GeneratorView]) -> None:
        """Draw these generators: the table, and the charts of the one under the cursor."""
        self._views = views
        self._report_failures(views)
        table = self.query_one("#gen-table", DataTable)
        sync_table(
            table,
            [(str(view.number), _row(view, self._state_style(view.state))) for view in views],
        )
        empty = not views
        if table.display == empty:
            self.query_one("#gen-hint").display = empty
            self.query_one("#gen-charts").display = not empty
            table.display = not empty
        self._show_selected()

    def _selected(self) -> GeneratorView | None:
        key = cursor_key(self.query_one("#gen-table", DataTable))
        return next((view for view in self._views if str(view.number) == key), None)

    def _show_selected(self) -> None:
        view = self._selected()
        charts = (
            self.query_one("#gen-rate-chart", GeneratorChart),
            self.query_one("#gen-mb-chart", GeneratorChart),
            self.query_one("#gen-latency-chart", GeneratorChart),
        )
        if view is None:
            for chart in charts:
                chart.clear_values()
            self._show_text("#gen-summary", "")
            self._show_text("#gen-totals", "")
            self._show_text("#gen-error", "")
            return
        points = view.points[-CHART_POINTS:]
        rate, mb, latency = charts
        rate.show_values([p.records_per_sec for p in points])
        mb.show_values([p.mb_per_sec for p in points])
        latency.show_values([p.p50_ms for p in points], [p.p99_ms for p in points])
        summary = Text.assemble(
            (f"#{view.number} ", "bold"),
            (view.spec.topic, "bold"),
            "  ",
            (view.state, self._state_style(view.state)),
            f"  {view.spec.describe()}",
        )
        self._show_text("#gen-summary", summary)
        # The charts and the table are per second; this line, like kwb perf's, is the run's.
        self._show_text("#gen-totals", f"since start: {view.summary()}", layout=False)
        self._show_text("#gen-error", view.error or "")

    def _show_text(self, selector: str, content: str | Text, layout: bool = True) -> None:
        """Update a line only when it changed: each layout costs the generators' loop. The
        totals line has a fixed height, so its numbers changing every second need none."""
        line = self.query_one(selector, Static)
        if self._shown.get(selector) == content:
            return
        self._shown[selector] = content
        line.update(content, layout=layout)
        if selector == "#gen-error":
            line.display = bool(content)

    def _state_style(self, state: str) -> str:
        return self.app.theme_variables.get(STATE_COLOURS.get(state, "foreground"), "")

    @on(DataTable.RowHighlighted, "#gen-table")
    def _cursor_moved(self) -> None:
        self._show_selected()

    def _report_failures(self, views: list[GeneratorView]) -> None:
        """Say once, as a notification, that a generator has failed and why."""
        for view in views:
            if view.state == "failed" and view.number not in self._reported:
                self._reported.add(view.number)
                self.notify(
                    f"generator #{view.number} on {view.spec.topic} failed: {view.error}",
                    title="Generator",
                    severity="error",
                )

    # -- actions ----------------------------------------------------------------------------

    @on(GeneratorForm.Submitted)
    def action_start(self) -> None:
        try:
            spec = self.query_one(GeneratorForm).spec()
        except SettingsError as exc:
            self._refused(exc)
            return
        self._start(spec)

    def _refused(self, exc: SettingsError | KafkaToolError) -> None:
        """Say why a generator cannot start, with the cursor in the field to fix."""
        self.notify(str(exc), title="Generator", severity="error")
        if isinstance(exc, SpecError):
            self.query_one(GeneratorForm).focus_field(exc.field)

    @work(group="generator-start")
    async def _start(self, spec: GeneratorSpec) -> None:
        fleet, workbench = self.fleet, self.host.workbench
        if fleet is None or workbench is None:
            return
        try:
            schema = await self.query_one(GeneratorSchema).records()
        except (RegistryError, ValueError) as exc:
            self.notify(str(exc), title="Generator", severity="error")
            return
        try:
            spec = replace(spec, schema=schema)
            generator = await fleet.start(workbench.connection, self.host.admin, spec)
        except (SettingsError, KafkaToolError) as exc:
            self._refused(exc)
            return
        self._poll()
        table = self.query_one("#gen-table", DataTable)
        table.move_cursor(row=table.get_row_index(str(generator.number)))
        table.focus()
        self.notify(f"generator #{generator.number} started on {spec.topic}", title="Generator")

    def action_new(self) -> None:
        self.query_one("#gen-topic").focus()

    def action_rate(self, factor: float) -> None:
        """Double or halve the rate of the generator under the cursor while it runs (an
        unlimited one is halved from what it last reached)."""
        view, fleet = self._selected(), self.fleet
        generator = fleet.get(view.number) if view is not None and fleet is not None else None
        if view is None or generator is None or not view.running:
            self.notify("no running generator under the cursor", title="Generator")
            return
        current = view.spec.rate
        if current is None and factor > 1:
            self.notify(f"generator #{view.number} already sends as fast as it can")
            return
        if current is None:
            current = view.points[-1].records_per_sec if view.points else 0.0
            if current <= 0:
                self.notify(f"generator #{view.number} has no rate yet: try again in a second")
                return
        rate = float(max(round(current * factor), 1))
        generator.set_rate(rate)
        self.notify(f"generator #{view.number}: {rate:,.0f} records/s", title="Generator")
        self._poll()

    def action_stop(self) -> None:
        """Stop the generator under the cursor; one that has ended is removed instead."""
        view, fleet = self._selected(), self.fleet
        if view is None or fleet is None:
            return
        if view.running:
            self._stop(view.number)
        else:
            fleet.forget(view.number)
            self._poll()

    @work(group="generator-stop")
    async def _stop(self, number: int) -> None:
        fleet = self.fleet
        if fleet is None:
            return
        generator = fleet.get(number)
        if generator is not None:
            generator.stop()
            self._poll()
            await generator.stopped()
        self._poll()

    def action_stop_all(self) -> None:
        fleet = self.fleet
        if fleet is not None:
            for generator in fleet.generators:
                if generator.running:
                    self._stop(generator.number)


def _row(view: GeneratorView, state_style: str) -> list[str | Text]:
    latest = view.points[-1] if view.points and view.running else None
    return [
        str(view.number),
        view.spec.topic,
        Text(view.state, state_style),
        reading(latest.records_per_sec) if latest else "-",
        f"{latest.mb_per_sec:.2f}" if latest else "-",
        str(latest.p50_ms) if latest else "-",
        str(latest.p99_ms) if latest else "-",
        f"{view.totals.records_sent:,}",
    ]
