"""SVG snapshots of the Search pane, at 80x24 and 160x48: a finished search of fixed records.

No broker: the pane is given a TopicSearch that never ran, its progress set by hand (a
finished search of 1,234,567 records in 2.5 s) and three matches, so nothing varies between
runs. test_search_pane.py covers the same pane against a real broker; these catch what it
looks like. Update after an intended change: `pytest tests/tui/test_snapshots_search.py
--snapshot-update`, then look at the SVGs under __snapshots__ before committing them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import cast

import pytest
from snapshot_host import SIZE_IDS, SIZES, PaneHost, steady
from textual.widget import Widget

from tui.kafka.connection import from_properties
from tui.kafka.search_query import parse_query
from tui.kafka.tail import RawRecord
from tui.kafka.topic_search import SearchSpec, TopicSearch
from tui.widgets.search_pane import SearchPane, describe

BASE_TS = 1_714_563_000_000  # 2024-05-01 11:30:00 UTC
QUERY = "$.status=FAILED"


def match(i: int) -> RawRecord:
    value = json.dumps({"order": 40_000 + i, "status": "FAILED", "reason": "card declined"})
    return ("orders", i % 3, 17_000 * i + 5, BASE_TS + i * 60_000, 0, f"order-{i}".encode(),
            value.encode(), (("source", b"web"),))  # fmt: skip


def host() -> PaneHost:
    def prepare(pane: Widget) -> None:
        search_pane = cast(SearchPane, pane)
        spec = SearchSpec("orders", query=parse_query(QUERY))
        search_pane.controls.fill("orders", QUERY)
        search = TopicSearch(from_properties("snapshot:9092", {}), spec)
        progress = search.progress
        progress.total = progress.scanned = 1_234_567
        progress.matched, progress.started, progress.finished = 3, 0.0, 2.5
        progress.outcome = "finished"
        search_pane.search, search_pane.description = search, describe(spec)
        search_pane.ring.extend([match(i) for i in range(3)])

    return PaneHost(SearchPane(tz=UTC), focus="#search-log", prepare=prepare)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_search_pane_finished(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """The matches listed, the first under the cursor; the status says how many records were
    scanned, how fast, and what was searched."""
    shown = steady(
        until=lambda app: "finished: 3 matches" in str(app.query_one("#search-state").render())
    )
    assert snap_compare(host(), terminal_size=size, run_before=shown)
