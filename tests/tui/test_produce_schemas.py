"""The Produce pane writing through the embedded broker's Schema Registry: the topic's
`<topic>-value` subject is picked, the JSON typed is checked against it as it is typed, and
the record is sent in Confluent's wire format that confluent-kafka's AvroDeserializer reads;
a value its schema refuses is named and not sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from test_produce_pane import SIZE, ack_rows, open_pane, paste_into, read_back, text_of, type_into
from textual.widgets import Select
from workbench_pilot import wait_until

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.workbench import Workbench

pytestmark = pytest.mark.timeout(120)
ORDER_V1 = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [{"name": "id", "type": "long"}],
}
ORDER_V2 = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "item", "type": "string", "default": ""},
    ],
}


@pytest.fixture(scope="module")
def registry_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A broker and its registry, with `orders-value` at v1 and v2 (Avro)."""
    path: Path = tmp_path_factory.mktemp("produce-schemas")
    broker = EmbeddedBroker(path / "broker", port=0, schema_registry_port=0).start()
    try:
        client = SchemaRegistryClient({"url": broker.schema_registry_url})
        for order in (ORDER_V1, ORDER_V2):
            client.register_schema("orders-value", Schema(json.dumps(order), "AVRO"))
        yield broker
    finally:
        broker.stop()


def local_app(broker: EmbeddedBroker) -> WorkbenchApp:
    profile = Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])
    return WorkbenchApp(Workbench.local(profile, broker), watch_theme_files=False)


async def test_an_avro_value_is_sent_as_confluent_writes_it(
    registry_broker: EmbeddedBroker,
) -> None:
    app = local_app(registry_broker)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("orders", 1))
        await type_into(pilot, pane, "#topic", "orders")
        subject = pane.query_one("#value-subject", Select)
        await wait_until(pilot, lambda: subject.value == "orders-value", "orders-value picked")
        await paste_into(pilot, pane, "#value", '{"id": 7, "item": "tea"}')
        await wait_until(
            pilot,
            lambda: text_of(pane, "schema-status") == "✓ valid for orders-value v2",
            "the value checked against orders-value v2",
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(ack_rows(pane)) == 1, "the acknowledgement")
        client = SchemaRegistryClient({"url": registry_broker.schema_registry_url})
        v2_id = client.get_latest_version("orders-value").schema_id
        assert ack_rows(pane)[0][3] == f"orders · value schema id {v2_id}"
        ((_, value, _, _),) = await read_back(app, "orders", 1, 1)
        assert value is not None and value[:5] == bytes([0]) + v2_id.to_bytes(4, "big")
        deserialize = AvroDeserializer(client)
        context = SerializationContext("orders", MessageField.VALUE)
        assert deserialize(value, context) == {"id": 7, "item": "tea"}


async def test_a_wrong_field_type_is_named_and_not_sent(registry_broker: EmbeddedBroker) -> None:
    app = local_app(registry_broker)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot, app, ("refused", 1))
        await type_into(pilot, pane, "#topic", "refused")
        pane.query_one("#value-subject", Select).value = "orders-value"
        await type_into(pilot, pane, "#value-version", "1")
        await paste_into(pilot, pane, "#value", '{"id": "seven"}')
        problem = "shop.Order.id is <seven> of type <class 'str'> expected long"
        await wait_until(
            pilot,
            lambda: text_of(pane, "schema-status") == f"✗ {problem}",
            "the wrong field named under the value",
        )
        await pilot.press("ctrl+s")
        await wait_until(
            pilot,
            lambda: text_of(pane, "send-status") == f"✗ value not sent: {problem}",
            "the refusal",
        )
        assert ack_rows(pane) == []
        await paste_into(pilot, pane, "#value", '{"id": 7}')
        await wait_until(
            pilot,
            lambda: text_of(pane, "schema-status") == "✓ valid for orders-value v1",
            "v1 as chosen",
        )
        assert await read_back(app, "refused", 1, 1, patience=1.0) == []
