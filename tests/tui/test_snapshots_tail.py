"""SVG snapshots of the Tail pane and its record detail, at 80x24 and 160x48.

Nothing here varies between runs: the pane tails a `FixedSession`, which hands over 20,000
fixed records in one batch without a broker; timestamps are shown in UTC; the rate's clock is
stopped, so the rate shown is the batch over one second, always "20,000 rec/s". The host app
is the shared one (snapshot_host.py). The Pilot tests in test_tail_pane.py cover the same pane
against a real broker; these catch what it looks like.

Update after an intended change: `pytest tests/tui/test_snapshots_tail.py --snapshot-update`,
then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC
from typing import cast

import pytest
from snapshot_host import SIZE_IDS, SIZES, SMALL, PaneHost, steady
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input
from workbench_pilot import wait_until

from tui.kafka.connection import from_properties
from tui.kafka.models import TopicSelection
from tui.kafka.record_ring import DEFAULT_CAPACITY
from tui.kafka.tail import StartMode, StartPosition, TailRecord, TailSession
from tui.widgets.tail_pane import TailPane

BASE_TS = 1_714_563_000_000  # 2024-05-01 11:30:00 UTC
COUNT = 20_000
PARTITIONS = 3


def fixed_record(i: int) -> TailRecord:
    """Record `i` of the fixed tail: mostly JSON orders; some text, binary, null values and
    headers; the last is JSON with headers and the one before it binary (for the detail)."""
    partition = i % PARTITIONS
    offset = 41_000 + i // PARTITIONS
    timestamp = BASE_TS + i * 3
    key: bytes | None = f"order-{10_000 + i}".encode()
    headers: tuple[tuple[str, bytes | None], ...] = ()
    value: bytes | None
    if i == COUNT - 2 or i % 11 == 5:
        value = bytes((i * 7 + n * 31) % 256 for n in range(40))
    elif i % 17 == 3:
        key, value = None, None
    elif i % 9 == 4:
        value = f"order {10_000 + i} shipped to warehouse {i % 4} (express)".encode()
    else:
        document = {
            "order": 10_000 + i,
            "customer": f"c-{i % 97:03d}",
            "items": [{"sku": f"A-{i % 13}", "qty": 1 + i % 4}],
            "total": round(9.5 + (i % 50) * 1.25, 2),
            "express": i % 5 == 1,
        }
        value = json.dumps(document).encode()
    if i % 4 == 0 or i == COUNT - 1:
        headers = (("source", b"web"), ("trace", f"t-{i:06d}".encode()))
    return TailRecord("orders", partition, offset, timestamp, 0, key, value, headers)


RECORDS = [fixed_record(i) for i in range(COUNT)]


class StoppedClock:
    """Time at rest, moved only when the records are handed over."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FixedSession(TailSession):
    """A tail of RECORDS without a broker: opens at once, hands them over in one batch one
    second after it started (by `clock`), then waits to be closed."""

    def __init__(self, clock: StoppedClock) -> None:
        super().__init__(
            from_properties("snapshot:9092", {}),
            [TopicSelection("orders")],
            StartPosition(StartMode.END),
        )
        self.clock = clock

    async def open(self) -> dict[tuple[str, int], int]:
        self.offsets = {("orders", p): 41_000 for p in range(PARTITIONS)}
        return self.offsets

    async def batches(self) -> AsyncIterator[list[TailRecord]]:
        yield RECORDS
        self.clock.now = 1.0
        await asyncio.Event().wait()


def host(capacity: int = DEFAULT_CAPACITY) -> PaneHost:
    clock = StoppedClock()

    def prepare(pane: Widget) -> None:
        tail = cast(TailPane, pane)
        tail.query_one("#tail-topics", Input).value = "orders"
        tail.run_session(FixedSession(clock))

    pane = TailPane(tz=UTC, clock=clock, capacity=capacity)
    return PaneHost(pane, focus="#tail-log", prepare=prepare)


async def settled(pilot: Pilot[None]) -> None:
    """Until every record is drawn and no filter is running (bounded)."""
    pane = pilot.app.query_one(TailPane)
    await wait_until(
        pilot,
        lambda: pane.drawn_total == COUNT and not pane.view.refiltering and pane.rate.rate == COUNT,
        "the fixed records drawn",
    )
    await pilot.pause(0.2)  # one more tick draws what the last change showed


def snap(
    snap_compare: Callable[..., bool],
    size: tuple[int, int],
    keys: Iterable[str] = (),
    capacity: int = DEFAULT_CAPACITY,
) -> bool:
    async def run_before(pilot: Pilot[None]) -> None:
        await settled(pilot)
        await steady(*keys)(pilot)
        await settled(pilot)

    return bool(snap_compare(host(capacity), terminal_size=size, run_before=run_before))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_tail_pane(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Tailing: the newest record under the cursor, the rate, the counts."""
    assert snap(snap_compare, size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_tail_pane_filtered(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Filter `"express": true` typed: only those orders are kept, and the counts say so."""
    assert snap(snap_compare, size, ["slash", *'"express": true', "enter"])


def test_filter_over_a_buffer_records_have_left(snap_compare: Callable[..., bool]) -> None:
    """A buffer of 1,000 after 20,000 records: the filter's row says, in full at 80 columns,
    that 19,000 have left it and that ^f searches them all on the broker (issue 14)."""
    assert snap(snap_compare, SMALL, ["slash", *'"express": true', "enter"], capacity=1000)


def test_tail_pane_marks_what_the_filter_matches(snap_compare: Callable[..., bool]) -> None:
    """A regex typed: what it matches stands out in the keys and values shown, the cursor
    row's too."""
    assert snap(snap_compare, SMALL, ["slash", "ctrl+r", *r"c-0[12]\d|9986", "enter"])


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_record_detail_json(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """The newest record opened: pretty, highlighted JSON and its two headers."""
    assert snap(snap_compare, size, ["enter"])


def test_record_detail_binary(snap_compare: Callable[..., bool]) -> None:
    """The record before it: a binary value as a hex dump."""
    assert snap(snap_compare, SMALL, ["k", "enter"])


def test_produce_again_dialog(snap_compare: Callable[..., bool]) -> None:
    """`r` in the newest record's detail: the topic to produce it to, its own to start with."""
    assert snap(snap_compare, SMALL, ["enter", "r"])


def test_start_mode_needing_a_value(snap_compare: Callable[..., bool]) -> None:
    """Start "at time" chosen: its value field appears with a hint; the row fits 80 columns."""
    assert snap(snap_compare, SMALL, ["t", "tab", "enter", "down", "down", "down", "enter"])
