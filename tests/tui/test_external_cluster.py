"""The workbench on a cluster it did not start: `kwb --bootstrap-server HOST:PORT`.

The broker is a separate `python -m localbroker` process, reached only through its address,
the way a developer's staging cluster would be: the app is built by the same code `kwb`
runs for `--bootstrap-server` (tui.launch), so no embedded broker exists anywhere. The same
test runs on Apache Kafka (the reference broker of the session). A topic
made in the Topics pane's dialog, a record sent from the Produce pane and seen in the Tail
pane, then quitting: the cluster keeps running, because the workbench stops only what it
started.
"""

from __future__ import annotations

import subprocess
from typing import Any, Protocol

import pytest
from brokers import listening
from textual.widgets import DataTable, Input, Select, Static, TextArea
from workbench_pilot import SIZE, external_app, wait_connected, wait_until

from tui.widgets.cluster_bar import ClusterBar
from tui.widgets.produce_pane import ProducePane
from tui.widgets.tail_pane import TailPane

pytestmark = pytest.mark.timeout(120)

TOPIC = "staging-orders"


class BrokerElsewhere(Protocol):
    """A broker in a process of its own: localbroker's BrokerProcess or ReferenceKafka."""

    bootstrap: str
    port: int

    @property
    def process(self) -> subprocess.Popen[Any] | None: ...


@pytest.fixture(params=["localbroker", "kafka"])
def elsewhere(request: pytest.FixtureRequest) -> BrokerElsewhere:
    fixture = {"localbroker": "broker_process", "kafka": "reference_kafka"}[request.param]
    started: BrokerElsewhere = request.getfixturevalue(fixture)
    return started


async def test_external_cluster(elsewhere: BrokerElsewhere) -> None:
    bootstrap = elsewhere.bootstrap
    app = external_app(bootstrap)
    assert app.workbench.embedded is None
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        assert app.snapshot is not None
        assert [b.port for b in app.snapshot.cluster.brokers] == [elsewhere.port]
        label = app.query_one(ClusterBar).query_one("#cluster-label", Static)
        assert str(label.render()) == bootstrap
        configs = app.query_one("#broker-configs", DataTable)
        await wait_until(pilot, lambda: configs.row_count > 10, "the broker's configs")

        # Topics pane: the create dialog, three partitions.
        await pilot.press("2", "c")
        await pilot.pause()
        await pilot.press(*TOPIC, "tab", "3", "enter")
        await wait_until(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.topic(TOPIC) is not None,
            f"{TOPIC} in the cluster's snapshot",
        )
        topic = app.snapshot.topic(TOPIC)
        assert topic is not None and len(topic.partitions) == 3

        # Tail pane: from the end, before anything is produced.
        await pilot.press("3")
        tail = app.query_one(TailPane)
        await wait_until(
            pilot, lambda: app.focused is not None and tail in app.focused.ancestors, "focus"
        )
        tail.query_one("#tail-start", Select).value = "end"
        topics_field = tail.query_one("#tail-topics", Input)
        topics_field.focus()
        await pilot.press(*TOPIC, "enter")
        await wait_until(
            pilot,
            lambda: tail.session is not None and bool(tail.session.offsets),
            "the tail's starting offsets",
        )

        # Produce pane: a keyed JSON record, ctrl+s, the acknowledgement listed.
        await pilot.press("4")
        produce = app.query_one(ProducePane)
        await wait_until(
            pilot, lambda: app.focused is not None and produce in app.focused.ancestors, "focus"
        )
        produce.query_one("#topic", Input).value = TOPIC
        produce.query_one("#key", Input).value = "customer-7"
        produce.query_one("#value", TextArea).text = '{"order": 7}'
        await pilot.press("ctrl+s")
        acks = produce.query_one("#acks", DataTable)
        await wait_until(pilot, lambda: acks.row_count == 1, "the acknowledgement")

        # Tail pane: the record arrived, as sent.
        await pilot.press("escape", "3")
        await wait_until(pilot, lambda: tail.ring.total >= 1, "the record in the tail")
        (record,) = tail.view.records()
        assert (record.topic, record.key, record.value) == (TOPIC, b"customer-7", b'{"order": 7}')

        await pilot.press("q")
    # The workbench stops what it started: a cluster it only connected to keeps running.
    assert elsewhere.process is not None and elsewhere.process.poll() is None
    assert listening(bootstrap)
