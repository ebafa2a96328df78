"""One pane alone in a small app, fed fixed data, for SVG snapshots that never vary.

Snapshot tests of every pane share this host: no broker (so no ports, topic ids, cluster ids,
rates or timestamps that change between runs), the workbench's default theme, and cursors that
don't blink. The Pilot tests cover the same panes against a real broker; snapshots catch what
they look like. After an intended change: `pytest tests/tui -k snapshot --snapshot-update`,
then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractContextManager, nullcontext

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.reactive import reactive
from textual.widgets import DataTable, Input, TextArea

from tui.kafka.admin import KafkaAdmin
from tui.kafka.cluster import ClusterSnapshot, PartitionStats, TopicStats
from tui.kafka.generator import GeneratorFleet
from tui.kafka.models import BrokerNode, ClusterInfo
from tui.profiles import Preferences
from tui.themes import DEFAULT_THEME, available_themes, load_theme
from tui.widgets.footer import WorkbenchFooter
from tui.widgets.pane import Pane
from tui.widgets.table_sync import cell_width
from tui.workbench import Workbench

SMALL, LARGE = (80, 24), (160, 48)
SIZES = [SMALL, LARGE]
SIZE_IDS = ["80x24", "160x48"]
MiB = 1024 * 1024


def _partitions(count: int, records: int, size: int, start: int = 0) -> tuple[PartitionStats, ...]:
    """`count` partitions sharing `records` and `size` unevenly, like keyed traffic does."""
    weights = [count + i for i in range(count)]
    total = sum(weights)
    return tuple(
        PartitionStats(
            i,
            1,
            (1,),
            (1,),
            start if i == 0 else 0,
            (start if i == 0 else 0) + records * w // total,
            size * w // total,
            (start if i == 0 else 0) + records * w // total,
        )
        for i, w in enumerate(weights)
    )


API_VERSIONS: dict[int, tuple[int, int]] = {
    0: (0, 12), 1: (4, 17), 2: (1, 10), 3: (0, 13), 8: (2, 9), 9: (1, 9), 10: (0, 6),
    11: (0, 9), 12: (0, 4), 13: (0, 5), 14: (0, 5), 15: (0, 6), 16: (0, 5), 18: (0, 4),
    19: (2, 7), 20: (1, 6), 21: (0, 2), 22: (0, 5), 23: (2, 4), 32: (1, 4), 33: (0, 2),
    35: (1, 4), 37: (0, 3), 42: (0, 2), 44: (0, 1), 47: (0, 0), 60: (0, 2),
}  # fmt: skip
"""API key -> (min, max) version advertised: what a localbroker said once, frozen here so a
new handler in localbroker does not change every snapshot."""


def fixed_snapshot() -> ClusterSnapshot:
    """A small cluster with the kinds of topics people have: internal, empty, big, busy."""
    topics = (
        TopicStats(
            "__consumer_offsets", "AAAAAAAAAAAAAAAAAAAAAA", True, 1, _partitions(50, 120, 9_000)
        ),
        TopicStats("audit-log", "BBBBBBBBBBBBBBBBBBBBBB", False, 1, _partitions(1, 0, 0)),
        TopicStats(
            "clickstream-raw",
            "CCCCCCCCCCCCCCCCCCCCCC",
            False,
            1,
            _partitions(12, 18_734_112, 3_400 * MiB),
            20_123.4,
        ),
        TopicStats(
            "com.example.inventory.stock-levels.v2",
            "DDDDDDDDDDDDDDDDDDDDDD",
            False,
            1,
            _partitions(3, 48_210, 12 * MiB),
            3.5,
        ),
        TopicStats(
            "orders",
            "EEEEEEEEEEEEEEEEEEEEEE",
            False,
            1,
            _partitions(6, 1_250_000, 700 * MiB, start=2_000),
            1_234.5,
        ),
        TopicStats(
            "payments", "FFFFFFFFFFFFFFFFFFFFFF", False, 1, _partitions(3, 8_400, 2 * MiB), 12.5
        ),
        TopicStats("shipments.v1", "GGGGGGGGGGGGGGGGGGGGGG", False, 1, _partitions(2, 36, 4_608)),
    )
    cluster = ClusterInfo("snapshot-cluster", 1, (BrokerNode(1, "localhost", 9092),))
    return ClusterSnapshot(0.0, cluster, topics, dict(API_VERSIONS))


class PaneHost(App[None]):
    """`pane` alone with a footer, shown `snapshot`, focused where its tab would focus it.

    `prepare` runs after the snapshot is shown, to put fixed data into panes that have more
    than the snapshot (records in the tail, fields in the produce form).

    A real tui.host.Host, as WorkbenchApp is, but of no cluster: no admin client, no
    workbench, no generators, and a generation that never changes.
    """

    CSS = ".-hosted-pane { height: 1fr; } Footer { height: 1; }"
    """Only the pane is stretched: a rule for every screen's children would also stretch the
    containers of the pane's dialogs (app CSS beats their DEFAULT_CSS `height: auto`)."""

    snapshot: reactive[ClusterSnapshot | None] = reactive(None)
    """Like WorkbenchApp.snapshot: the pane, and screens that follow the cluster, watch it."""
    generation: reactive[int] = reactive(0, init=False)
    """Never bumped (and, as WorkbenchApp's, not set at start): a pane watching it would start
    over, losing the fixed data `prepare` gave it."""

    def __init__(
        self,
        pane: Pane,
        focus: str | None = None,
        snapshot: ClusterSnapshot | None = None,
        prepare: Callable[[Pane], None] | None = None,
    ) -> None:
        self._theme = load_theme(available_themes()[DEFAULT_THEME])
        super().__init__()  # reads the theme variables below
        self.admin: KafkaAdmin | None = None
        self.workbench: Workbench | None = None
        self.generators: GeneratorFleet | None = None
        self.preferences = Preferences()
        self._pane = pane
        self._focus = focus
        self._initial = snapshot if snapshot is not None else fixed_snapshot()
        self._prepare = prepare

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **self._theme.variables}

    def busy(self, what: str) -> AbstractContextManager[None]:
        """Nothing shown: the pane is drawn alone, without the top line."""
        return nullcontext()

    def remember(self, **changes: str) -> None:
        """Nothing is kept: a snapshot must not depend on, or change, a config file."""

    def compose(self) -> ComposeResult:
        self._pane.add_class("-hosted-pane")
        yield self._pane
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.register_theme(self._theme)
        self.theme = self._theme.name
        self.snapshot = self._initial  # the pane shows it now: it watches `snapshot`
        if self._prepare is not None:
            self._prepare(self._pane)
        if self._focus is not None:
            self.query_one(self._focus).focus()


def columns_fit_cells(table: DataTable[object]) -> bool:
    """Every column of `table` exactly as wide as its label or widest cell needs.

    DataTable measures columns on idle, after cells change: until then it paints the new
    cells in the old widths, and pilot pauses do not wait for that idle.
    """
    console = table.app.console
    for key, column in table.columns.items():
        if not column.auto_width:
            continue
        cells = table.get_column(key) if table.row_count else []
        needed = max([cell_width(console, column.label), *(cell_width(console, c) for c in cells)])
        if column.content_width != needed:
            return False
    return True


def tables_measured(app: App[None]) -> bool:
    """Every table of every screen as wide as its cells: DataTable paints changed cells at
    once but measures them on its next idle, which pilot pauses do not wait for."""
    return all(
        columns_fit_cells(table) for screen in app.screen_stack for table in screen.query(DataTable)
    )


def rows_fit_width(table: DataTable[object]) -> bool:
    """Every column of `table` in view: no scrolling sideways."""
    total = sum(column.get_render_width(table) for column in table.ordered_columns)
    return total <= table.scrollable_content_region.width


async def stop_blinking(pilot: Pilot[None]) -> None:
    """Stop every cursor on the screen blinking and draw each one again, so that a picture
    never depends on timing: each cursor is then shown exactly when its field has the focus.

    Two ways a focused field was photographed without its cursor (CI, 2026-12-07, twice):
    - a blink tick already under way when the blinking stops can still hide the cursor after
      it (Textual's blink timer calls the toggle from its own task), and nothing shows it
      again; so, once the timers are paused, each field's private `_cursor_visible` is set;
    - a TextArea keeps the lines it drew in a cache whose key holds the cursor only while it
      blinks and is visible, so a line drawn in a blink's hidden half has the same key as
      that line drawn with blinking stopped: it was drawn again from the cache, without its
      cursor. Reproduced with one second between ctrl+s and this call, as a loaded machine
      gives; `notify_style_update()` (TextArea's own way to drop that cache) fixes it.
    """
    widgets = list(pilot.app.screen.query("Input, TextArea"))
    for widget in widgets:
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    await pilot.pause()
    for widget in widgets:
        assert isinstance(widget, Input | TextArea)
        widget._cursor_visible = widget.has_focus
        if isinstance(widget, TextArea):
            widget.notify_style_update()
        widget.refresh()
    await pilot.pause()


def steady(
    *keys: str, until: Callable[[App[None]], bool] | None = None
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press `keys`, wait (bounded) `until` the app shows what the picture is of, then stop
    every cursor blinking so the picture never depends on timing. Pauses only let time pass:
    a pane that lays itself out after a refresh can still be mid-way after them."""

    async def run(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        app = pilot.app

        def settled() -> bool:
            return tables_measured(app) and (until is None or until(app))

        await wait_settled(pilot, settled)
        await stop_blinking(pilot)  # last: a field given the focus meanwhile has it by now

    return run


async def wait_settled(
    pilot: Pilot[None], condition: Callable[[], bool], polls: int = 3, timeout: float = 10.0
) -> None:
    """Until `condition()` has held for `polls` checks in a row, 0.1 s apart (bounded).

    Once is not enough on a loaded machine: a table can fit its width and then lose two
    columns to a scrollbar that appears a frame later, and the picture is taken after that.
    """
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while in_a_row < polls:
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen did not settle within {timeout:.0f} s")
        await pilot.pause(0.1)
        in_a_row = in_a_row + 1 if condition() else 0


def snap_pane(
    snap_compare: Callable[..., bool],
    host: Callable[[], PaneHost],
    size: tuple[int, int],
    keys: Iterable[str] = (),
    until: Callable[[App[None]], bool] | None = None,
) -> bool:
    """Compare `host()` after `keys` (and once `until` holds) at `size` with the stored SVG."""
    return snap_compare(host(), terminal_size=size, run_before=steady(*keys, until=until))
