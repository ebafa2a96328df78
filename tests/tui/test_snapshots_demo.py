"""SVG snapshots of the rebalance demo pane, at 80x24 and 160x48.

The pane is handed a fixed DemoView (no broker, no engine: nothing moves), taken at the moment
the demo is about: consumer-2 was killed a few seconds ago, so P2 and P3 are orphaned while the
broker waits out the session; consumer-4 is paused; the story's caption is up. Times in the
timeline are relative to the demo's start, so they never vary. The Pilot tests in
test_demo_pane.py cover the same pane against a real broker.

Update after an intended change: `pytest tests/tui/test_snapshots_demo.py --snapshot-update`,
then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from snapshot_host import SIZE_IDS, SIZES, PaneHost, snap_pane
from textual.widget import Widget

from tui.kafka.demo_events import TimelineEntry
from tui.kafka.demo_view import ConsumerRow, DemoView, PartitionRow
from tui.widgets.demo_pane import DemoPane

CAPTION = (
    "5/12  consumer-2 is killed: no goodbye, like kill -9 or a pulled cable. The broker still"
    " thinks it owns its partitions, so nobody reads them: they are orphaned and their lag"
    " grows."
)


def _history(*values: int) -> tuple[int, ...]:
    return tuple(values)


STEADY = _history(0, 1, 2, 1, 0, 1, 2, 2, 1, 0, 1, 2, 1, 1, 0, 2, 1, 2, 1, 0, 1, 2, 1, 2)
CLIMBING = _history(1, 2, 1, 0, 1, 2, 1, 2, 1, 2, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25)


def orphaned_view() -> DemoView:
    consumers = (
        ConsumerRow("consumer-1", 1, "running", (0, 1), 1_412, 50, leader=True),
        ConsumerRow("consumer-2", 2, "killed", (2, 3), 1_288, 50, expires_in_s=3.0),
        ConsumerRow("consumer-3", 3, "running", (4,), 1_106, 50),
        ConsumerRow("consumer-4", 4, "paused", (5,), 240, 50),
    )
    partitions = (
        PartitionRow(0, "consumer-1", 1, "consuming", 0, 742, 740, 742, STEADY),
        PartitionRow(1, "consumer-1", 1, "consuming", 0, 738, 737, 738, STEADY),
        PartitionRow(2, "consumer-2", 2, "orphaned", 0, 741, 712, 719, CLIMBING),
        PartitionRow(3, "consumer-2", 2, "orphaned", 0, 737, 709, 715, CLIMBING),
        PartitionRow(4, "consumer-3", 3, "consuming", 0, 739, 738, 739, STEADY),
        PartitionRow(5, "consumer-4", 4, "paused", 0, 736, 722, 722, CLIMBING[:-4]),
    )
    entries = [
        (0, "action", "demo starts: topic demo-orders (6 partitions), group demo-group,"
         " session.timeout.ms 6000, sticky assignor"),
        (2_100, "join", "consumer-1 joined the group"),
        (2_100, "rebalance", "rebalance starts: consumer-1 joins"),
        (2_300, "stable", "generation 3 stable (leader consumer-1): consumer-1 ← P0 P1 ·"
         " consumer-2 ← P2 P3 · consumer-3 ← P4 P5"),
        (14_000, "action", "consumer-4 starts and asks to join demo-group"),
        (14_100, "join", "consumer-4 joined the group"),
        (14_100, "rebalance", "rebalance starts (generation 3 ends): consumer-4 joins"),
        (14_600, "stable", "generation 4 stable (leader consumer-1): consumer-1 ← P0 P1 ·"
         " consumer-2 ← P2 P3 · consumer-3 ← P4 · consumer-4 ← P5"),
        (14_600, "resume", "consumer-4 takes over P5 from consumer-3 at offset 402, the group's"
         " last committed offset"),
        (21_500, "action", "consumer-4 paused: still heartbeating, so it keeps its partitions"),
        (26_000, "action", "consumer-2 killed: no LeaveGroup, no last commit. The broker"
         " notices only when session.timeout.ms (6 s) passes without a heartbeat"),
    ]  # fmt: skip
    return DemoView(
        "demo-group",
        "demo-orders",
        "Stable",
        4,
        6000,
        "broker",
        consumers,
        partitions,
        tuple(TimelineEntry(at, kind, text) for at, kind, text in entries),
        0,
        20.0,
        0,
        True,
    )


def host(caption: str = "", view: Callable[[], DemoView] | None = None) -> PaneHost:
    def prepare(pane: Widget) -> None:
        assert isinstance(pane, DemoPane)
        pane.caption = caption
        if view is not None:
            pane.show_view(view())

    return PaneHost(DemoPane(), focus="#demo-consumers", prepare=prepare)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_demo_pane_before_it_starts(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """What `s` will do, and the keys."""
    assert snap_pane(snap_compare, host, size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_demo_pane_with_an_orphaned_partition(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """consumer-2 killed (its partitions flagged), consumer-4 paused, the caption up; the
    cursor on consumer-2, where the `k` that killed it was pressed."""
    assert snap_pane(snap_compare, lambda: host(CAPTION, orphaned_view), size, ["down"])
