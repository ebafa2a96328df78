"""The Tail pane and transactions (issue 15, point 4): `i` switches read_uncommitted and
read_committed, `m` shows the COMMIT / ABORT markers, against a real embedded localbroker
with records written by a confluent-kafka transactional producer.
"""

from __future__ import annotations

import asyncio

import pytest
from confluent_kafka import Producer
from textual.widgets import Static, TabbedContent
from workbench_pilot import wait_connected, wait_until, workbench_app

from tui.embedded import EmbeddedBroker
from tui.kafka.tail import StartMode
from tui.widgets.tail_pane import TailPane

pytestmark = pytest.mark.timeout(90)
SIZE = (140, 40)
TOPIC = "payments"


def transactions(bootstrap: str) -> None:
    """a0 a1 COMMIT (offsets 0-2), b0 b1 ABORT (3-5), c0 COMMIT (6-7)."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": "payer"})
    producer.init_transactions(15)
    for values, commit in ((["a0", "a1"], True), (["b0", "b1"], False), (["c0"], True)):
        producer.begin_transaction()
        for value in values:
            producer.produce(TOPIC, value.encode(), partition=0)
        producer.flush(15)
        if commit:
            producer.commit_transaction(15)
        else:
            producer.abort_transaction(15)


def shown(pane: TailPane) -> list[tuple[int, str]]:
    return [(r.offset, (r.value or b"").decode()) for r in pane.view.records()]


async def test_isolation_and_markers_toggle(embedded: EmbeddedBroker) -> None:
    embedded.call(lambda: embedded.state.create_topic(TOPIC, 1))
    await asyncio.to_thread(transactions, embedded.bootstrap)
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await pilot.press("3")
        pane = app.query_one(TailPane)
        await wait_until(
            pilot, lambda: app.query_one("#panes", TabbedContent).active == "tail", "tail pane"
        )
        pane.tail(TOPIC, StartMode.BEGINNING)
        reading = pane.query_one("#tail-reading", Static)
        everything = [(0, "a0"), (1, "a1"), (3, "b0"), (4, "b1"), (6, "c0")]
        await wait_until(pilot, lambda: shown(pane) == everything, "read_uncommitted")
        assert str(reading.render()) == "read_uncommitted"

        await pilot.press("i")  # read_committed: the aborted records are gone
        await wait_until(
            pilot, lambda: shown(pane) == [(0, "a0"), (1, "a1"), (6, "c0")], "read_committed"
        )
        assert str(reading.render()) == "read_committed"

        await pilot.press("m")  # and the markers in their places
        await wait_until(pilot, lambda: len(shown(pane)) == 6, "records and markers")
        offsets = [offset for offset, _ in shown(pane)]
        assert offsets == [0, 1, 2, 5, 6, 7]
        markers = dict(shown(pane))
        assert markers[2].startswith("endTxnMarker: COMMIT coordinatorEpoch: ")
        assert markers[5].startswith("endTxnMarker: ABORT coordinatorEpoch: ")
        assert "producerEpoch: 0" in markers[5]
        producer_ids = {markers[o].split("producerId: ")[1].split()[0] for o in (2, 5, 7)}
        assert len(producer_ids) == 1 and int(producer_ids.pop()) >= 0
        assert str(reading.render()) == "read_committed · markers"
