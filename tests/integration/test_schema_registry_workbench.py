"""The workbench's registry client, decoder and `kwb consume/produce --schema-registry` against
the built-in registry, on records Confluent's AvroSerializer wrote (and that its
AvroDeserializer reads back when kwb wrote them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from waiting import TIMEOUT

from tui.embedded import EmbeddedBroker
from tui.kafka.schema_registry.client import SCHEMA_NOT_FOUND, RegistryClient, RegistryError
from tui.kafka.schema_registry.settings import registry_settings
from tui.kafka.schema_registry.wire import (
    RETRY_UNREACHABLE_S,
    Decoded,
    SchemaDecoder,
    Undecodable,
    framed,
)

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "item", "type": "string"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
UNKNOWN_ID = 4242


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker with its Schema Registry (any free ports), stopped whatever happens."""
    broker = EmbeddedBroker(tmp_path / "broker", port=0, schema_registry_port=0).start()
    try:
        yield broker
    finally:
        broker.stop()


def url_of(cluster: EmbeddedBroker) -> str:
    assert cluster.schema_registry_url is not None
    return cluster.schema_registry_url


def serializer(cluster: EmbeddedBroker, schema: Any) -> AvroSerializer:
    client = SchemaRegistryClient({"url": url_of(cluster)})
    text = schema if isinstance(schema, Schema) else json.dumps(schema)
    return AvroSerializer(client, text)


def produce(cluster: EmbeddedBroker, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "linger.ms": 2})
    for key, value in records:
        producer.produce(topic, value, key)
    assert producer.flush(TIMEOUT) == 0, "records left unsent"


def consumed(cluster: EmbeddedBroker, topic: str, count: int) -> list[Any]:
    """The first `count` records of partition 0 of `topic`, as confluent-kafka reads them."""
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "check"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        return consumer.consume(count, TIMEOUT)
    finally:
        consumer.close()


def value_bytes(cluster: EmbeddedBroker, topic: str, values: list[dict[str, Any]]) -> list[bytes]:
    serialize = serializer(cluster, ORDER)
    context = SerializationContext(topic, MessageField.VALUE)
    return [serialize(value, context) for value in values]


# -- the client and the decoder --------------------------------------------------------------


async def test_decoder_reads_what_confluents_serializer_wrote(cluster: EmbeddedBroker) -> None:
    (data,) = value_bytes(cluster, "orders", [{"id": 7, "item": "tea", "note": None}])
    decoder = SchemaDecoder()
    settings = registry_settings({}, url_of(cluster))
    assert settings is not None
    async with RegistryClient(settings) as client:
        schema_id = int.from_bytes(data[1:5], "big")
        await decoder.learn(client, [schema_id, UNKNOWN_ID])
        with pytest.raises(RegistryError) as unknown:
            await client.schema(UNKNOWN_ID)
    assert unknown.value.error_code == SCHEMA_NOT_FOUND
    reading = decoder.decode(data)
    assert isinstance(reading, Decoded), reading
    assert reading.value == {"id": 7, "item": "tea", "note": None}
    assert reading.schema.where == f"orders-value v1 · schema id {schema_id}"
    missing = decoder.decode(framed(UNKNOWN_ID, data[5:]))
    assert isinstance(missing, Undecodable)
    assert missing.reason == "unknown to the registry"
    assert missing.data == framed(UNKNOWN_ID, data[5:])  # every byte kept


async def test_references_are_resolved_through_their_subjects(cluster: EmbeddedBroker) -> None:
    item = {
        "type": "record",
        "name": "Item",
        "namespace": "shop",
        "fields": [{"name": "sku", "type": "string"}],
    }
    basket = {
        "type": "record",
        "name": "Basket",
        "namespace": "shop",
        "fields": [{"name": "first", "type": "shop.Item"}],
    }
    confluent = SchemaRegistryClient({"url": url_of(cluster)})
    confluent.register_schema("item", Schema(json.dumps(item), "AVRO"))
    referring = Schema(json.dumps(basket), "AVRO", [SchemaReference("shop.Item", "item", 1)])
    data = serializer(cluster, referring)(
        {"first": {"sku": "A-1"}}, SerializationContext("baskets", MessageField.VALUE)
    )
    decoder = SchemaDecoder()
    settings = registry_settings({}, url_of(cluster))
    assert settings is not None
    async with RegistryClient(settings) as client:
        await decoder.learn(client, decoder.to_learn([data]))
    reading = decoder.decode(data)
    assert isinstance(reading, Decoded), reading
    assert reading.value == {"first": {"sku": "A-1"}}


# -- kwb consume / produce ---------------------------------------------------------------------


def test_consume_prints_as_kafka_avro_console_consumer(cluster: EmbeddedBroker, kwb: Any) -> None:
    key_serializer = serializer(cluster, "string")
    values = value_bytes(cluster, "orders", [{"id": 1, "item": "tea", "note": None}])
    key = key_serializer("k1", SerializationContext("orders", MessageField.KEY))
    produce(cluster, "orders", [(key, values[0]), (None, framed(UNKNOWN_ID, values[0][5:]))])
    key_id, value_id = (int.from_bytes(data[1:5], "big") for data in (key, values[0]))
    run = kwb(
        "consume", "--bootstrap-server", cluster.bootstrap, "--topic", "orders",
        "--from-beginning", "--max-messages", "2", "--schema-registry", url_of(cluster),
        "--property", "print.key=true", "--property", "print.schema.ids=true",
        "--skip-message-on-error",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout == f'"k1"\t{key_id}\t{{"id":1,"item":"tea","note":null}}\t{value_id}\n'
    assert f"schema id {UNKNOWN_ID}: unknown to the registry" in run.stderr


def test_produce_encodes_as_kafka_avro_console_producer(cluster: EmbeddedBroker, kwb: Any) -> None:
    run = kwb(
        "produce", "--bootstrap-server", cluster.bootstrap, "--topic", "orders",
        "--schema-registry", url_of(cluster),
        "--property", f"value.schema={json.dumps(ORDER)}",
        "--property", "parse.key=true", "--property", 'key.schema="string"',
        input='"k1"\t{"id": 1, "item": "tea", "note": null}\n'
        '"k2"\t{"id": 2, "item": "cake", "note": {"string": "for two"}}\n',
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    confluent = SchemaRegistryClient({"url": url_of(cluster)})
    assert confluent.get_latest_version("orders-value").version == 1
    assert confluent.get_latest_version("orders-key").version == 1
    read_value = AvroDeserializer(confluent)
    read_key = AvroDeserializer(confluent)
    messages = consumed(cluster, "orders", 2)
    got = [
        (
            read_key(m.key(), SerializationContext("orders", MessageField.KEY)),
            read_value(m.value(), SerializationContext("orders", MessageField.VALUE)),
        )
        for m in messages
    ]
    assert got == [
        ("k1", {"id": 1, "item": "tea", "note": None}),
        ("k2", {"id": 2, "item": "cake", "note": "for two"}),
    ]


PAYMENT = {
    "type": "record",
    "name": "Payment",
    "namespace": "shop",
    "fields": [
        {"name": "note", "type": ["null", "string"]},
        {
            "name": "by",
            "type": [
                {"type": "record", "name": "Card", "fields": [{"name": "last4", "type": "string"}]},
                {"type": "record", "name": "Cash", "namespace": "till", "fields": []},
            ],
        },
        {"name": "tags", "type": {"type": "map", "values": ["null", "int"]}},
        {"name": "receipt", "type": ["null", "bytes"]},
    ],
}


def test_avro_json_encoding_round_trips_as_confluents_console_tools(
    cluster: EmbeddedBroker, kwb: Any
) -> None:
    """kafka-avro-console-producer reads, and its consumer prints, Avro's JSON encoding: a
    union's value wrapped in its branch's name (a record by its full name), bytes as
    characters 0-255; what Confluent's AvroDeserializer reads is the plain value."""
    lines = [
        '{"note":{"string":"gift"},"by":{"shop.Card":{"last4":"4242"}},'
        '"tags":{"rush":{"int":1},"gift":null},"receipt":{"bytes":"\\u0000ÿ"}}',
        '{"note":null,"by":{"till.Cash":{}},"tags":{},"receipt":null}',
    ]
    wrote = kwb(
        "produce", "--bootstrap-server", cluster.bootstrap, "--topic", "payments",
        "--schema-registry", url_of(cluster), "--property", f"value.schema={json.dumps(PAYMENT)}",
        input="".join(line + "\n" for line in lines),
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": url_of(cluster)}))
    messages = consumed(cluster, "payments", 2)
    context = SerializationContext("payments", MessageField.VALUE)
    assert [deserialize(m.value(), context) for m in messages] == [
        {"note": "gift", "by": {"last4": "4242"}, "tags": {"rush": 1, "gift": None},
         "receipt": b"\x00\xff"},
        {"note": None, "by": {}, "tags": {}, "receipt": None},
    ]  # fmt: skip
    read = kwb(
        "consume", "--bootstrap-server", cluster.bootstrap, "--topic", "payments",
        "--from-beginning", "--max-messages", "2", "--schema-registry", url_of(cluster),
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert read.stdout.splitlines() == lines


def test_produce_refuses_a_line_that_does_not_fit_the_schema(
    cluster: EmbeddedBroker, kwb: Any
) -> None:
    run = kwb(
        "produce", "--bootstrap-server", cluster.bootstrap, "--topic", "orders",
        "--schema-registry", url_of(cluster),
        "--property", f"value.schema={json.dumps(ORDER)}",
        input='{"id": "one", "item": "tea", "note": null}\n',
    )  # fmt: skip
    assert run.returncode == 1
    assert "Error serializing line 1" in run.stderr


async def test_an_unreachable_registry_is_asked_again_later_and_says_why() -> None:
    """Nothing listens on port 1: the id is not learnt as unknown (the registry never said
    so), the reason is said once (the Tail pane notifies it, the CLI prints it), and the id
    is asked again after RETRY_UNREACHABLE_S, not at every batch."""
    now = [0.0]
    decoder = SchemaDecoder(clock=lambda: now[0])
    settings = registry_settings({}, "http://127.0.0.1:1")
    assert settings is not None
    data = framed(5, b"\x02")
    async with RegistryClient(settings) as client:
        said = await decoder.learn(client, decoder.to_learn([data]))
        assert decoder.decode(data) is None
        assert said is not None and said is decoder.unreachable
        assert "unreachable" in str(said)
        assert decoder.to_learn([data]) == set()
        now[0] += RETRY_UNREACHABLE_S
        assert decoder.to_learn([data]) == {5}
        assert await decoder.learn(client, [5]) is None  # said once, not at every batch


@pytest.mark.parametrize(
    ("kind", "package", "schema"),
    [
        (
            "PROTOBUF",
            "protobuf.Protobuf",
            'syntax = "proto3"; package shop; message Order { string item = 1; int32 count = 2; }',
        ),
        (
            "JSON",
            "json.JsonSchema",
            json.dumps(
                {
                    "type": "object",
                    "properties": {"item": {"type": "string"}, "count": {"type": "integer"}},
                }
            ),
        ),
    ],
)
def test_lines_round_trip_through_confluents_reader_and_formatter_names(
    cluster: EmbeddedBroker, kwb: Any, kind: str, package: str, schema: str
) -> None:
    """Confluent's class names pick the format: the MessageReader registers the schema
    under <topic>-value with its type, the MessageFormatter prints the record back as JSON."""
    url, topic = url_of(cluster), kind.lower()
    wrote = kwb(
        "produce", "--bootstrap-server", cluster.bootstrap, "--topic", topic,
        "--line-reader", f"io.confluent.kafka.formatter.{package}MessageReader",
        "--property", f"schema.registry.url={url}", "--property", f"value.schema={schema}",
        input='{"item": "tea", "count": 2}\n',
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    registered = SchemaRegistryClient({"url": url}).get_latest_version(f"{topic}-value")
    assert registered.schema.schema_type == kind
    read = kwb(
        "consume", "--bootstrap-server", cluster.bootstrap, "--topic", topic,
        "--from-beginning", "--max-messages", "1",
        "--formatter", f"io.confluent.kafka.formatter.{package}MessageFormatter",
        "--property", f"schema.registry.url={url}",
    )  # fmt: skip
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == {"item": "tea", "count": 2}
