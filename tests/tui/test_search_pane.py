"""The Search pane against a real embedded localbroker: `f` on a topic, a query, the matches
listed with their progress, a match opened and copied, a query that cannot be read, a
search stopped with esc."""

from __future__ import annotations

import asyncio
import json

import pytest
from confluent_kafka import Producer
from textual.widgets import Input, TabbedContent
from workbench_pilot import (
    SIZE,
    burst,
    screen_after,
    wait_connected,
    wait_focused,
    wait_keys_handled,
    wait_until,
    workbench_app,
)

from tui.embedded import EmbeddedBroker
from tui.screens.record_detail import RecordDetailScreen
from tui.widgets.list_table import ListTable
from tui.widgets.search_pane import SearchPane

pytestmark = pytest.mark.timeout(120)
COUNT = 5_000


def produce(bootstrap: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "batch.size": 8192})
    for i in range(COUNT):
        status = "FAILED" if i in (3, 4_321) else "OK"
        producer.produce("orders", json.dumps({"id": i, "status": status}).encode())
    assert producer.flush(20) == 0


def done(pane: SearchPane) -> bool:
    return pane.search is not None and pane.search.progress.outcome is not None


async def test_search_a_topic_from_the_topics_pane(embedded: EmbeddedBroker) -> None:
    await asyncio.to_thread(produce, embedded.bootstrap)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await wait_until(pilot, lambda: app.snapshot and app.snapshot.topic("orders"), "orders")
        burst(app, ["2", "slash", *"orders", "enter"])
        topics = app.query_one("#topic-list", ListTable)
        await wait_until(pilot, lambda: topics.row_count == 1, "orders alone in the list")
        burst(app, ["f"])
        await wait_focused(pilot, "search-query")
        pane = app.query_one(SearchPane)
        assert app.query_one("#panes", TabbedContent).active == "search"
        assert pane.controls.topic.value == "orders"
        burst(app, [*"$.status=FAILED", "enter"])
        await wait_until(pilot, lambda: done(pane), "the search")
        assert pane.search is not None and pane.search.progress.outcome == "finished"
        assert [r.offset for r in pane.view.records()] == [3, 4_321]
        state = str(pane.query_one("#search-state").render())
        assert state.startswith("finished: 2 matches · 5,000 records in ")
        assert "records/s · orders for $.status=FAILED" in state
        detail = await screen_after(pilot, "enter", RecordDetailScreen, "the first match")
        assert detail.record.offset == 3


async def test_a_query_that_cannot_be_read_is_one_message(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        burst(app, ["8", *"orders", "tab", *"$.status", "enter"])
        await wait_keys_handled(pilot, app)
        pane = app.query_one(SearchPane)
        await wait_until(pilot, lambda: app._notifications, "a message")
        (note,) = list(app._notifications)
        assert "a JSON field is $.path then" in note.message
        assert pane.search is None


async def test_esc_stops_a_running_search(embedded: EmbeddedBroker) -> None:
    await asyncio.to_thread(produce, embedded.bootstrap)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        pane = app.query_one(SearchPane)
        burst(app, ["8", *"orders", "tab", *"nothing-like-this", "enter", "escape"])
        await wait_until(pilot, lambda: done(pane), "the search to end")
        assert pane.search is not None and pane.search.cancelled
        assert isinstance(app.focused, Input) is False
