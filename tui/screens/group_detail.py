"""One consumer group in detail: where each partition stands (committed offset, log end
offset, lag and its trend, the consumer that owns it), the members with their client id,
host and assignment, and a chart of lag over time.

The screen shows what the Groups pane samples (it watches the pane's `sample` reactive and
reads its LagHistory), so it never asks the cluster itself and opens with the trend so far.
A partition nobody owns (its consumer died, the group is rebalancing) shows its lag growing
until another member takes it over: that is the story this screen is for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..kafka.group_lag import PartitionLag
from ..kafka.lag_history import GroupLag, GroupsSample
from ..kafka.models import MemberInfo
from ..widgets.footer import WorkbenchFooter
from ..widgets.lag_chart import LagChart
from ..widgets.lag_sparkline import lag_sparkline, room_for_trend
from ..widgets.lag_table import LagTable
from ..widgets.table_sync import cursor_key, sync_table
from ..widgets.topic_rows import shorten, shorten_middle

if TYPE_CHECKING:
    from ..widgets.groups_pane import GroupsPane

CHART_PARTITIONS = 8
"""Lines in the chart at most (the partitions with most lag); more than that is a blur."""
_LEAST_TREND, _MOST_TREND = len("lag trend"), 60
_LEAST_MEMBER_ID = 12
PARTITION_COLUMNS = (
    ("topic", "topic", False),
    ("partition", "partition", True),
    ("committed", "committed", True),
    ("log-end", "log end", True),
    ("lag", "lag", True),
    ("trend", "lag trend", False),
    ("consumer", "consumer", False),
)
MEMBER_COLUMNS = (
    ("client", "client id"),
    ("host", "host"),
    ("assignment", "assignment"),
    ("member", "member id"),
)


def offset_text(offset: int | None) -> str:
    return "-" if offset is None or offset < 0 else f"{offset:,}"


PENDING = "pending transaction"


def committed_text(lag: PartitionLag) -> str:
    """The committed offset, and whether an open transaction will replace it on commit."""
    return offset_text(lag.committed) + (f" · {PENDING}" if lag.pending else "")


def assignment_text(assignment: dict[str, list[int]]) -> str:
    """`orders 0,1,2 · audit 1`: topics in order, partitions numerically."""
    parts = [
        f"{topic} {','.join(str(p) for p in sorted(partitions))}"
        for topic, partitions in sorted(assignment.items())
        if partitions
    ]
    return " · ".join(parts) or "(nothing assigned)"


def partition_key(lag: PartitionLag) -> str:
    return f"{lag.topic}-{lag.partition}"


class GroupDetailScreen(ModalScreen[None]):
    """Group `group_id` as the Groups pane `source` samples it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("r", "reset", "Reset offsets"),
        Binding("d", "delete", "Delete"),
        Binding("o", "offsets", "Offsets"),
        Binding("t", "toggle_chart", "Total/partitions"),
    ]

    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]

    COMPONENT_CLASSES = {"detail--lag", "detail--no-lag", "detail--orphan", "detail--trend"}

    DEFAULT_CSS = """
    GroupDetailScreen { align: center middle; }
    GroupDetailScreen > Vertical {
        width: 100%; height: 100%;
        border: round $primary; background: $surface; padding: 0 0 0 1;
    }
    GroupDetailScreen #group-title { text-style: bold; color: $primary; }
    GroupDetailScreen #group-summary { color: $kwb-muted; }
    GroupDetailScreen #group-body { height: 1fr; }
    GroupDetailScreen .caption { color: $kwb-muted; text-style: bold; }
    GroupDetailScreen #group-partitions { height: auto; max-height: 7; }
    GroupDetailScreen #group-members { height: auto; max-height: 4; }
    GroupDetailScreen #group-chart { height: 1fr; min-height: 7; }
    GroupDetailScreen.-tall #group-partitions { max-height: 14; }
    GroupDetailScreen.-tall #group-members { max-height: 8; }
    GroupDetailScreen.-tall .caption { margin-top: 1; }
    GroupDetailScreen > .detail--lag { color: $warning; text-style: bold; }
    GroupDetailScreen > .detail--no-lag { color: $success; }
    GroupDetailScreen > .detail--orphan { color: $error; text-style: bold; }
    GroupDetailScreen > .detail--trend { color: $kwb-rate; }
    """

    def __init__(self, group_id: str, source: GroupsPane) -> None:
        super().__init__()
        self.group_id = group_id
        self.source = source
        self.per_partition = True
        """Chart one line per partition (True) or the group's total lag."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Group {self.group_id}", id="group-title")
            yield Static("", id="group-summary")
            with Vertical(id="group-body"):
                yield LagTable(id="group-partitions", cursor_type="row", zebra_stripes=True)
                yield Static("members", classes="caption")
                yield LagTable(id="group-members", cursor_type="row", zebra_stripes=True)
                yield LagChart(id="group-chart")
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        partitions = self.query_one("#group-partitions", DataTable)
        for key, label, numeric in PARTITION_COLUMNS:
            partitions.add_column(Text(label, justify="right" if numeric else "left"), key=key)
        members = self.query_one("#group-members", DataTable)
        for key, label in MEMBER_COLUMNS:
            members.add_column(label, key=key)
        partitions.focus()
        self._show(self.source.sample)
        self.watch(self.source, "sample", self._show, init=False)
        self.watch(self.source, "updating", lambda: self._show(self.source.sample), init=False)

    @on(LagTable.Resized)
    def _table_resized(self) -> None:
        self._show(self.source.sample)

    @property
    def group(self) -> GroupLag | None:
        sample = self.source.sample
        return sample.group(self.group_id) if sample is not None else None

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)

    def _show(self, sample: GroupsSample | None) -> None:
        if not self.is_mounted:
            return
        group = sample.group(self.group_id) if sample is not None else None
        summary = self.query_one("#group-summary", Static)
        if group is None:
            summary.update(
                "waiting for the group…" if sample is None else "this group no longer exists"
            )
            sync_table(self.query_one("#group-partitions", DataTable), [])
            sync_table(self.query_one("#group-members", DataTable), [])
            return
        updating = self.source.updating
        summary.update(self._summary(group) + (f" · {updating}" if updating else ""))
        self._show_partitions(group)
        self._show_members(group)
        self._show_chart(group, sample)

    @staticmethod
    def _summary(group: GroupLag) -> str:
        if group.error is not None:
            return group.error
        lag = group.total_lag
        parts = [
            group.state,
            group.protocol or "no protocol",
            f"{group.member_count} member(s)",
            f"total lag {'-' if lag is None else f'{lag:,}'}",
        ]
        pending = sum(p.pending for p in group.partitions)
        if pending:
            parts.append(f"{pending} partition(s) with a {PENDING}")
        return " · ".join(parts)

    def _show_partitions(self, group: GroupLag) -> None:
        table = self.query_one("#group-partitions", DataTable)
        topic_width, trend_width = self._widths(table, group)
        rows = []
        for lag in group.partitions:
            points = self.source.history.partition(self.group_id, lag.topic, lag.partition)
            if lag.lag is None:
                lag_style = "detail--no-lag"
            else:
                lag_style = "detail--lag" if lag.lag > 0 else "detail--no-lag"
            owner = lag.owner.client_id if lag.owner is not None else "none"
            owner_style = Style() if lag.owner is not None else self._style("detail--orphan")
            rows.append(
                (
                    partition_key(lag),
                    (
                        Text(shorten_middle(lag.topic, topic_width)),
                        Text(str(lag.partition), justify="right"),
                        Text(committed_text(lag), justify="right"),
                        Text(offset_text(lag.log_end), justify="right"),
                        Text(offset_text(lag.lag), style=self._style(lag_style), justify="right"),
                        Text(
                            lag_sparkline(points, trend_width), style=self._style("detail--trend")
                        ),
                        Text(owner, style=owner_style),
                    ),
                )
            )
        sync_table(table, rows)

    @staticmethod
    def _widths(table: DataTable[Text], group: GroupLag) -> tuple[int, int]:
        """Widths for topic names and the trend, so nothing scrolls sideways: the trend takes
        what the other columns leave; long topic names give way when even that is too little."""
        parts = group.partitions
        topic = max([len("topic"), *(len(p.topic) for p in parts)])
        others = [
            len("partition"),
            max([len("committed"), *(len(committed_text(p)) for p in parts)]),
            max([len("log end"), *(len(offset_text(p.log_end)) for p in parts)]),
            max([len("lag"), *(len(offset_text(p.lag)) for p in parts)]),
            max([len("consumer"), *(len(p.owner.client_id) for p in parts if p.owner)]),
        ]
        width = table.scrollable_content_region.width
        room = room_for_trend(width, [topic, *others], table.cell_padding, 0, _MOST_TREND)
        if room < _LEAST_TREND:
            topic = max(topic - (_LEAST_TREND - room), len("topic"))
        return topic, max(room, _LEAST_TREND)

    def _show_members(self, group: GroupLag) -> None:
        table = self.query_one("#group-members", DataTable)
        members: list[MemberInfo] = sorted(
            group.info.members if group.info is not None else (),
            key=lambda m: (m.client_id, m.member_id),
        )
        rows = [(m.client_id, m.host, assignment_text(m.assignment)) for m in members]
        used = [
            max([len(label), *(len(row[i]) for row in rows)])
            for i, (_, label) in enumerate(MEMBER_COLUMNS[:-1])
        ]
        room = table.scrollable_content_region.width - sum(used)
        room -= 2 * table.cell_padding * len(MEMBER_COLUMNS)
        id_width = max(room, _LEAST_MEMBER_ID)
        sync_table(
            table,
            [
                (m.member_id, (*row, shorten(m.member_id, id_width)))
                for m, row in zip(members, rows, strict=True)
            ],
        )

    def _show_chart(self, group: GroupLag, sample: GroupsSample | None) -> None:
        chart = self.query_one("#group-chart", LagChart)
        now = sample.taken_at if sample is not None else None
        if not self.per_partition:
            chart.show({"total": self.source.history.group(self.group_id)}, now, "total lag")
            return
        ranked = sorted(group.partitions, key=lambda p: -(p.lag or 0))[:CHART_PARTITIONS]
        chosen = sorted(ranked, key=lambda p: (p.topic, p.partition))
        chart.show(
            {
                partition_key(p): self.source.history.partition(self.group_id, p.topic, p.partition)
                for p in chosen
            },
            now,
            "lag per partition",
        )

    # -- actions ------------------------------------------------------------------------------

    def action_toggle_chart(self) -> None:
        self.per_partition = not self.per_partition
        self._show(self.source.sample)

    def action_reset(self) -> None:
        self.source.reset_offsets(self.group_id)

    def action_delete(self) -> None:
        self.source.delete_group(self.group_id)

    def action_offsets(self) -> None:
        """The offsets view of the topic under the cursor (the group's first topic if none)."""
        key = cursor_key(self.query_one("#group-partitions", DataTable))
        group = self.group
        topic = None
        if key is not None and group is not None:
            topic = next((p.topic for p in group.partitions if partition_key(p) == key), None)
        self.source.open_offsets(self.group_id, topic)
