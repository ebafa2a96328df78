"""SVG snapshots of the Brokers pane and the app-level screens (help, clusters), at 80x24 and
160x48.

Nothing here varies between runs: the pane is fed one fixed ClusterSnapshot (three brokers,
a frozen table of API versions) and a fixed list of broker configs, as DescribeConfigs would
return them; no broker runs, so no ports, cluster ids or data paths change. The Pilot tests in
test_app.py cover the same pane against a real broker; these catch what it looks like.

Update after an intended change:
`pytest tests/tui/test_snapshots_brokers.py --snapshot-update`, then look at the SVGs under
__snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import pytest
from snapshot_host import (
    SIZE_IDS,
    SIZES,
    SMALL,
    PaneHost,
    columns_fit_cells,
    fixed_snapshot,
    rows_fit_width,
    snap_pane,
)
from textual.app import App
from textual.widget import Widget
from textual.widgets import DataTable

from localbroker.public import ConfigSource
from tui.kafka.cluster import ClusterSnapshot
from tui.kafka.models import BrokerNode, ClusterInfo, ConfigInfo
from tui.panes import PaneSpec
from tui.profiles import Profile
from tui.screens.help import HelpScreen
from tui.screens.profiles import ProfilesScreen
from tui.widgets.brokers_pane import BrokersPane

STATIC, DEFAULT, DYNAMIC = (
    ConfigSource.STATIC_BROKER_CONFIG,
    ConfigSource.DEFAULT_CONFIG,
    ConfigSource.DYNAMIC_BROKER_CONFIG,
)
LOG_CLEANER_DOC = "The maximum time a message will remain ineligible for compaction in the log."

BROKER_CONFIGS = [
    ConfigInfo("advertised.listeners", "PLAINTEXT://kafka-2.internal:9092", STATIC, True),
    ConfigInfo("auto.create.topics.enable", "true", DEFAULT, True),
    ConfigInfo("broker.id", "2", STATIC, True),
    ConfigInfo("broker.rack", "eu-west-1b", STATIC, True),
    ConfigInfo("compression.type", "producer", DEFAULT),
    ConfigInfo("default.replication.factor", "3", STATIC, True),
    ConfigInfo("delete.topic.enable", "true", DEFAULT, True),
    ConfigInfo("group.initial.rebalance.delay.ms", "3000", DEFAULT, True),
    ConfigInfo("listeners", "PLAINTEXT://0.0.0.0:9092", STATIC, True),
    ConfigInfo(
        "log.cleaner.max.compaction.lag.ms",
        "9223372036854775807",
        DEFAULT,
        False,
        documentation=LOG_CLEANER_DOC,
    ),
    ConfigInfo("log.cleanup.policy", "delete", DEFAULT),
    ConfigInfo("log.dirs", "/var/lib/kafka/data-1,/var/lib/kafka/data-2", STATIC, True),
    ConfigInfo("log.retention.bytes", "-1", DEFAULT),
    ConfigInfo("log.retention.hours", "168", DEFAULT, True),
    ConfigInfo("log.retention.ms", "604800000", DYNAMIC),
    ConfigInfo("log.segment.bytes", "1073741824", DEFAULT),
    ConfigInfo("message.max.bytes", "1048588", DEFAULT),
    ConfigInfo("min.insync.replicas", "2", STATIC),
    ConfigInfo("num.io.threads", "8", DEFAULT),
    ConfigInfo("num.network.threads", "3", DEFAULT),
    ConfigInfo("num.partitions", "6", STATIC, True),
    ConfigInfo("offsets.topic.replication.factor", "3", STATIC, True),
    ConfigInfo("remote.log.manager.copier.thread.pool.size", "10", DEFAULT, True),
    ConfigInfo("sasl.jaas.config", None, STATIC, False, sensitive=True),
    ConfigInfo("ssl.keystore.location", "/etc/kafka/secrets/kafka.keystore.jks", STATIC),
    ConfigInfo("transaction.state.log.replication.factor", "3", STATIC, True),
    ConfigInfo("unclean.leader.election.enable", "false", DEFAULT),
    ConfigInfo("zookeeper.connect", None, DEFAULT, True),
]


def three_brokers() -> ClusterSnapshot:
    """The fixed snapshot on a cluster of three racked brokers, node 2 the controller."""
    brokers = tuple(
        BrokerNode(node, f"kafka-{node}.internal", 9092, f"eu-west-1{rack}")
        for node, rack in ((1, "a"), (2, "b"), (3, "c"))
    )
    return replace(fixed_snapshot(), cluster=ClusterInfo("q2LsZ4fNT1eYxh1pUoJv0w", 2, brokers))


def host(screen: Callable[[Widget], None] | None = None) -> PaneHost:
    """The pane with broker 1's configs; `screen` then opens a screen over it."""

    def prepare(pane: Widget) -> None:
        assert isinstance(pane, BrokersPane)
        pane.show_configs("1", BROKER_CONFIGS)
        if screen is not None:
            screen(pane)

    return PaneHost(BrokersPane(), focus="#nodes", snapshot=three_brokers(), prepare=prepare)


def configs_laid_out(app: App[None]) -> bool:
    """The configs cut to the table's width (the pane does it after the refresh that sizes
    it) and the table's columns measured again for the cut cells (DataTable does it on
    idle): before both, the picture has columns scrolled out of view."""
    table = app.screen_stack[0].query_one("#broker-configs", DataTable)
    return table.row_count > 0 and columns_fit_cells(table) and rows_fit_width(table)


def snap(
    snap_compare: Callable[..., bool],
    size: tuple[int, int],
    keys: Iterable[str] = (),
    screen: Callable[[Widget], None] | None = None,
) -> bool:
    return snap_pane(snap_compare, lambda: host(screen), size, keys, until=configs_laid_out)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_brokers_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Nodes with the controller marked, API versions, broker 1's configs; long names and
    values cut to keep every column in view; the sensitive one hidden."""
    assert snap(snap_compare, size)


def test_brokers_pane_filtered(snap_compare: Callable[..., bool]) -> None:
    """`/` then `retention`: only matching configs; enter goes back to the list, whose first
    row's documentation shows below it."""
    assert snap(snap_compare, SMALL, ["slash", *"retention", "enter"])


def test_brokers_pane_config_documentation(snap_compare: Callable[..., bool]) -> None:
    """The highlighted config in full under the table, with Kafka's documentation of it."""
    keys = ["slash", *"compaction", "enter"]
    assert snap(snap_compare, (160, 48), keys)


def push_help(pane: Widget) -> None:
    """Over the Brokers pane, with its keys only: the other panes' keys are theirs to change
    (test_app.py opens the help with every pane)."""
    pane.app.push_screen(HelpScreen([PaneSpec("brokers", "Brokers", "1", BrokersPane)]))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_help_screen(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """The keys that work everywhere, then each pane's keys (read from its BINDINGS)."""
    assert snap(snap_compare, size, screen=push_help)


def push_profiles(pane: Widget) -> None:
    profiles = {
        "local": Profile("local", None, "green"),
        "staging": Profile("staging", "kafka-staging-1:9092,kafka-staging-2:9092", "yellow"),
        "prod": Profile("prod", "b-1.prod.kafka.eu-west-1.amazonaws.com:9096", "red"),
    }
    pane.app.push_screen(ProfilesScreen(profiles, "local"))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_profiles_screen(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """ctrl+o: every profile in its colour, the current one marked."""
    assert snap(snap_compare, size, screen=push_profiles)


def test_add_profile_screen(snap_compare: Callable[..., bool]) -> None:
    """`a` in the clusters screen: the new-profile form, a colour proposed."""
    assert snap(snap_compare, SMALL, ["a"], screen=push_profiles)
