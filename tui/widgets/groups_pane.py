"""Groups pane: every consumer group with its state, assignment protocol, member count, total
lag and a lag trend, filtered as you type and sorted by any column (lag, biggest first, is
what someone on call wants), and a chart of the shown groups' lag over time; detail, offset
resets, group deletion and the offsets view from here.

The pane samples every group once a second in a worker (tui/kafka/lag_history.py) and keeps
the samples in a bounded LagHistory. The sampling goes on while another pane is in view, so
the trend is there when you come back. The detail screen follows the pane's `sample`
reactive instead of sampling again. Admin calls (delete) run in workers; the dialogs run
their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from kio.schema.errors import ErrorCode
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from ..kafka.errors import KafkaToolError, raise_for
from ..kafka.lag_history import GroupLag, GroupsSample, LagHistory, describe_lag, sample_groups
from ..kafka.reset_preview import ResetPreview
from ..screens.confirm import ConfirmScreen
from ..screens.group_detail import GroupDetailScreen
from ..screens.offsets_view import OffsetsScreen
from ..screens.reset_offsets import ResetOffsetsScreen
from .group_rows import COLUMNS, TREND_LABEL, column_widths, group_cells
from .lag_chart import LagChart
from .list_order import ListOrder, NameFilter, fit_facts
from .list_table import ListTable
from .ordered_list_pane import ORDER_BINDINGS, OrderedListPane

POLL_SECONDS = 1.0
CHART_GROUPS = 8
"""Lines in the pane's chart at most: the shown groups with most lag (and the one selected)."""


class GroupTable(ListTable):
    """The group list; `enter` opens the group's detail."""

    BINDINGS = [Binding("enter", "select_cursor", "Detail")]


class GroupsPane(OrderedListPane[GroupLag]):
    """Consumer groups; the row under the cursor is the group every key acts on."""

    BINDINGS = [
        Binding("r", "reset", "Reset offsets"),
        Binding("d", "delete", "Delete"),
        Binding("o", "offsets", "Offsets"),
        *ORDER_BINDINGS,
    ]

    COMPONENT_CLASSES = {
        "groups--stable",
        "groups--empty",
        "groups--rebalancing",
        "groups--dead",
        "groups--lag",
        "groups--no-lag",
        "groups--trend",
    }

    DEFAULT_CSS = """
    GroupsPane { height: 1fr; }
    GroupsPane #groups-facts { height: 1; padding: 0 1; color: $kwb-muted; text-wrap: nowrap; }
    GroupsPane #group-list { height: auto; max-height: 60%; }
    GroupsPane #groups-chart { height: 1fr; min-height: 5; }
    GroupsPane > .groups--stable { color: $success; }
    GroupsPane > .groups--empty { color: $kwb-muted; }
    GroupsPane > .groups--rebalancing { color: $warning; text-style: bold; }
    GroupsPane > .groups--dead { color: $error; }
    GroupsPane > .groups--lag { color: $warning; text-style: bold; }
    GroupsPane > .groups--no-lag { color: $success; }
    GroupsPane > .groups--trend { color: $kwb-rate; }
    """

    sample: reactive[GroupsSample | None] = reactive(None, always_update=True, init=False)
    """The latest sample of every group; the detail screen watches it."""
    updating: reactive[str] = reactive("", init=False)
    """What the pane is reading after an action ("" when nothing): said in the facts line
    and the group's detail until they show the action's effect."""

    def __init__(self) -> None:
        super().__init__(
            ListOrder(COLUMNS, lambda g: g.group_id, "group"), "group-list", id="groups-pane"
        )
        self.history = LagHistory()
        self.error: str | None = None
        self._wake = asyncio.Event()
        self._changes = 0
        """Actions taken on groups so far: a sample begun before one is not shown."""

    def compose(self) -> ComposeResult:
        yield Static("waiting for the cluster…", id="groups-facts")
        yield self.filter_input("/ filter groups (substring or regex)", "group-filter")
        yield GroupTable(id="group-list")
        yield LagChart(id="groups-chart")

    def on_mount(self) -> None:
        table = self.ordered_table
        self.add_order_columns(table)
        table.add_column(Text(TREND_LABEL), key="trend")
        self.watch(self.app, "generation", self._cluster_switched, init=False)
        self._poll()

    # -- sampling -----------------------------------------------------------------------------

    @work(exclusive=True, group="groups-poll", exit_on_error=False)
    async def _poll(self) -> None:
        while True:
            self._wake.clear()  # a wake-up during the sample below means: sample again
            admin = self.current_admin()
            if admin is not None:
                generation, changes = self.host.generation, self._changes
                try:
                    sample = await sample_groups(admin)
                except Exception as exc:  # any failure is a line in the pane, never a traceback
                    self._failed(exc)
                else:
                    if (generation, changes) == (self.host.generation, self._changes):
                        self.take(sample)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()

    def refresh_groups(self) -> None:
        """Sample now (after a change made from the UI) rather than within a second; a
        sample begun before the change would show the groups as they were: it is dropped."""
        self._changes += 1
        self._wake.set()

    async def reread_group(self, group_id: str) -> None:
        """After an action on `group_id`: read that group now and show it (a sample of
        every group takes longer), then sample them all."""
        self.refresh_groups()
        admin, group = self.current_admin(), self.sample and self.sample.group(group_id)
        if admin is None or not group:
            return
        fresh = await describe_lag(admin, group.listing)
        if self.sample is not None:
            self.take(self.sample.with_group(fresh, time.monotonic()))

    def watch_updating(self) -> None:
        self._show_facts()

    def take(self, sample: GroupsSample) -> None:
        """Record a sample and show it (the poller's, or fixed data in snapshot tests)."""
        self.error = None
        self.history.record(sample)
        self.sample = sample
        self.show_rows()

    def _failed(self, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, KafkaToolError) else f"{type(exc).__name__}: {exc}"
        self.error = f"cannot sample consumer groups: {message}"
        self._show_facts()

    def _cluster_switched(self) -> None:
        self.history.clear()
        self.sample = None
        self.show_rows()
        self.refresh_groups()

    # -- showing ------------------------------------------------------------------------------

    @property
    def selected_group(self) -> GroupLag | None:
        group_id = self.ordered_table.cursor_key
        if group_id is None or self.sample is None:
            return None
        return self.sample.group(group_id)

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    @property
    def shown_groups(self) -> list[GroupLag]:
        """The groups the filter lets through, in the order chosen."""
        return self.order.select(self.sample.groups if self.sample is not None else ())

    def show_rows(self) -> None:
        table = self.ordered_table
        shown = self.shown_groups
        widths = column_widths(table, shown)
        rows = [(g.group_id, group_cells(g, widths, self._style, self.history)) for g in shown]
        table.show(rows)
        self._show_facts()
        self._show_chart()

    def _show_facts(self) -> None:
        facts = self.query_one("#groups-facts", Static)
        if self.error is not None:
            facts.update(self.error)
            return
        if self.sample is None:
            facts.update("waiting for the cluster…")
            return
        if not self.sample.groups:
            facts.update("no consumer groups yet: start a consumer with a group.id")
            return
        shown = self.shown_groups
        parts = [
            *([self.updating] if self.updating else []),
            self.order.counted(len(shown), len(self.sample.groups), "group"),
            self.order.sorted_as,
            f"total lag {sum(g.total_lag or 0 for g in shown):,}",
            f"{sum(1 for g in shown if g.member_count)} with members",
        ]
        facts.update(fit_facts(parts, facts.content_region.width))

    def _show_chart(self) -> None:
        chart = self.query_one("#groups-chart", LagChart)
        if self.sample is None or not self.sample.groups:
            chart.show({}, None, "lag over time")
            return
        selected = self.selected_group
        ranked = sorted(self.shown_groups, key=lambda g: -(g.total_lag or 0))[:CHART_GROUPS]
        if selected is not None and selected not in ranked:
            ranked = [*ranked[: CHART_GROUPS - 1], selected]
        chosen = sorted(ranked, key=lambda g: g.group_id)
        title = "total lag per group"
        if NameFilter(self.order.filter):
            title += f" matching {self.order.filter.strip()}"
        chart.show(
            {g.group_id: self.history.group(g.group_id) for g in chosen},
            self.sample.taken_at,
            title,
        )

    # -- acting on the group under the cursor -------------------------------------------------

    @on(ListTable.RowSelected, "#group-list")
    def _row_chosen(self) -> None:
        self.action_detail()

    def _require_group(self) -> GroupLag | None:
        group = self.selected_group
        if group is None:
            self.notify("no group selected", title="Groups", severity="warning")
        return group

    def action_detail(self) -> None:
        group = self._require_group()
        if group is not None:
            self.app.push_screen(GroupDetailScreen(group.group_id, self))

    def action_reset(self) -> None:
        group = self._require_group()
        if group is not None:
            self.reset_offsets(group.group_id)

    def action_delete(self) -> None:
        group = self._require_group()
        if group is not None:
            self.delete_group(group.group_id)

    def action_offsets(self) -> None:
        group = self._require_group()
        if group is not None:
            self.open_offsets(group.group_id)

    def reset_offsets(self, group_id: str) -> None:
        """The reset dialog for `group_id`, its topics offered as the scope."""
        group = self.sample.group(group_id) if self.sample is not None else None
        topics = group.topics if group is not None else []

        def closed(result: ResetPreview | None) -> None:
            if result is not None and result.executed:
                self._announce_reset(result)

        self.app.push_screen(ResetOffsetsScreen(self.current_admin, group_id, topics), closed)

    @work(group="group-admin")
    async def _announce_reset(self, result: ResetPreview) -> None:
        """Say the offsets are committed once the views show them (issue 14: the toast came
        while the detail still showed the old offsets)."""
        self.updating = f"reading group {result.group_id} again…"
        try:
            await self.reread_group(result.group_id)  # a failure is kept as the group's error
        finally:
            self.updating = ""
        self.notify(
            f"committed new offsets for {len(result.rows)} partition(s) of group {result.group_id}",
            title="Reset offsets",
        )

    def delete_group(self, group_id: str) -> None:
        """Ask, then delete `group_id` (type its name on a cluster that is not the local one)."""
        group = self.sample.group(group_id) if self.sample is not None else None
        partitions = len(group.partitions) if group is not None else 0
        workbench = self.host.workbench
        external = workbench is not None and workbench.embedded is None

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(group_id)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete group {group_id}?",
                f"Its committed offsets on {partitions} partition(s) will be gone for good;"
                " Kafka refuses while the group has members.",
                "Delete",
                type_to_confirm=group_id if external else None,
            ),
            confirmed,
        )

    @work(group="group-admin")
    async def _delete(self, group_id: str) -> None:
        admin = self.current_admin()
        if admin is None:
            self.notify("not connected to the cluster", title="Groups", severity="error")
            return
        try:
            with self.host.busy(f"deleting group {group_id}"):
                outcome = await admin.delete_groups([group_id])
            raise_for(outcome.get(group_id, ErrorCode.none), None, f"group {group_id}")
        except KafkaToolError as exc:
            self.notify(str(exc), title="Delete group", severity="error")
            return
        self.notify(f"deleted group {group_id}", title="Groups")
        self.refresh_groups()

    def open_offsets(self, group_id: str, topic: str | None = None) -> None:
        """The offsets view of the group's topics (starting at `topic`)."""
        group = self.sample.group(group_id) if self.sample is not None else None
        topics = group.topics if group is not None else []
        if not topics:
            self.notify(
                f"group {group_id} has no committed offsets yet",
                title="Offsets",
                severity="warning",
            )
            return
        self.app.push_screen(OffsetsScreen(topic or topics[0], topics=topics))
