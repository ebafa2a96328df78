"""The Tail pane on the embedded broker's Schema Registry: records Confluent's AvroSerializer
wrote are shown, filtered and detailed as JSON with their subject, version and schema id, and a
record whose schema id the registry does not know shows a marker and its bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from test_tail_pane import SIZE, start_tail, wait_received
from textual.widgets import Input, Static
from waiting import TIMEOUT
from workbench_pilot import screen_after, wait_connected, wait_until

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.kafka.schema_registry.wire import framed
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.screens.record_detail import RecordDetailScreen
from tui.workbench import Workbench

pytestmark = pytest.mark.timeout(120)
ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
}
UNKNOWN_ID = 4242


@pytest.fixture
def with_registry(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(tmp_path / "broker", port=0, schema_registry_port=0).start()
    try:
        yield broker
    finally:
        broker.stop()


def write_orders(broker: EmbeddedBroker) -> int:
    """Two Avro orders by Confluent's serializer, then one framed with an unknown id; the
    orders' schema id."""
    assert broker.schema_registry_url is not None
    serialize = AvroSerializer(
        SchemaRegistryClient({"url": broker.schema_registry_url}), json.dumps(ORDER)
    )
    context = SerializationContext("orders", MessageField.VALUE)
    tea, cake = (
        serialize(v, context) for v in ({"id": 1, "item": "tea"}, {"id": 2, "item": "cake"})
    )
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 2})
    for value in (tea, cake, framed(UNKNOWN_ID, cake[5:])):
        producer.produce("orders", value)
    assert producer.flush(TIMEOUT) == 0, "records left unsent"
    return int.from_bytes(tea[1:5], "big")


async def test_tail_decodes_avro_and_marks_an_unknown_schema_id(
    with_registry: EmbeddedBroker,
) -> None:
    schema_id = write_orders(with_registry)
    profile = Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])
    app = WorkbenchApp(Workbench.local(profile, with_registry), watch_theme_files=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        pane = await start_tail(pilot, app, "orders", mode="beginning")
        await wait_received(pilot, pane, 3)
        log = pane.log_widget
        rows = [log.render_line(y).text for y in (1, 2, 3)]
        assert '{"id":1,"item":"tea"}' in rows[0]
        assert '{"id":2,"item":"cake"}' in rows[1]
        marker = f"⚠ schema id {UNKNOWN_ID}: unknown to the registry · "
        assert marker + framed(UNKNOWN_ID, b"").hex() in rows[2]  # and the bytes, in hex

        pane.query_one("#tail-filter", Input).value = "cake"  # a decoded field's value
        await wait_until(
            pilot, lambda: len(pane.view) == 1 and not pane.view.refiltering, "one match"
        )
        log.focus()
        screen = await screen_after(pilot, "enter", RecordDetailScreen, "the record's detail")
        title = str(screen.query_one("#detail-value-title", Static).render())
        assert title == f"value · AVRO · orders-value v1 · schema id {schema_id}"
        shown = str(screen.query_one("#detail-value", Static).render())
        assert json.loads(shown) == {"id": 2, "item": "cake"}
