"""Brokers pane: the cluster's nodes, its controller and id, the API versions the broker
advertises, and the configs of the broker under the cursor, filtered as you type.

The pane follows the app's snapshot every second without losing the user's place: the node
list changes only when the brokers do, and configs are fetched once per broker (and on `r`),
not every second, so a cluster that refuses DescribeConfigs says so once.
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
from ..kafka.errors import KafkaToolError
from ..kafka.models import ConfigInfo
from ..screens.edit_configs import config_cells, reading, shown_value, source_label
from .lag_table import LagTable
from .pane import Pane
from .table_sync import cursor_key, sync_table

_MIN_VALUE_WIDTH = 12
_MIN_NAME_WIDTH = 20
NARROW = 120
"""Below this many columns the API versions take the configs' place instead of sitting
beside them."""


class BrokersPane(Pane):
    """What the cluster is made of; the configs shown are those of the highlighted node."""

    BINDINGS = [
        Binding("r", "reload_configs", "Reload configs"),
        Binding("slash", "focus_filter", "Filter configs"),
        Binding("v", "toggle_versions", "API versions"),
        Binding("escape", "leave_filter", "Back to list", show=False),
    ]

    DEFAULT_CSS = """
    BrokersPane { height: 1fr; }
    BrokersPane #cluster-facts { height: 1; padding: 0 1; color: $kwb-muted; }
    BrokersPane #nodes { height: auto; max-height: 8; }
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

    def compose(self) -> ComposeResult:
        yield Static("waiting for the cluster…", id="cluster-facts")
        yield DataTable(id="nodes", cursor_type="row", zebra_stripes=True)
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
        self.query_one("#nodes", DataTable).add_columns("node", "host", "port", "rack", "role")
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

    def show(self, snapshot: ClusterSnapshot) -> None:
        """The host's latest snapshot (each second, and after changes)."""
        cluster = snapshot.cluster
        self._cluster_id = cluster.cluster_id
        self.query_one("#cluster-facts", Static).update(
            f"cluster id {cluster.cluster_id or '-'} · controller {cluster.controller_id}"
            f" · {len(cluster.brokers)} broker(s) · {len(snapshot.topics)} topic(s)"
        )
        nodes = self.query_one("#nodes", DataTable)
        sync_table(
            nodes,
            [
                (
                    str(broker.node_id),
                    (
                        str(broker.node_id),
                        broker.host,
                        str(broker.port),
                        broker.rack or "-",
                        "controller" if broker.node_id == cluster.controller_id else "",
                    ),
                )
                for broker in cluster.brokers
            ],
        )
        if snapshot.api_versions != self._shown_versions:
            self._shown_versions = snapshot.api_versions
            versions = self.query_one("#api-versions", DataTable)
            versions.clear()
            for key, (low, high) in sorted(snapshot.api_versions.items()):
                versions.add_row(api_name(key), str(key), str(low), str(high))
        self._follow_node()

    @on(DataTable.RowHighlighted, "#nodes")
    def _node_highlighted(self) -> None:
        self._follow_node()

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
