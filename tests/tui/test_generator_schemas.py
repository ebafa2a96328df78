"""The Generator sending values of a registered schema: every record is Confluent-framed with
the subject's schema id and read back by confluent-kafka's AvroDeserializer, keyed by the
field asked for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from test_generator_pane import fill, open_pane, read_records, rows
from test_produce_schemas import local_app
from workbench_pilot import SIZE, wait_until

from tui.embedded import EmbeddedBroker
from tui.widgets.generator_schema import GeneratorSchema

pytestmark = pytest.mark.timeout(120)
WANTED = 30
EVENT = {
    "type": "record",
    "name": "Event",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "string"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["VIEW", "BUY"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attributes", "type": {"type": "map", "values": "long"}},
        {"name": "note", "type": ["null", "string"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "price", "type": "double"},
    ],
}


@pytest.fixture
def registry_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(tmp_path / "broker", port=0, schema_registry_port=0).start()
    try:
        client = SchemaRegistryClient({"url": broker.schema_registry_url})
        client.register_schema("events-value", Schema(json.dumps(EVENT), "AVRO"))
        yield broker
    finally:
        broker.stop()


async def test_a_generator_sends_valid_avro_records_keyed_by_a_field(
    registry_broker: EmbeddedBroker,
) -> None:
    app = local_app(registry_broker)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app, ("events", 2))
        schema_row = app.query_one(GeneratorSchema)
        await wait_until(pilot, lambda: schema_row.subjects == ["events-value"], "the subjects")
        await fill(pilot, app, topic="events", rate="200", subject="events-value", key_field="id")
        await wait_until(pilot, lambda: len(rows(app)) == 1, "the generator started")
        assert "events-value v1 (schema id" in app.generators.generators[0].spec.describe()
        bootstrap = app.workbench.connection.bootstrap_servers
        records = await asyncio.to_thread(read_records, bootstrap, "events", 2, WANTED)
        await pilot.press("x")
    assert len(records) >= WANTED
    client = SchemaRegistryClient({"url": registry_broker.schema_registry_url})
    deserialize = AvroDeserializer(client)
    context = SerializationContext("events", MessageField.VALUE)
    schema_id = client.get_latest_version("events-value").schema_id
    events = []
    for record in records:
        value = record.value()  # type: ignore[attr-defined]
        assert value[:5] == bytes([0]) + schema_id.to_bytes(4, "big")
        event = deserialize(value, context)
        assert record.key() == event["id"].encode()  # type: ignore[attr-defined]
        assert event["kind"] in ("VIEW", "BUY")
        events.append(event)
    assert len({e["id"] for e in events}) > WANTED // 2  # drawn, not one value repeated
