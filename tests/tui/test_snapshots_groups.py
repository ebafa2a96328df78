"""SVG snapshots of the Groups pane, a group's detail, the reset dialog with its dry run, and
the offsets view, at 80x24 and 160x48.

Nothing here varies between runs: no broker (the pane's poller finds no admin and waits), the
pane is fed a fixed series of group samples whose clock starts at 1000 s, so trends, charts
and "seconds ago" come out the same every time; the dialogs and the offsets view are given
fixed readings the same way their workers would give them. The Pilot tests in
test_groups_pane.py cover the same screens against a real broker and real consumers.

Update after an intended change: `pytest tests/tui/test_snapshots_groups.py --snapshot-update`,
then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import pytest
from snapshot_host import SIZE_IDS, SIZES, SMALL, PaneHost, steady, stop_blinking
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input, Select

from tui.kafka.group_lag import PartitionLag
from tui.kafka.lag_history import GroupLag, GroupsSample
from tui.kafka.models import GroupInfo, GroupListing, MemberInfo
from tui.kafka.reset_preview import ResetPreview, ResetRow
from tui.kafka.topic_offsets import GroupMark, PartitionRange, TopicOffsets
from tui.screens.offsets_view import OffsetsScreen
from tui.screens.reset_offsets import ResetOffsetsScreen
from tui.widgets.groups_pane import GroupsPane

SAMPLES = 40
"""Seconds of fixed history: samples at 1000 s, 1001 s, …"""


def member(name: str, index: int, assignment: dict[str, list[int]]) -> MemberInfo:
    return MemberInfo(
        f"{name}-0000000{index}-aaaa-bbbb-cccc-dddddddddddd", None, name, "/10.0.0.7", assignment
    )


def group(
    group_id: str,
    state: str,
    protocol: str,
    members: tuple[MemberInfo, ...],
    lags: list[tuple[str, int, int, int, MemberInfo | None]],
) -> GroupLag:
    """A group whose partitions are (topic, partition, committed, log end, owner)."""
    partitions = tuple(
        PartitionLag(group_id, topic, partition, committed, end, None, owner)
        for topic, partition, committed, end, owner in lags
    )
    return GroupLag(
        GroupListing(group_id, state, "consumer"),
        GroupInfo(group_id, state, "consumer", protocol, members),
        partitions,
    )


def sample_at(second: int) -> GroupsSample:
    """The cluster's groups `second` seconds into the fixed history.

    orders-app: three consumers; partition 4's consumer stalls at second 20 and its lag
    climbs. clickstream-etl: rebalancing, nobody owns anything, lag grows. billing: no
    members, a constant lag. audit-archiver: keeps up, lag 0.
    """
    a = member("orders-worker-1", 1, {"orders": [0, 1]})
    b = member("orders-worker-2", 2, {"orders": [2, 3]})
    c = member("orders-worker-3", 3, {"orders": [4, 5]})
    owners = [a, a, b, b, c, c]
    stalled = max(second - 20, 0)
    orders = [
        (
            "orders",
            p,
            200_000 + 500 * second - (7 * stalled * stalled if p == 4 else (p * 13 + second) % 40),
            200_000 + 500 * second + 20,
            owners[p],
        )
        for p in range(6)
    ]
    clicks = [
        (
            "clickstream-raw",
            p,
            1_500_000 + 900 * p,
            1_500_000 + 900 * p + 150 * second + 60 * p,
            None,
        )
        for p in range(4)
    ]
    etl = (member("etl-1", 1, {}), member("etl-2", 2, {}))
    billing = [("payments", p, 2_000 + 100 * p, 2_800 + 100 * p, None) for p in range(3)]
    auditor = member("audit-archiver", 1, {"audit-log": [0]})
    return GroupsSample(
        1000.0 + second,
        (
            group(
                "audit-archiver", "Stable", "range", (auditor,), [("audit-log", 0, 0, 0, auditor)]
            ),
            group("billing", "Empty", "", (), billing),
            group("clickstream-etl", "PreparingRebalance", "cooperative-sticky", etl, clicks),
            group("orders-app", "Stable", "range", (a, b, c), orders),
        ),
    )


def feed(pane: Widget) -> None:
    assert isinstance(pane, GroupsPane)
    for second in range(SAMPLES):
        pane.take(sample_at(second))


def host() -> PaneHost:
    return PaneHost(GroupsPane(), focus="#group-list", prepare=feed)


ORDERS_OFFSETS = TopicOffsets(
    "orders",
    tuple(
        PartitionRange(
            p,
            150_000 + 4_000 * p,
            219_520 - 3_000 * (p % 3),
            (
                GroupMark("orders-app", 219_500 - 3_000 * (p % 3) - (2_800 if p == 4 else 0)),
                GroupMark("replay-audit", 160_000 + 9_000 * p),
            ),
        )
        for p in range(6)
    ),
    ("orders-app", "replay-audit"),
)


def retention_moved(offsets: TopicOffsets) -> TopicOffsets:
    """The same topic after retention (and a DeleteRecords on partition 0) moved log starts."""
    moved = tuple(
        PartitionRange(
            p.partition,
            p.log_start + (30_000 if p.partition == 0 else 6_000),
            p.high_watermark,
            p.marks,
        )
        for p in offsets.partitions
    )
    return TopicOffsets(offsets.topic, moved, offsets.groups)


BILLING_PREVIEW = ResetPreview(
    "billing",
    "Empty",
    (
        ResetRow("payments", 0, 2_000, 1_900),
        ResetRow("payments", 1, 2_100, 2_000),
        ResetRow("payments", 2, 2_200, 2_100),
    ),
)
ORDERS_PREVIEW = ResetPreview(
    "orders-app",
    "Stable",
    tuple(ResetRow("orders", p, 219_500 - 40 * p, 150_000 + 4_000 * p) for p in range(6)),
    ("orders-3: 100 is lower than earliest offset, set to 162,000",),
)


def then(
    keys: Iterable[str], act: Callable[[Pilot[None]], Awaitable[None]]
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Press `keys` (cursors steadied), do `act`, and let the screen settle."""

    async def run(pilot: Pilot[None]) -> None:
        await steady(*keys)(pilot)
        await act(pilot)
        await pilot.pause()
        await stop_blinking(pilot)

    return run


async def show_billing_preview(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, ResetOffsetsScreen)
    screen.query_one("#reset-strategy", Select).value = "shift"
    await pilot.pause()
    screen.query_one("#reset-value", Input).value = "-100"
    await pilot.pause()
    screen.show_preview(BILLING_PREVIEW)


async def show_refused_preview(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, ResetOffsetsScreen)
    screen.show_preview(ORDERS_PREVIEW)


async def show_offsets(pilot: Pilot[None]) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, OffsetsScreen)
    screen.show_offsets(ORDERS_OFFSETS)
    await pilot.pause()
    screen.show_offsets(retention_moved(ORDERS_OFFSETS))


async def nothing(_pilot: Pilot[None]) -> None:
    pass


ORDERS_ROW = ["down", "down", "down"]
BILLING_ROW = ["down"]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_groups_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Four groups in their four states sorted by name, lag trends, every group's lag over
    40 s, and the filter field above the list."""
    assert snap_compare(host(), terminal_size=size, run_before=then([], nothing))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_groups_pane_filtered_and_sorted_by_lag(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """Sorted by lag (biggest first), filtered with a regex that leaves audit-archiver out;
    the cursor stayed on orders-app through both, and the chart follows the filter."""
    keys = [*ORDERS_ROW, "s", "s", "s", "s", "slash", *"^(b|c|o)", "enter"]
    assert snap_compare(host(), terminal_size=size, run_before=then(keys, nothing))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_group_detail(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """orders-app: partition 4 stalls, its lag climbs in the table, the trend and the chart."""
    keys = [*ORDERS_ROW, "enter"]
    assert snap_compare(host(), terminal_size=size, run_before=then(keys, nothing))


def test_group_detail_of_a_rebalancing_group(snap_compare: Callable[..., bool]) -> None:
    """clickstream-etl: members without assignments, every partition owned by none."""
    keys = ["down", "down", "enter"]
    assert snap_compare(host(), terminal_size=SMALL, run_before=then(keys, nothing))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_reset_dialog_with_dry_run(
    snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    """billing (Empty): shift by -100, current → new for each partition."""
    keys = [*BILLING_ROW, "r"]
    assert snap_compare(host(), terminal_size=size, run_before=then(keys, show_billing_preview))


def test_reset_dialog_refused_for_an_active_group(snap_compare: Callable[..., bool]) -> None:
    """orders-app (Stable): the dry run is shown, with Kafka's reason it will be refused."""
    keys = [*ORDERS_ROW, "r"]
    assert snap_compare(host(), terminal_size=SMALL, run_before=then(keys, show_refused_preview))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_offsets_view(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """orders: two groups' markers; retention moved every log start (grey) since opening."""
    keys = [*ORDERS_ROW, "o"]
    assert snap_compare(host(), terminal_size=size, run_before=then(keys, show_offsets))
