"""Broker-side schema id validation (Confluent Server's `confluent.value.schema.validation` and
`confluent.key.schema.validation`): a topic that asks for it refuses a produced batch with a
record whose value (or key) does not carry a schema id registered under the topic's subject,
with INVALID_RECORD and the record named, and appends nothing of that batch.

One `localbroker --schema-registry 0` process serves the module (each test its own topics and
subjects); confluent-kafka's AvroSerializer registers schemas in it and writes the records."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from brokers import BrokerProcess, running_broker
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
)
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    record_subject_name_strategy,
    topic_record_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from wire import RawClient, request_body

from localbroker.protocol.names import ApiKey, ErrorCode
from localbroker.records.builder import NewRecord, build_batch
from tui.broker_process import ChildBroker
from tui.embedded import EmbeddedBroker

TIMEOUT = 20.0
VALIDATE_VALUES = {"confluent.value.schema.validation": "true"}
VALIDATE_KEYS = {"confluent.key.schema.validation": "true"}
RECORD_STRATEGY = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
TOPIC_STRATEGY = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
NO_ID = (
    "has no schema id: it does not start with magic byte 0 and a 4-byte schema id"
    " (Confluent's wire format)"
)
ORDER = """{"type": "record", "name": "Order", "namespace": "com.acme",
 "fields": [{"name": "id", "type": "long"}]}"""
NAMES = itertools.count()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    process = BrokerProcess(tmp_path_factory.mktemp("broker"), schema_registry=True).start()
    try:
        yield process
    finally:
        process.kill()


@pytest.fixture
def topic(served: BrokerProcess) -> str:
    return f"orders{next(NAMES)}"


def serializer(served: BrokerProcess, **conf: Any) -> AvroSerializer:
    client = SchemaRegistryClient({"url": served.registry_url})
    return AvroSerializer(client, ORDER, conf=conf)


def avro(write: AvroSerializer, topic: str, order_id: int, field: str = MessageField.VALUE) -> Any:
    return write({"id": order_id}, SerializationContext(topic, field))


def framed(schema_id: int, body: bytes = b"\x02") -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def create(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, 1, 1, config=configs)])
    futures[topic].result(TIMEOUT)


def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes | None]]) -> Any:
    """Each record's delivery error code (None when delivered), produced in one batch."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    reports: dict[int, Any] = {}
    for index, (key, value) in enumerate(records):
        producer.produce(
            topic,
            value,
            key,
            on_delivery=lambda err, _msg, i=index: reports.update({i: err and err.code()}),
        )
    assert producer.flush(TIMEOUT) == 0
    return [reports[index] for index in range(len(records))]


def produce_raw(bootstrap: str, topic: str, records: list[NewRecord], version: int = 9) -> Any:
    """The partition response to one batch of `records`, produced by hand."""
    batch = build_batch(records, now_ms=0)
    data = {"index": 0, "records": batch}
    body = request_body(
        ApiKey.PRODUCE,
        version,
        {"acks": 1, "timeout": 5000, "topic_data": [{"name": topic, "partition_data": [data]}]},
    )
    with RawClient(bootstrap) as client:
        response = client.recv(ApiKey.PRODUCE, version, client.send(body))
    return response.responses[0].partition_responses[0]


def log_end(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watermarks"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT)[1])
    finally:
        consumer.close()


def test_serialized_records_are_appended_and_others_refuse_the_batch(
    served: BrokerProcess, topic: str
) -> None:
    bootstrap = served.bootstrap
    create(bootstrap, topic, VALIDATE_VALUES)
    write = serializer(served)
    first, second = avro(write, topic, 1), avro(write, topic, 2)
    assert produce(bootstrap, topic, [(None, first), (b"plain key", second)]) == [None, None]

    unregistered = framed(int.from_bytes(first[1:5], "big") + 1000)
    # librdkafka (KIP-467) gives the refused records INVALID_RECORD and the others of their
    # batch _INVALID_DIFFERENT_RECORD; confluent-kafka 2.16 shows not the broker's messages.
    batch = [(None, first), (None, b"plain"), (None, unregistered), (None, None)]
    different, invalid = KafkaError._INVALID_DIFFERENT_RECORD, KafkaError.INVALID_RECORD
    assert produce(bootstrap, topic, batch) == [different, invalid, invalid, different]
    assert log_end(bootstrap, topic) == 2


def test_the_refusal_names_each_record_in_record_errors(served: BrokerProcess, topic: str) -> None:
    bootstrap = served.bootstrap
    create(bootstrap, topic, VALIDATE_VALUES)
    valid = avro(serializer(served), topic, 1)
    other_subject = avro(serializer(served), f"{topic}-other", 1)  # same schema, same id
    unknown = int.from_bytes(valid[1:5], "big") + 1000
    records = [NewRecord(valid), NewRecord(b"plain"), NewRecord(framed(unknown)), NewRecord(None)]
    answer = produce_raw(bootstrap, topic, [*records, NewRecord(other_subject)])
    assert answer.error_code == ErrorCode.invalid_record
    assert [(e.batch_index, e.batch_index_error_message) for e in answer.record_errors] == [
        (1, "record 1 of the batch: value " + NO_ID),
        (
            2,
            f"record 2 of the batch: value schema id {unknown} is not registered under subject"
            f" '{topic}-value'",
        ),
    ]
    assert answer.error_message.startswith(
        "One or more records have been rejected due to 2 record errors in total"
    )
    assert log_end(bootstrap, topic) == 0


def test_an_id_registered_only_under_another_topics_subject_is_refused(
    served: BrokerProcess, topic: str
) -> None:
    bootstrap = served.bootstrap
    create(bootstrap, topic, VALIDATE_VALUES)
    elsewhere = avro(serializer(served), f"{topic}-elsewhere", 1)
    schema_id = int.from_bytes(elsewhere[1:5], "big")
    [answer] = produce_raw(bootstrap, topic, [NewRecord(elsewhere)]).record_errors
    assert answer.batch_index_error_message == (
        f"record 0 of the batch: value schema id {schema_id} is not registered under subject"
        f" '{topic}-value'"
    )


def test_keys_are_validated_against_the_key_subject(served: BrokerProcess, topic: str) -> None:
    bootstrap = served.bootstrap
    create(bootstrap, topic, VALIDATE_KEYS)
    write = serializer(served)
    key = avro(write, topic, 1, MessageField.KEY)
    assert produce(bootstrap, topic, [(key, b"any"), (None, b"any")]) == [None, None]
    value = avro(write, topic, 1)  # the same schema, but registered under the value subject
    assert produce(bootstrap, topic, [(value, b"any")]) == [None]  # same id: registered as key
    assert produce(bootstrap, topic, [(b"plain", b"any")]) == [KafkaError.INVALID_RECORD]


def test_record_name_strategy_takes_the_subject_from_the_schema(
    served: BrokerProcess, topic: str
) -> None:
    bootstrap = served.bootstrap
    create(
        bootstrap,
        topic,
        {**VALIDATE_VALUES, "confluent.value.subject.name.strategy": RECORD_STRATEGY},
    )
    by_record = serializer(served, **{"subject.name.strategy": record_subject_name_strategy})
    assert produce(bootstrap, topic, [(None, avro(by_record, topic, 1))]) == [None]
    client = SchemaRegistryClient({"url": served.registry_url})
    assert "com.acme.Order" in client.get_subjects()
    renamed = AvroSerializer(client, ORDER.replace('"id"', '"order_id"'))  # <topic>-value
    registered_elsewhere = renamed({"order_id": 1}, SerializationContext(topic, MessageField.VALUE))
    [answer] = produce_raw(bootstrap, topic, [NewRecord(registered_elsewhere)]).record_errors
    schema_id = int.from_bytes(registered_elsewhere[1:5], "big")
    assert answer.batch_index_error_message == (
        f"record 0 of the batch: value schema id {schema_id} is not registered under subject"
        " 'com.acme.Order'"
    )


def test_topic_record_name_strategy_takes_a_json_schemas_title(
    served: BrokerProcess, topic: str
) -> None:
    bootstrap = served.bootstrap
    strategy = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
    create(bootstrap, topic, {**VALIDATE_VALUES, "confluent.value.subject.name.strategy": strategy})
    client = SchemaRegistryClient({"url": served.registry_url})
    shipment = '{"title": "Shipment", "type": "object", "properties": {"id": {"type": "integer"}}}'
    write = JSONSerializer(
        shipment, client, conf={"subject.name.strategy": topic_record_subject_name_strategy}
    )
    value = write({"id": 1}, SerializationContext(topic, MessageField.VALUE))
    assert produce(bootstrap, topic, [(None, value)]) == [None]
    assert f"{topic}-Shipment" in client.get_subjects()
    by_topic = avro(serializer(served), topic, 1)  # registered under <topic>-value
    [answer] = produce_raw(bootstrap, topic, [NewRecord(by_topic)]).record_errors
    assert answer.batch_index_error_message.endswith(
        f"is not registered under subject '{topic}-com.acme.Order'"
    )


def described(bootstrap: str, topic: str) -> dict[str, tuple[str | None, str]]:
    """name → (value, source) of a topic's configs, as librdkafka's admin reads them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource("topic", topic)
    entries = admin.describe_configs([resource])[resource].result(TIMEOUT)
    return {name: (entry.value, ConfigSource(entry.source).name) for name, entry in entries.items()}


def test_the_configs_are_described_with_defaults_and_altered_by_admin_and_kwb(
    served: BrokerProcess, topic: str, kwb: Any
) -> None:
    bootstrap = served.bootstrap
    create(bootstrap, topic, {})
    shown = described(bootstrap, topic)
    assert {name: shown[name] for name in shown if name.startswith("confluent.")} == {
        "confluent.key.schema.validation": ("false", "DEFAULT_CONFIG"),
        "confluent.key.subject.name.strategy": (TOPIC_STRATEGY, "DEFAULT_CONFIG"),
        "confluent.value.schema.validation": ("false", "DEFAULT_CONFIG"),
        "confluent.value.subject.name.strategy": (TOPIC_STRATEGY, "DEFAULT_CONFIG"),
    }

    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(
        "topic",
        topic,
        incremental_configs=[
            ConfigEntry(
                "confluent.value.schema.validation",
                "true",
                incremental_operation=AlterConfigOpType.SET,
            )
        ],
    )
    admin.incremental_alter_configs([resource])[resource].result(TIMEOUT)
    assert produce(bootstrap, topic, [(None, b"plain")]) == [KafkaError.INVALID_RECORD]

    keys = (
        "confluent.key.schema.validation=true,"
        f"confluent.key.subject.name.strategy={RECORD_STRATEGY}"
    )
    altered = kwb(
        "configs", "--bootstrap-server", bootstrap, "--topic", topic, "--alter",
        "--add-config", keys,
    )  # fmt: skip
    assert altered.returncode == 0, altered.stderr
    shown = described(bootstrap, topic)
    assert shown["confluent.value.schema.validation"] == ("true", "DYNAMIC_TOPIC_CONFIG")
    assert shown["confluent.key.subject.name.strategy"] == (RECORD_STRATEGY, "DYNAMIC_TOPIC_CONFIG")

    wrong = ConfigResource(
        "topic",
        topic,
        incremental_configs=[
            ConfigEntry(
                "confluent.value.subject.name.strategy",
                "MyStrategy",
                incremental_operation=AlterConfigOpType.SET,
            )
        ],
    )
    with pytest.raises(KafkaException) as refused:
        admin.incremental_alter_configs([wrong])[wrong].result(TIMEOUT)
    assert (
        refused.value.args[0]
        .str()
        .startswith(
            "Invalid value MyStrategy for configuration confluent.value.subject.name.strategy:"
            " String must be one of: io.confluent.kafka.serializers.subject.TopicNameStrategy, "
        )
    )


def test_a_broker_without_a_registry_refuses_the_configs_and_does_not_describe_them(
    broker: EmbeddedBroker,
) -> None:
    bootstrap = broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic("orders", 1, 1, config=VALIDATE_VALUES)])
    with pytest.raises(KafkaException) as refused:
        futures["orders"].result(TIMEOUT)
    error = refused.value.args[0]
    assert error.code() == KafkaError.INVALID_CONFIG
    assert error.str() == (
        "Invalid value true for configuration confluent.value.schema.validation: this broker"
        " runs no schema registry to validate against; start localbroker with"
        " --schema-registry PORT"
    )
    create(bootstrap, "orders", {})
    assert not [name for name in described(bootstrap, "orders") if name.startswith("confluent.")]
    assert produce(bootstrap, "orders", [(b"k", b"v")]) == [None]


def test_a_validating_topic_refuses_every_batch_after_a_restart_without_registry(
    tmp_path: Path,
) -> None:
    """Validation is not dropped silently when the registry is not there."""
    process = BrokerProcess(tmp_path / "data", schema_registry=True).start()
    try:
        create(process.bootstrap, "orders", VALIDATE_VALUES)
        assert process.terminate() == 0
    finally:
        process.kill()
    with running_broker(tmp_path / "data") as broker:
        answer = produce_raw(broker.bootstrap, "orders", [NewRecord(framed(1))])
    assert answer.error_code == ErrorCode.invalid_record
    assert answer.error_message == (
        "Topic orders validates record schema ids (confluent.*.schema.validation) but this"
        " broker runs no schema registry; start localbroker with --schema-registry PORT"
    )


@pytest.mark.parametrize("start", ["embedded", "child"])
def test_the_workbenchs_brokers_validate_against_their_registry(tmp_path: Path, start: str) -> None:
    """kwb's broker, in its own process (ChildBroker) or in the app's (EmbeddedBroker), starts
    its registry through the same serve_beside as `localbroker --schema-registry`, so its
    topics validate too. Mutation check: serve_beside without wiring `schema_ids` makes the
    topic's creation fail here with the no-registry refusal."""
    broker = (
        EmbeddedBroker(tmp_path / "broker", port=0, schema_registry_port=0)
        if start == "embedded"
        else ChildBroker(tmp_path / "broker", schema_registry_port=0)
    ).start()
    try:
        create(broker.bootstrap, "orders", VALIDATE_VALUES)
        assert produce(broker.bootstrap, "orders", [(None, b"plain")]) == [
            KafkaError.INVALID_RECORD
        ]
        assert log_end(broker.bootstrap, "orders") == 0
    finally:
        broker.stop()
