"""Brokers pane: the cluster's nodes, its controller and id, the API versions the broker
advertises, and the broker's configs with a filter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kio.schema.index import api_key_map
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static

from ..kafka.admin import BROKER_RESOURCE
from ..kafka.cluster import ClusterSnapshot
from ..kafka.errors import KafkaToolError
from ..kafka.models import ConfigInfo

if TYPE_CHECKING:
    from ..app import WorkbenchApp


def api_name(key: int) -> str:
    """The name Kafka's docs and tools use for an API ("ListOffsets", not "list_offsets")."""
    name = api_key_map.get(key)
    return "".join(word.capitalize() for word in name.split("_")) if name else f"unknown ({key})"


class BrokersPane(Vertical):
    """What the cluster is made of; broker configs are fetched once and on `r`."""

    BINDINGS = [("r", "reload_configs", "Reload configs"), ("/", "focus_filter", "Filter")]

    DEFAULT_CSS = """
    BrokersPane { height: 1fr; }
    BrokersPane #cluster-facts { height: 1; padding: 0 1; color: $kwb-muted; }
    BrokersPane #brokers-top { height: 12; }
    BrokersPane #nodes { width: 1fr; }
    BrokersPane #api-versions { width: 1fr; }
    BrokersPane #config-filter { margin: 0 0; }
    BrokersPane #broker-configs { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(id="brokers-pane")
        self._configs: list[ConfigInfo] = []
        self._shown_versions: dict[int, tuple[int, int]] = {}

    @property
    def workbench_app(self) -> WorkbenchApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("waiting for the cluster…", id="cluster-facts")
        with Horizontal(id="brokers-top"):
            yield DataTable(id="nodes", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="api-versions", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="filter broker configs (name or value)", id="config-filter")
        yield DataTable(id="broker-configs", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#nodes", DataTable).add_columns("node", "host", "port", "rack", "role")
        self.query_one("#api-versions", DataTable).add_columns("api", "key", "min", "max")
        self.query_one("#broker-configs", DataTable).add_columns(
            "config", "value", "source", "read-only"
        )

    def show(self, snapshot: ClusterSnapshot) -> None:
        cluster = snapshot.cluster
        self.query_one("#cluster-facts", Static).update(
            f"cluster id {cluster.cluster_id}   controller {cluster.controller_id}   "
            f"{len(cluster.brokers)} broker(s)   {len(snapshot.topics)} topic(s)"
        )
        nodes = self.query_one("#nodes", DataTable)
        nodes.clear()
        for broker in cluster.brokers:
            role = "controller" if broker.node_id == cluster.controller_id else ""
            nodes.add_row(
                str(broker.node_id), broker.host, str(broker.port), broker.rack or "-", role
            )
        if snapshot.api_versions != self._shown_versions:
            self._shown_versions = snapshot.api_versions
            versions = self.query_one("#api-versions", DataTable)
            versions.clear()
            for key, (low, high) in sorted(snapshot.api_versions.items()):
                versions.add_row(api_name(key), str(key), str(low), str(high))
        if not self._configs:
            self.action_reload_configs()

    @work(exclusive=True, group="broker-configs")
    async def action_reload_configs(self) -> None:
        admin = self.workbench_app.admin
        snapshot = self.workbench_app.snapshot
        if admin is None or snapshot is None or not snapshot.cluster.brokers:
            return
        node = snapshot.cluster.brokers[0].node_id
        try:
            self._configs = await admin.describe_configs(BROKER_RESOURCE, str(node))
        except KafkaToolError as exc:
            self.notify(str(exc), title="Broker configs", severity="error")
            return
        self._show_configs()

    @on(Input.Changed, "#config-filter")
    def _filter_changed(self) -> None:
        self._show_configs()

    def _show_configs(self) -> None:
        needle = self.query_one("#config-filter", Input).value.strip().lower()
        table = self.query_one("#broker-configs", DataTable)
        table.clear()
        for config in self._configs:
            value = "(sensitive)" if config.sensitive else (config.value or "")
            if needle and needle not in config.name.lower() and needle not in value.lower():
                continue
            table.add_row(
                config.name,
                value,
                config.source.lower().replace("_", " "),
                "yes" if config.read_only else "",
            )

    def action_focus_filter(self) -> None:
        self.query_one("#config-filter", Input).focus()
