"""Brokers pane: the cluster's nodes with their state, its controller and id, then either
each partition's leader, replicas and ISR with a timeline of what happened (a replicated
cluster), or the API versions the broker advertises and the configs of the broker under the
cursor, filtered as you type (`c` switches).

The pane follows the app's snapshot every second without losing the user's place: the node
list changes only when the brokers do, and configs are fetched once per broker (and on `r`),
not every second, so a cluster that refuses DescribeConfigs says so once. On the cluster the
workbench runs (`kwb --brokers N`), `s`, `x` and `u` stop, kill -9 and restart the broker
under the cursor; elsewhere they say why they cannot. `e` elects each partition's preferred
replica leader again (any cluster): a broker back from a crash leads nothing until then.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from localbroker.public import ConfigResourceType, api_name

from ..kafka.cluster import ClusterSnapshot
from ..kafka.elections import elect_preferred_leaders, election_summary
from ..kafka.errors import KafkaToolError
from ..kafka.models import ConfigInfo
from ..screens.edit_configs import config_cells, reading, shown_value, source_label
from .broker_control import BrokerKeys, own_cluster
from .broker_rows import COLOURS, BrokerStates, replication_counts
from .cluster_view import ClusterView
from .demo_style import DemoStyles
from .lag_table import LagTable
from .pane import Pane
from .table_sync import cursor_key, sync_table

_MIN_VALUE_WIDTH = 12
_MIN_NAME_WIDTH = 20
NARROW = 120
_CONFIG_ACTIONS = ("reload_configs", "focus_filter", "toggle_versions")
"""Below this many columns the API versions take the configs' place instead of sitting
beside them."""


class BrokersPane(Pane, BrokerKeys):
    """What the cluster is made of; the configs shown are those of the highlighted node."""

    BINDINGS = [
        Binding("r", "reload_configs", "Reload configs"),
        Binding("slash", "focus_filter", "Filter configs"),
        Binding("v", "toggle_versions", "API versions"),
        Binding("c", "toggle_cluster_view", "Partitions/configs"),
        Binding("s", "stop_broker", "Stop broker"),
        Binding("x", "kill_broker", "Kill -9"),
        Binding("u", "restart_broker", "Restart broker"),
        Binding("e", "elect_leaders", "Elect preferred"),
        Binding("escape", "leave_filter", "Back to list", show=False),
    ]

    DEFAULT_CSS = """
    BrokersPane { height: 1fr; }
    BrokersPane #cluster-facts { height: 1; padding: 0 1; color: $kwb-muted; }
    BrokersPane #nodes { height: auto; max-height: 8; }
    BrokersPane #cluster-view { margin-top: 1; }
    BrokersPane #brokers-bottom { height: 1fr; margin-top: 1; }
    BrokersPane #configs-side { width: 1fr; }
    BrokersPane #configs-bar { height: 1; }
    BrokersPane #config-filter { width: 1fr; background: $boost; }
    BrokersPane #configs-count { width: auto; padding: 0 1; color: $kwb-muted; }
    BrokersPane #configs-count.-error { color: $error; }
    BrokersPane #broker-configs { height: 1fr; }
    BrokersPane #config-doc { height: auto; max-height: 2; padding: 0 1; color: $kwb-muted; }
    BrokersPane #api-versions { width: auto; height: 1fr; margin-left: 1; }
    BrokersPane.-narrow #api-versions { width: 1fr; margin-left: 0; }
    """

    def __init__(self) -> None:
        super().__init__(id="brokers-pane")
        self._cluster_id: str | None = None
        self._configs: list[ConfigInfo] = []
        self._configs_of: tuple[str | None, str] | None = None
        """(cluster id, node id) whose configs are shown or being fetched."""
        self._configs_node: str | None = None
        """The node whose configs the table shows."""
        self._shown_versions: dict[int, tuple[int, int]] | None = None
        self._versions_wanted: bool | None = None
        """The user's choice (`v`) to show API versions; None: whatever fits the width."""
        self._cluster_view_wanted: bool | None = None
        """The user's choice (`c`) of partitions over configs; None: partitions on a
        replicated cluster or the workbench's own, configs otherwise."""
        self._states = BrokerStates()
        self._partitions_shown = False
        self._snapshot: ClusterSnapshot | None = None

    def compose(self) -> ComposeResult:
        yield Static("waiting for the cluster…", id="cluster-facts")
        yield DataTable(id="nodes", cursor_type="row", zebra_stripes=True)
        yield ClusterView(id="cluster-view")
        with Horizontal(id="brokers-bottom"):
            with Vertical(id="configs-side"):
                with Horizontal(id="configs-bar"):
                    yield Input(
                        placeholder="/ filter broker configs (name or value)",
                        id="config-filter",
                        compact=True,
                    )
                    yield Static("", id="configs-count")
                yield LagTable(id="broker-configs", cursor_type="row", zebra_stripes=True)
                yield Static("", id="config-doc")
            yield DataTable(id="api-versions", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#nodes", DataTable).add_columns(
            "node", "address", "state", "role", "leads", "rack"
        )
        self.query_one(ClusterView).display = self._partitions_shown
        self.query_one("#api-versions", DataTable).add_columns("api", "key", "min", "max")
        configs = self.query_one("#broker-configs", DataTable)
        for label in ("config", "value", "source", "r/o"):
            configs.add_column(label, key=label)

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")
        self._show_versions_or_configs()

    @on(LagTable.Resized, "#broker-configs")
    def _configs_resized(self) -> None:
        """Cut names and values again for the table's new width. The table's own size, not
        the pane's: it changes without the pane's (`v` hides the API versions beside it, the
        `-narrow` rules apply a layout later), and work done after the refresh that follows
        the pane's resize could run before that layout (the screen runs such callbacks on an
        idle that comes before it), cutting for a width the table no longer has."""
        self._show_configs()

    def _show_versions_or_configs(self) -> None:
        """Wide: configs and API versions side by side. Narrow: configs, or (`v`) the API
        versions in their place."""
        narrow = self.has_class("-narrow")
        shown = self._versions_wanted if self._versions_wanted is not None else not narrow
        self.query_one("#api-versions", DataTable).display = shown
        self.query_one("#configs-side").display = not (narrow and shown)

    def action_toggle_versions(self) -> None:
        shown = self.query_one("#api-versions", DataTable).display
        self._versions_wanted = not shown
        self._show_versions_or_configs()
        if self._versions_wanted:
            self.query_one("#api-versions", DataTable).focus()
        else:
            self.query_one("#broker-configs", DataTable).focus()

    # -- the cluster ----------------------------------------------------------------------

    def follow(self, snapshot: ClusterSnapshot) -> None:
        """The timeline misses nothing while another pane is in front."""
        self.query_one(ClusterView).follow(snapshot)

    def show(self, snapshot: ClusterSnapshot) -> None:
        """The host's latest snapshot (each second, and after changes)."""
        cluster = snapshot.cluster
        self._cluster_id = cluster.cluster_id
        self._snapshot = snapshot
        own = own_cluster(self.host.workbench)
        replicated = any(t.replication_factor > 1 for t in snapshot.topics)
        wanted = self._cluster_view_wanted
        partitions_shown = wanted if wanted is not None else replicated or not isinstance(own, str)
        facts = (
            f"cluster id {cluster.cluster_id or '-'} · controller {cluster.controller_id}"
            f" · {len(cluster.brokers)} broker(s) · {len(snapshot.topics)} topic(s)"
        )
        if partitions_shown:  # what matters first, the cluster's id (the longest) last
            under, leaderless = replication_counts(snapshot)
            facts = (
                f"controller {cluster.controller_id} · {len(cluster.brokers)} broker(s) up"
                f" · {under} under-replicated · {leaderless} leaderless"
                f" · cluster id {cluster.cluster_id or '-'}"
            )
        self.query_one("#cluster-facts", Static).update(facts)
        self._show_nodes()
        view = self.query_one(ClusterView)
        if partitions_shown:  # 10,000 rows cost the UI loop: none while the view is hidden
            view.show(snapshot)
        if self._partitions_shown != partitions_shown:
            bottom = self.query_one("#brokers-bottom")
            hiding = bottom if partitions_shown else view
            focused = self.app.focused
            self._partitions_shown = view.display = partitions_shown
            bottom.display = not partitions_shown
            self.refresh_bindings()
            if focused is not None and hiding in focused.ancestors_with_self:
                # Textual drops a focus left on a hidden widget, and the next keys would go
                # nowhere: the brokers' table, shown either way, takes it.
                self.query_one("#nodes", DataTable).focus()
        if snapshot.api_versions != self._shown_versions:
            self._shown_versions = snapshot.api_versions
            versions = self.query_one("#api-versions", DataTable)
            versions.clear()
            for key, (low, high) in sorted(snapshot.api_versions.items()):
                versions.add_row(api_name(key), str(key), str(low), str(high))
        self._follow_node()

    def _show_nodes(self) -> None:
        """The brokers with their state: after each snapshot, and at once after a key."""
        if self._snapshot is None:
            return
        own = own_cluster(self.host.workbench)
        styles = DemoStyles.of(self.app)
        rows = self._states.rows(self._snapshot, None if isinstance(own, str) else own)
        sync_table(
            self.query_one("#nodes", DataTable),
            [
                (
                    key,
                    (
                        cells[0],
                        cells[1],
                        Text(cells[2], styles.text(COLOURS[cells[2]])),
                        *cells[3:],
                    ),
                )
                for key, cells in rows
            ],
        )

    @on(DataTable.RowHighlighted, "#nodes")
    def _node_highlighted(self) -> None:
        self._follow_node()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The configs' keys only with the configs in view (the footer has room for the
        brokers' keys at 80 columns then)."""
        if action in _CONFIG_ACTIONS:
            return not self._partitions_shown
        return True

    def action_toggle_cluster_view(self) -> None:
        self._cluster_view_wanted = not self._partitions_shown
        if self._snapshot is not None:
            self.show(self._snapshot)

    def _node_under_cursor(self) -> str | None:
        return cursor_key(self.query_one("#nodes", DataTable))

    def _record(self, text: str) -> None:
        """Tell the timeline, show the brokers' states now, and ask for a snapshot."""
        self.query_one(ClusterView).record(text)
        self._show_nodes()
        self.post_message(self.ClusterChanged())

    def action_elect_leaders(self) -> None:
        self._elect_leaders()

    @work(exclusive=True, group="elect-leaders")
    async def _elect_leaders(self) -> None:
        """ElectLeaders PREFERRED on every partition; the outcome in the timeline."""
        admin = self.current_admin()
        if admin is None:
            self.notify("not connected to a cluster", title="Brokers", severity="warning")
            return
        self._record("you asked for preferred leaders on every partition")
        try:
            results = await elect_preferred_leaders(admin)
        except KafkaToolError as exc:
            self._record(f"preferred leader election failed: {exc}")
            self.notify(str(exc), title="Brokers", severity="error")
            return
        summary = election_summary(results)
        self._record(summary)
        self.notify(summary, title="Preferred leaders")

    def _follow_node(self) -> None:
        """Fetch the configs of the highlighted node, once (not with every snapshot)."""
        node = cursor_key(self.query_one("#nodes", DataTable))
        if node is None or (self._cluster_id, node) == self._configs_of:
            return
        self._configs_of = (self._cluster_id, node)
        self._configs, self._configs_node = [], None
        self._show_configs()
        self._load_configs(node)

    # -- broker configs -------------------------------------------------------------------

    def action_reload_configs(self) -> None:
        node = cursor_key(self.query_one("#nodes", DataTable))
        if node is None:
            self.notify("no broker to read configs from yet", title="Brokers", severity="warning")
            return
        self._configs_of = (self._cluster_id, node)
        self._load_configs(node)

    @work(exclusive=True, group="broker-configs")
    async def _load_configs(self, node: str) -> None:
        admin = self.current_admin()
        if admin is None:
            if not self._configs:
                self._configs_of = None  # try again with the next snapshot
            return
        self._say(f"broker {node} · loading configs…")
        try:
            configs = await admin.describe_configs(ConfigResourceType.BROKER, node)
        except KafkaToolError as exc:
            self._say(f"broker {node} · configs refused (r retries)", error=True)
            self.notify(f"configs of broker {node}: {exc}", title="Brokers", severity="error")
            return
        if self.app.is_running:  # closing: the pane's tables are going (or gone)
            self.show_configs(node, configs)

    def show_configs(self, node: str, configs: Sequence[ConfigInfo]) -> None:
        """Show `configs` as those of broker `node` (what a DescribeConfigs returned)."""
        self._configs_of = (self._cluster_id, node)
        self._configs_node = node
        self._configs = sorted(configs, key=lambda c: c.name)
        self._show_configs()

    def _say(self, text: str, error: bool = False) -> None:
        count = self.query_one("#configs-count", Static)
        count.update(text)
        count.set_class(error, "-error")

    def _shown(self) -> list[tuple[ConfigInfo, str]]:
        needle = self.query_one("#config-filter", Input).value.strip().lower()
        shown = []
        for config in self._configs:
            value = shown_value(config)
            readable = "" if config.sensitive else reading(config.name, config.value)
            value = f"{value}  {readable}" if readable else value
            if needle and needle not in config.name.lower() and needle not in value.lower():
                continue
            shown.append((config, value))
        return shown

    def _show_configs(self) -> None:
        table = self.query_one("#broker-configs", DataTable)
        shown = self._shown()
        name_width, value_width = self._widths(table, shown)
        sync_table(
            table,
            [
                (
                    config.name,
                    (
                        *config_cells(config, name_width, value_width),
                        "yes" if config.read_only else "",
                    ),
                )
                for config, _ in shown
            ],
        )
        if self._configs_node is not None and self._configs:
            self._say(f"broker {self._configs_node} · {len(shown)} of {len(self._configs)} configs")
        elif self._configs_node is not None:
            self._say(f"broker {self._configs_node} · the broker describes no configs")
        self._describe(cursor_key(table))

    @staticmethod
    def _widths(table: DataTable[object], shown: list[tuple[ConfigInfo, str]]) -> tuple[int, int]:
        """Room for names and values once source and r/o have theirs, so every column stays in
        view at 80 columns (the line under the table shows both in full); values get at least
        two fifths when both are long. (0, 0), no limit, before the table has a size."""
        # The vertical scrollbar's room is kept even before it shows: rows arrive after layout.
        width = table.content_region.width - table.styles.scrollbar_size_vertical
        if table.content_region.width <= 0:
            return 0, 0
        padding = 2 * table.cell_padding
        source = max([6, *(len(source_label(c.source)) for c, _ in shown)]) + padding
        room = width - source - (3 + padding) - 2 * padding
        names = max([6, *(len(c.name) for c, _ in shown)])
        values = max([5, *(len(v) for _, v in shown)])
        if names + values <= room:
            return names, values
        value = max(min(values, room * 2 // 5), _MIN_VALUE_WIDTH)
        name = max(room - value, _MIN_NAME_WIDTH)
        return name, max(room - name, _MIN_VALUE_WIDTH)

    @on(DataTable.RowHighlighted, "#broker-configs")
    def _config_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.row_key.value)

    def _describe(self, name: str | None) -> None:
        """The highlighted config in full: its value (names and values may be cut in the
        table), whether it can change without a restart, and Kafka's documentation of it."""
        config = next((c for c in self._configs if c.name == name), None)
        doc = self.query_one("#config-doc", Static)
        if config is None:
            doc.update("")
            return
        value = shown_value(config)
        text = Text.assemble(
            (config.name, "bold"),
            f" = {value}" if value else " has no value",
            " · read-only" if config.read_only else "",
            f" · {config.documentation}" if config.documentation else "",
        )
        doc.update(text)

    @on(Input.Changed, "#config-filter")
    def _filter_changed(self) -> None:
        self._show_configs()

    @on(Input.Submitted, "#config-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#broker-configs", DataTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#config-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one("#broker-configs", DataTable).focus()
