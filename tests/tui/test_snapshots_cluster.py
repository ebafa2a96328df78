"""SVG snapshots of the Brokers pane on a replicated cluster, at 80x24 and 160x48: a broker
gone (offline), the controller moved, a leader moved, ISRs shrunk (under-replicated) and a
partition left without a leader, each told in the timeline.

Nothing here varies between runs: the pane is fed two fixed ClusterSnapshots, before and
after broker 1 died, with fixed times (the timeline says "+4.5s"); no broker runs.
test_brokers_pane_cluster.py covers the same pane on a real cluster.

Update after an intended change:
`pytest tests/tui/test_snapshots_cluster.py --snapshot-update`, then look at the SVGs under
__snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from snapshot_host import SIZE_IDS, SIZES, PaneHost, snap_pane
from textual.app import App
from textual.widget import Widget
from textual.widgets import DataTable

from tui.kafka.cluster import ClusterSnapshot, PartitionStats, TopicStats
from tui.kafka.models import BrokerNode, ClusterInfo
from tui.widgets.brokers_pane import BrokersPane
from tui.widgets.cluster_view import ClusterView

BROKERS = tuple(BrokerNode(node, f"kafka-{node}.internal", 9092) for node in (1, 2, 3))
Layout = dict[int, tuple[int, tuple[int, ...], tuple[int, ...]]]
"""partition -> (leader, replicas, isr)."""


def snapshot(
    taken_at: float, brokers: tuple[int, ...], controller: int, orders: Layout
) -> ClusterSnapshot:
    def partitions(layout: Layout) -> tuple[PartitionStats, ...]:
        return tuple(
            PartitionStats(p, leader, replicas, isr, 0, 100 * (p + 1), None)
            for p, (leader, replicas, isr) in sorted(layout.items())
        )

    offsets = {p: (1 + p % 3, (1, 2, 3), (1, 2, 3)) for p in range(6)}
    if 1 not in brokers:
        offsets = {
            p: (2 if leader == 1 else leader, r, (2, 3)) for p, (leader, r, _) in offsets.items()
        }
    return ClusterSnapshot(
        taken_at,
        ClusterInfo(
            "q2LsZ4fNT1eYxh1pUoJv0w", controller, tuple(b for b in BROKERS if b.node_id in brokers)
        ),
        (
            TopicStats(
                "__consumer_offsets", "AAAAAAAAAAAAAAAAAAAAAA", True, 3, partitions(offsets)
            ),
            TopicStats("orders", "BBBBBBBBBBBBBBBBBBBBBB", False, 3, partitions(orders)),
            TopicStats(
                "payments", "CCCCCCCCCCCCCCCCCCCCCC", False, 1, partitions({0: (3, (3,), (3,))})
            ),
        ),
    )


BEFORE = snapshot(
    100.0,
    (1, 2, 3),
    1,
    {0: (1, (1, 2, 3), (1, 2, 3)), 1: (2, (2, 3, 1), (2, 3, 1)), 2: (1, (1,), (1,))},
)
AFTER = snapshot(
    104.5,
    (2, 3),
    2,
    {0: (2, (1, 2, 3), (2, 3)), 1: (2, (2, 3, 1), (2, 3)), 2: (-1, (1,), (1,))},
)


def host() -> PaneHost:
    def prepare(pane: Widget) -> None:
        assert isinstance(pane.app, PaneHost)
        pane.app.snapshot = AFTER  # as the workbench hands it on: the pane follows and shows it

    return PaneHost(BrokersPane(), focus="#nodes", snapshot=BEFORE, prepare=prepare)


def after_shown(app: App[None]) -> bool:
    view = app.screen_stack[0].query_one(ClusterView)
    return view.display and app.screen_stack[0].query_one("#nodes", DataTable).row_count == 3


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_brokers_pane_on_a_cluster(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """Broker 1 offline; controller 2; orders-0 and -1 under-replicated, orders-2 without a
    leader; the timeline: broker 1 left, the controller and leaders moved, ISRs shrank
    (__consumer_offsets' told in one line)."""
    assert snap_pane(snap_compare, host, size, until=after_shown)
