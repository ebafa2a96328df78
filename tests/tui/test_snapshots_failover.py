"""SVG snapshots of the failover demo's pane at its opening step, at 80x24 and 160x48.

The pane is handed a fixed FailoverView (no cluster, no engine: nothing moves): three brokers
running, the demo partition's leader on node 1 with the whole ISR, the producer and the
consumer not started yet, the first step's caption up and waiting for space. Times in the
timeline are relative to the demo's start. test_failover_demo.py plays the story on a real
cluster.

Update after an intended change: `pytest tests/tui/test_snapshots_failover.py --snapshot-update`,
then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from snapshot_host import SIZE_IDS, SIZES, PaneHost, snap_pane
from textual.widget import Widget

from tui.failover import story
from tui.kafka.demo_events import TimelineEntry
from tui.kafka.failover_demo import FailoverSettings, FailoverView, NodeRow
from tui.kafka.failover_ledger import FailoverLedger
from tui.story import NEXT_HINT
from tui.widgets.failover_pane import FailoverPane

SETTINGS = FailoverSettings(broker_session_timeout_ms=6000)


def opening_view() -> FailoverView:
    nodes = (
        NodeRow(0, "running", True, "follower"),
        NodeRow(1, "running", True, "leader"),
        NodeRow(2, "running", True, "follower"),
    )
    started = TimelineEntry(
        0,
        "action",
        "demo starts: topic demo-payments (1 partition, replication factor 3,"
        " min.insync.replicas 2), a producer with acks=all sending 20 records/s, a consumer"
        " in group demo-failover",
    )
    return FailoverView(
        SETTINGS, nodes, 1, (1, 2, 0), 0, FailoverLedger().tally(), (), (started,), 0
    )


def host() -> PaneHost:
    caption = f"1/{len(story(SETTINGS))}  {story(SETTINGS)[0].caption}{NEXT_HINT}"

    def prepare(pane: Widget) -> None:
        assert isinstance(pane, FailoverPane)
        pane.caption = caption
        pane.show_view(opening_view())

    return PaneHost(FailoverPane(), prepare=prepare)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_failover_pane_at_the_opening_step(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """The cluster whole, the leader marked, the ledger empty and lost not counted yet."""
    assert snap_pane(snap_compare, host, size)
