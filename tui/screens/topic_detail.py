"""Partition detail of one topic: leader, replicas, in-sync replicas, log start and end
offsets, records and size per partition, live from the cluster snapshots.

The log start offset moves with retention and DeleteRecords and the end offset with every
append, so the screen follows the app's snapshot rather than showing a stale copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..kafka.cluster import ClusterSnapshot, PartitionStats, TopicStats
from ..kafka.lag_history import GroupsSample
from ..widgets.footer import WorkbenchFooter
from ..widgets.table_sync import sync_table
from ..widgets.topic_rows import human_bytes, human_rate

if TYPE_CHECKING:
    from ..widgets.groups_pane import GroupsPane

PARTITION_COLUMNS = (
    ("partition", "partition"),
    ("leader", "leader"),
    ("replicas", "replicas"),
    ("isr", "ISR"),
    ("log-start", "log start"),
    ("end", "end offset"),
    ("records", "records"),
    ("size", "size"),
)


def _nodes(nodes: tuple[int, ...]) -> str:
    return ",".join(map(str, nodes)) or "-"


def partition_cells(partition: PartitionStats) -> tuple[Text, ...]:
    """One partition's row; numbers right-aligned, a missing leader shown as 'none'."""
    values = (
        str(partition.partition),
        str(partition.leader) if partition.leader >= 0 else "none",
        _nodes(partition.replicas),
        _nodes(partition.isr),
        f"{partition.earliest:,}",
        f"{partition.latest:,}",
        f"{partition.records:,}",
        human_bytes(partition.size_bytes),
    )
    return tuple(Text(value, justify="right") for value in values)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def topic_shape(topic: TopicStats) -> str:
    """What the topic is: partitions, replication factor, id (one line at 80 columns)."""
    return (
        f"{_count(len(topic.partitions), 'partition')}"
        f" · replication factor {topic.replication_factor}"
        + (" · internal" if topic.internal else "")
        + (f" · topic id {topic.topic_id}" if topic.topic_id else "")
    )


def topic_traffic(topic: TopicStats) -> str:
    """What the topic holds and takes in: records, bytes, records per second."""
    return (
        f"{_count(topic.records, 'record')} · {human_bytes(topic.size_bytes)}"
        f" · {human_rate(topic.rate)} records/s"
    )


class TopicDetailScreen(ModalScreen[None]):
    """The partitions of `topic`; follows the app's `snapshot` reactive when it has one."""

    BINDINGS = [("escape", "dismiss", "Close")]

    DEFAULT_CSS = """
    TopicDetailScreen { align: center middle; }
    TopicDetailScreen > Vertical {
        width: 1fr; max-width: 140; height: 1fr; max-height: 40;
        border: round $primary; background: $surface; padding: 0 0 0 1;
    }
    TopicDetailScreen #detail-title { text-style: bold; color: $primary; }
    TopicDetailScreen #detail-summary { color: $kwb-muted; }
    TopicDetailScreen #detail-traffic { color: $kwb-muted; }
    TopicDetailScreen #detail-consumers { color: $kwb-muted; }
    TopicDetailScreen #detail-partitions { height: 1fr; margin-top: 1; }
    """

    def __init__(
        self, topic: str, snapshot: ClusterSnapshot | None, groups: GroupsPane | None = None
    ) -> None:
        super().__init__()
        self.topic = topic
        self._initial = snapshot
        self.groups = groups
        """Where the groups' lag comes from (the Groups pane samples it); None: not shown."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Topic {self.topic}", id="detail-title")
            yield Static("", id="detail-summary")
            yield Static("", id="detail-traffic")
            yield Static("", id="detail-consumers")
            yield DataTable(id="detail-partitions", cursor_type="row", zebra_stripes=True)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        table = self.query_one("#detail-partitions", DataTable)
        for key, label in PARTITION_COLUMNS:
            table.add_column(Text(label, justify="right"), key=key)
        table.focus()
        if self._initial is not None:
            self.show(self._initial)
        self.watch(self.app, "snapshot", self._snapshot_changed, init=False)
        consumers = self.query_one("#detail-consumers", Static)
        consumers.display = self.groups is not None
        if self.groups is not None:
            self.watch(self.groups, "sample", self._show_consumers)

    def _show_consumers(self, sample: GroupsSample | None) -> None:
        """Which groups read the topic and how far behind they are, without leaving it."""
        if sample is None:
            text = "consumer groups: sampling…"
        else:
            groups = sample.consumers_of(self.topic)
            shown = [f"{g} (lag {'-' if lag is None else f'{lag:,}'})" for g, lag in groups]
            text = "consumed by " + ", ".join(shown) if shown else "no consumer group reads it"
        self.query_one("#detail-consumers", Static).update(text)

    def _snapshot_changed(self, snapshot: ClusterSnapshot | None) -> None:
        if snapshot is not None:
            self.show(snapshot)

    def show(self, snapshot: ClusterSnapshot) -> None:
        topic = snapshot.topic(self.topic)
        summary = self.query_one("#detail-summary", Static)
        if topic is None:
            summary.update("this topic no longer exists")
            self.query_one("#detail-traffic", Static).update("")
            sync_table(self.query_one("#detail-partitions", DataTable), [])
            return
        summary.update(topic_shape(topic))
        self.query_one("#detail-traffic", Static).update(topic_traffic(topic))
        sync_table(
            self.query_one("#detail-partitions", DataTable),
            [(str(p.partition), partition_cells(p)) for p in topic.partitions],
        )
