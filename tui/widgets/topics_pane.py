"""Topics pane: every topic with partitions, replication factor, size, records and produce
rate, filtered as you type and sorted by any column; create, delete, edit configs, add
partitions and look at partitions from here.

The table follows the app's snapshot every second without losing the user's place: only
cells whose value changed are written, rows move in place when the order changes, and the
cursor stays on the same topic wherever it moves. Every admin call runs in a worker (the
dialogs run their own) and asks the app for a fresh snapshot afterwards, so a change shows
at once instead of up to a second later.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from ..kafka.cluster import ClusterSnapshot, TopicStats
from ..kafka.errors import KafkaToolError
from ..screens.add_partitions import AddPartitionsScreen
from ..screens.confirm import ConfirmScreen
from ..screens.create_topic import CreateTopicScreen
from ..screens.edit_configs import EditConfigsScreen
from ..screens.topic_detail import TopicDetailScreen
from .groups_pane import GroupsPane
from .list_order import NameFilter
from .list_table import ListTable
from .ordered_list_pane import ORDER_BINDINGS, OrderedListPane
from .search_pane import SearchPane
from .topic_rows import COLUMNS, cells, shorten_middle, topic_order

_MIN_NAME_WIDTH = 16
_DRAWN_KEPT = 20_000
"""Rows' cells kept for reuse before starting afresh (rates and offsets change often)."""


class TopicTable(ListTable):
    """The topic list; `enter` (select the row) opens the partition detail, so say so."""

    BINDINGS = [Binding("enter", "select_cursor", "Detail")]


class TopicsPane(OrderedListPane[TopicStats]):
    """The cluster's topics; the row under the cursor is the topic every key acts on."""

    BINDINGS = [
        Binding("c", "create", "Create"),
        Binding("n", "create", "Create", show=False),
        Binding("e", "edit_configs", "Configs"),
        Binding("d", "delete", "Delete"),
        Binding("p", "add_partitions", "Add partitions"),
        *ORDER_BINDINGS,
        Binding("i", "toggle_internal", "Internal"),
        Binding("f", "search", "Search"),
    ]

    DEFAULT_CSS = """
    TopicsPane { height: 1fr; }
    TopicsPane #topics-facts { height: 1; padding: 0 1; color: $kwb-muted; }
    TopicsPane #topic-filter { margin: 0 0; }
    TopicsPane #topic-list { height: 1fr; }
    """

    def __init__(self, *, tz: tzinfo | None = None) -> None:
        super().__init__(topic_order(), "topic-list", id="topics-pane")
        self.tz = tz
        """The timezone the topic detail's records are shown in (None: the local one)."""
        self.show_internal = False
        self.snapshot: ClusterSnapshot | None = None
        self._select_after: str | None = None
        """A topic to put the cursor on as soon as it shows up (one just created)."""
        self._values: dict[str, tuple[str, ...]] = {}
        """Each topic's cell values as of `snapshot`, by name."""
        self._numbers: dict[tuple[int, str], Text] = {}
        """Number cells by column and text, shared by the rows of _drawn (see _number)."""
        self._drawn: dict[tuple[bool, int, tuple[str, ...]], tuple[Text, ...]] = {}
        """The cells of each row as last drawn, by what they show: a snapshot each second
        and each filter key would otherwise build a Text per cell of every row (6,000 over
        1,000 topics)."""

    def compose(self) -> ComposeResult:
        yield Static("waiting for the cluster…", id="topics-facts")
        yield self.filter_input("/ filter topics (substring or regex)", "topic-filter")
        yield TopicTable(id="topic-list")

    def on_mount(self) -> None:
        self.add_order_columns(self.ordered_table)
        self.watch(self.app, "generation", self._cluster_switched, init=False)

    def _cluster_switched(self) -> None:
        """Another cluster: its topics are not these, and keys must not act on these."""
        self.snapshot = None
        self._values.clear()
        self._select_after = None
        self.ordered_table.show([])
        self.query_one("#topics-facts", Static).update("waiting for the cluster…")

    # -- showing ------------------------------------------------------------------------------

    def show(self, snapshot: ClusterSnapshot) -> None:
        """The host's latest snapshot (each second, and after changes)."""
        self.snapshot = snapshot
        self._values.clear()
        self.show_rows()

    @property
    def selected_topic(self) -> TopicStats | None:
        """The topic under the cursor, as of the last snapshot."""
        name = self.ordered_table.cursor_key
        if name is None or self.snapshot is None:
            return None
        return self.snapshot.topic(name)

    def show_rows(self) -> None:
        table = self.ordered_table
        if self.snapshot is None:
            return
        shown = self.order.select(self.snapshot.topics, self._visible)
        rows = [self._row_values(t) for t in shown]
        name_width = self._name_width(table, rows)
        table.show(
            [
                (t.name, self._cells(t.internal, row, name_width))
                for t, row in zip(shown, rows, strict=True)
            ]
        )
        if self._select_after is not None and table.select(self._select_after):
            self._select_after = None
        self._show_facts(len(shown))

    @staticmethod
    def _name_width(table: ListTable, rows: list[tuple[str, ...]]) -> int:
        """Room left for topic names once the numbers have theirs, so every column stays
        in view without scrolling sideways; 0 (no limit) before the table has a size."""
        width = table.content_region.width
        if width <= 0:
            return 0
        if len(rows) + table.header_height > table.content_region.height:
            width -= table.styles.scrollbar_size_vertical
        padding = 2 * table.cell_padding
        numbers = sum(
            max([spec.header_width, *(len(row[i]) for row in rows)]) + padding
            for i, spec in enumerate(COLUMNS)
            if i > 0
        )
        header = COLUMNS[0].header_width
        return max(width - numbers - padding, _MIN_NAME_WIDTH, header)

    def _row_values(self, topic: TopicStats) -> tuple[str, ...]:
        """`cells(topic)`, worked out once per snapshot (each filter key shows them again)."""
        values = self._values.get(topic.name)
        if values is None:
            values = self._values[topic.name] = cells(topic)
        return values

    def _cells(self, internal: bool, values: tuple[str, ...], name_width: int) -> tuple[Text, ...]:
        """A row's cells, the ones drawn before when it shows the same (see _drawn)."""
        key = (internal, name_width, values)
        drawn = self._drawn.get(key)
        if drawn is None:
            if len(self._drawn) > _DRAWN_KEPT:
                self._drawn.clear()
                self._numbers.clear()
            name = shorten_middle(values[0], name_width)
            drawn = self._drawn[key] = (
                Text.styled(name, "italic" if internal else ""),
                *(self._number(column, v) for column, v in enumerate(values[1:], 1)),
            )
        return drawn

    def _number(self, column: int, value: str) -> Text:
        """A number's cell, the one drawn before in this column when it reads the same: with
        traffic on every topic, a row changes its size, records and rate, not the rest."""
        key = (column, value)
        cell = self._numbers.get(key)
        if cell is None:
            cell = self._numbers[key] = Text(value, justify="right")
        return cell

    def _visible(self, topic: TopicStats) -> bool:
        return self.show_internal or not topic.internal

    def _show_facts(self, shown: int) -> None:
        assert self.snapshot is not None
        visible = [t for t in self.snapshot.topics if self._visible(t)]
        internal = sum(1 for t in self.snapshot.topics if t.internal)
        if not visible:
            text = "no topics yet: press c to create one"
        else:
            text = f"{self.order.counted(shown, len(visible), 'topic')} · {self.order.sorted_as}"
        if internal:
            state = "shown" if self.show_internal else "hidden"
            text += f" · {internal} internal {state} (i)"
        self.query_one("#topics-facts", Static).update(text)

    # -- list handling ------------------------------------------------------------------------

    @on(ListTable.RowSelected, "#topic-list")
    def _row_chosen(self) -> None:
        self.action_detail()

    def action_toggle_internal(self) -> None:
        self.show_internal = not self.show_internal
        self.show_rows()

    # -- changing the cluster -----------------------------------------------------------------

    def _require_topic(self) -> TopicStats | None:
        topic = self.selected_topic
        if topic is None:
            self.notify("no topic selected", title="Topics", severity="warning")
        return topic

    def _changed(self) -> None:
        self.post_message(self.ClusterChanged())

    def action_create(self) -> None:
        self.app.push_screen(CreateTopicScreen(self.current_admin), self._created)

    def _created(self, name: str | None) -> None:
        if name is None:
            return
        self._select_after = name
        filter_input = self.query_one("#topic-filter", Input)
        if not NameFilter(filter_input.value).matches(name):
            filter_input.value = ""
        self.notify(f"created topic {name}", title="Topics")
        self.ordered_table.focus()
        self._changed()

    def action_delete(self) -> None:
        topic = self._require_topic()
        if topic is None:
            return
        workbench = self.host.workbench
        external = workbench is not None and workbench.embedded is None
        question = (
            f"{topic.records:,} records in {len(topic.partitions)} partition(s) will be gone"
            " for good."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._delete(topic.name)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete topic {topic.name}?",
                question,
                "Delete",
                type_to_confirm=topic.name if external else None,
            ),
            confirmed,
        )

    @work(group="topic-admin")
    async def _delete(self, name: str) -> None:
        admin = self.current_admin()
        if admin is None:
            self.notify("not connected to the cluster", title="Topics", severity="error")
            return
        try:
            with self.host.busy(f"deleting topic {name}"):
                await admin.delete_topic(name)
        except KafkaToolError as exc:
            self.notify(str(exc), title="Delete topic", severity="error", markup=False)
            return
        self.notify(f"deleted topic {name}", title="Topics")
        self._changed()

    def action_edit_configs(self) -> None:
        topic = self._require_topic()
        if topic is None:
            return

        def closed(changed: bool | None) -> None:
            if changed:
                self._changed()

        self.app.push_screen(EditConfigsScreen(self.current_admin, topic.name), closed)

    def action_add_partitions(self) -> None:
        topic = self._require_topic()
        if topic is None:
            return

        def closed(count: int | None) -> None:
            if count is not None:
                self.notify(f"{topic.name} now has {count} partitions", title="Topics")
                self._changed()

        self.app.push_screen(
            AddPartitionsScreen(self.current_admin, topic.name, len(topic.partitions)), closed
        )

    def action_search(self) -> None:
        """Search the topic under the cursor on the broker (the Search pane)."""
        topic = self._require_topic()
        searches = self.app.query(SearchPane)
        if topic is not None and searches:
            searches.first().ask_about(topic.name)

    def action_detail(self) -> None:
        topic = self._require_topic()
        if topic is None:
            return
        groups = self.app.query(GroupsPane)
        detail = TopicDetailScreen(
            topic.name, self.snapshot, groups.first() if groups else None, tz=self.tz
        )
        self.app.push_screen(detail)
