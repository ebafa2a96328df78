"""SVG snapshots of the Generator pane, at 80x24 and 160x48: idle, and with generators.

No broker and no fleet: `prepare` feeds the pane fixed GeneratorViews (made-up windows and
totals), so nothing depends on rates or timing. The Pilot tests in test_generator_pane.py run
real generators; these catch what the pane looks like. Host and sizes: snapshot_host.py.
Update after an intended change:
`pytest tests/tui/test_snapshots_generator.py --snapshot-update`, then look at the SVGs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from snapshot_host import SIZE_IDS, SIZES, SMALL, PaneHost, snap_pane
from textual.widget import Widget

from tui.kafka.generator import GeneratorSpec, GeneratorView, Point
from tui.kafka.perf.producer import ProducerTotals
from tui.widgets.generator_pane import GeneratorPane


def points(rate: float, size: int, count: int = 90) -> tuple[Point, ...]:
    """A warm-up ramp, then `rate` with a slow wobble; latency that spikes now and then."""
    made = []
    for second in range(count):
        warm = min(1.0, (second + 1) / 5)
        records = rate * warm * (1 + 0.04 * math.sin(second / 3))
        p50 = 3 + second % 4
        p99 = 12 + 4 * (second % 7) + (30 if second % 23 == 0 else 0)
        made.append(Point(records, records * size / 1024 / 1024, p50, p99))
    return tuple(made)


def totals(sent: int, seconds: float, size: int) -> ProducerTotals:
    return ProducerTotals(
        records_sent=sent,
        records_per_sec=sent / seconds,
        mb_per_sec=sent * size / seconds / 1024 / 1024,
        avg_latency_ms=4.62,
        max_latency_ms=61.0,
        p50_ms=4,
        p95_ms=11,
        p99_ms=24,
        p999_ms=52,
        elapsed_ms=seconds * 1000,
    )


def views() -> list[GeneratorView]:
    orders = GeneratorSpec(
        "orders",
        1000.0,
        200,
        "json",
        "distinct",
        10,
        (("source", b"kwb"), ("env", b"demo")),
        "lz4",
        "all",
    )
    clicks = GeneratorSpec("clickstream-raw", None, 100, "random", "none", acks="1")
    payments = GeneratorSpec("payments", 50.0, 0, "sequence", "round-robin", 3)
    return [
        GeneratorView(1, orders, "running", points(1000, 200), totals(89_412, 90.1, 200)),
        GeneratorView(2, clicks, "running", points(48_000, 100, 40), totals(1_712_300, 40.2, 100)),
        GeneratorView(3, payments, "stopped", points(50, 2, 30), totals(1_500, 30.0, 2)),
    ]


def feed(pane: Widget) -> None:
    assert isinstance(pane, GeneratorPane)
    pane.show_generators(views())


def idle() -> PaneHost:
    return PaneHost(GeneratorPane(), focus="#gen-start")


def busy() -> PaneHost:
    return PaneHost(GeneratorPane(), focus="#gen-table", prepare=feed)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_generator_pane_idle(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """No generator yet: a hint where the charts go, and the form."""
    assert snap_pane(snap_compare, idle, size)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_generator_pane_running(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """Three generators; the first (1000/s JSON, 10 keys) charted with its summary line."""
    assert snap_pane(snap_compare, busy, size)


def test_generator_pane_second_selected(snap_compare: Callable[..., bool]) -> None:
    """The cursor on the unlimited generator: its charts and summary replace the first's."""
    assert snap_pane(snap_compare, busy, SMALL, ["down"])
