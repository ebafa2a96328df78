"""One topic seen whole, without switching panes (issue 14, point 7): per partition its
leader, replicas, in-sync replicas, log start, end and last stable offsets (LSO: where
read_committed consumers stop while a transaction is open), records and size; the groups
that read it with their lag; the configs that are not Kafka's defaults; its newest records.

The log start offset moves with retention and DeleteRecords and the end offset with every
append, so the partitions follow the app's snapshot rather than showing a stale copy. The
configs and the newest records are asked for when the screen opens and again on `r` (they
cost a DescribeConfigs and a Fetch of every partition, too much for each second); `enter`
on a record opens it as the Tail pane does, where it can be copied or produced again.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from localbroker.public import ConfigResourceType

from ..host import host_of
from ..kafka.cluster import ClusterSnapshot, PartitionStats, TopicStats
from ..kafka.errors import KafkaToolError
from ..kafka.lag_history import GroupsSample
from ..kafka.models import ConfigInfo
from ..kafka.record_filter import RecordView
from ..kafka.record_ring import RecordRing
from ..kafka.tail import RawRecord
from ..kafka.topic_sample import SAMPLE_SIZE, newest_records
from ..widgets.footer import WorkbenchFooter
from ..widgets.record_log import RecordLog
from ..widgets.table_sync import sync_table
from ..widgets.topic_rows import human_bytes, human_rate
from .edit_configs import reading, shown_value
from .record_detail import RecordDetailScreen

if TYPE_CHECKING:
    from ..widgets.groups_pane import GroupsPane

PARTITION_COLUMNS = (
    ("partition", "partition"),
    ("leader", "leader"),
    ("replicas", "replicas"),
    ("isr", "ISR"),
    ("log-start", "log start"),
    ("end", "end offset"),
    ("stable", "LSO"),
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
        f"{partition.stable:,}" if partition.stable >= 0 else "-",
        f"{partition.records:,}",
        human_bytes(partition.size_bytes),
    )
    return tuple(Text(value, justify="right") for value in values)


def configs_text(configs: list[ConfigInfo]) -> str:
    """The configs that are not Kafka's defaults, as `name=value (reading)`, one line each."""
    changed = [config for config in configs if not config.is_default]
    if not changed:
        return "configs: Kafka's defaults (e to edit)"
    lines = []
    for config in changed:
        readable = "" if config.sensitive else reading(config.name, config.value)
        lines.append(
            f"{config.name}={shown_value(config)}" + (f" ({readable})" if readable else "")
        )
    return "configs not at their default (e to edit): " + " · ".join(lines)


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

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("r", "reload", "Reload configs and records"),
    ]

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
    TopicDetailScreen #detail-configs { color: $kwb-muted; }
    TopicDetailScreen #detail-partitions { height: auto; max-height: 1fr; margin-top: 1; }
    TopicDetailScreen #detail-sample-title { margin-top: 1; color: $primary; text-style: bold; }
    TopicDetailScreen #detail-sample { height: 1fr; min-height: 4; }
    """

    def __init__(
        self,
        topic: str,
        snapshot: ClusterSnapshot | None,
        groups: GroupsPane | None = None,
        *,
        tz: tzinfo | None = None,
    ) -> None:
        super().__init__()
        self.topic = topic
        self._initial = snapshot
        self.groups = groups
        """Where the groups' lag comes from (the Groups pane samples it); None: not shown."""
        self.tz = tz
        self.sample = RecordRing(SAMPLE_SIZE)
        """The topic's newest records, as last read."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Topic {self.topic}", id="detail-title")
            yield Static("", id="detail-summary")
            yield Static("", id="detail-traffic")
            yield Static("", id="detail-consumers")
            yield Static("configs: reading…", id="detail-configs")
            yield DataTable(id="detail-partitions", cursor_type="row", zebra_stripes=True)
            yield Static(f"newest {SAMPLE_SIZE} records", id="detail-sample-title")
            yield RecordLog(RecordView(self.sample), tz=self.tz, id="detail-sample")
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
        self.action_reload()

    @property
    def sample_log(self) -> RecordLog:
        return self.query_one("#detail-sample", RecordLog)

    def action_reload(self) -> None:
        self.sample_log.empty_text = "reading the newest records…"
        self._read_configs()
        self._read_sample()

    @work(group="topic-configs", exclusive=True, exit_on_error=False)
    async def _read_configs(self) -> None:
        shown = self.query_one("#detail-configs", Static)
        admin = host_of(self).admin
        if admin is None:
            shown.update("configs: not connected to the cluster")
            return
        try:
            configs = await admin.describe_configs(ConfigResourceType.TOPIC, self.topic)
        except KafkaToolError as exc:
            shown.update(f"configs: {exc}")
            return
        self.show_configs(configs)

    def show_configs(self, configs: list[ConfigInfo]) -> None:
        self.query_one("#detail-configs", Static).update(configs_text(configs))

    @work(group="topic-sample", exclusive=True, exit_on_error=False)
    async def _read_sample(self) -> None:
        workbench = host_of(self).workbench
        if workbench is None:
            self.sample_log.empty_text = "not connected to the cluster"
            return
        try:
            records = await newest_records(workbench.connection, self.topic)
        except KafkaToolError as exc:
            self.sample_log.empty_text = f"could not read the records: {exc}"
            return
        self.show_sample(records)

    def show_sample(self, records: list[RawRecord]) -> None:
        """The newest records, oldest first; the cursor on the first."""
        self.sample.clear()
        self.sample.extend(records)
        log = self.sample_log
        log.view.reset()
        log.reset(follow=False)
        log.empty_text = "the topic holds no records"
        log.data_changed()

    @on(RecordLog.Selected)
    def _open_record(self, event: RecordLog.Selected) -> None:
        self.app.push_screen(RecordDetailScreen(event.record, self.tz, self.sample_log.step))

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
