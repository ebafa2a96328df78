"""Broker-side schema id validation (Confluent Server's `confluent.value.schema.validation` and
`confluent.key.schema.validation`): a topic that asks for it refuses a produced batch with a
record whose value (or key) does not carry a schema id registered under the topic's subject,
with INVALID_RECORD and the record named, and appends nothing of that batch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from brokers import running_broker
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
)
from wire import RawClient, request_body

from localbroker.protocol.names import ApiKey, ErrorCode
from localbroker.records.builder import NewRecord, build_batch
from tui.embedded import EmbeddedBroker

TIMEOUT = 20.0
VALIDATE_VALUES = {"confluent.value.schema.validation": "true"}
VALIDATE_KEYS = {"confluent.key.schema.validation": "true"}
NO_ID = (
    "has no schema id: it does not start with magic byte 0 and a 4-byte schema id"
    " (Confluent's wire format)"
)


class Ids:
    """The ids registered under each subject, as the registry's state answers for them."""

    def __init__(self, subjects: dict[str, set[int]]) -> None:
        self.subjects = subjects

    def registered(self, subject: str, schema_id: int) -> bool:
        return schema_id in self.subjects.get(subject, set())

    def record_name(self, schema_id: int) -> str | None:
        return None


def framed(schema_id: int, body: bytes = b"\x02") -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body


@pytest.fixture
def validating(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker whose registry holds ids 1 and 2 under `orders-value`, 7 under `orders-key`."""
    with running_broker(tmp_path / "broker") as broker:
        ids = Ids({"orders-value": {1, 2}, "orders-key": {7}})
        broker.call(lambda: setattr(broker.state, "schema_ids", ids))
        yield broker


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


def test_records_with_registered_ids_are_appended_and_others_refuse_the_batch(
    validating: EmbeddedBroker,
) -> None:
    bootstrap = validating.bootstrap
    create(bootstrap, "orders", VALIDATE_VALUES)
    assert produce(bootstrap, "orders", [(None, framed(1)), (b"plain", framed(2))]) == [None, None]

    # librdkafka (KIP-467) gives the refused records INVALID_RECORD and the others of their
    # batch _INVALID_DIFFERENT_RECORD; confluent-kafka 2.16 shows not the broker's messages.
    batch = [(None, framed(1)), (None, b"plain"), (None, framed(9)), (None, None)]
    different, invalid = KafkaError._INVALID_DIFFERENT_RECORD, KafkaError.INVALID_RECORD
    assert produce(bootstrap, "orders", batch) == [different, invalid, invalid, different]
    assert log_end(bootstrap, "orders") == 2


def test_the_refusal_names_each_record_in_record_errors(validating: EmbeddedBroker) -> None:
    bootstrap = validating.bootstrap
    create(bootstrap, "orders", VALIDATE_VALUES)
    records = [NewRecord(framed(1)), NewRecord(b"plain"), NewRecord(framed(17)), NewRecord(None)]
    answer = produce_raw(bootstrap, "orders", records)
    assert answer.error_code == ErrorCode.invalid_record
    assert [(e.batch_index, e.batch_index_error_message) for e in answer.record_errors] == [
        (1, "record 1 of the batch: value " + NO_ID),
        (
            2,
            "record 2 of the batch: value schema id 17 is not registered under subject"
            " 'orders-value'",
        ),
    ]
    assert answer.error_message.startswith(
        "One or more records have been rejected due to 2 record errors in total"
    )
    assert log_end(bootstrap, "orders") == 0


def test_keys_are_validated_against_the_key_subject(validating: EmbeddedBroker) -> None:
    bootstrap = validating.bootstrap
    create(bootstrap, "orders", VALIDATE_KEYS)
    assert produce(bootstrap, "orders", [(framed(7), b"any"), (None, b"any")]) == [None, None]
    assert produce(bootstrap, "orders", [(framed(1), b"any")]) == [KafkaError.INVALID_RECORD]
    [answer] = produce_raw(bootstrap, "orders", [NewRecord(b"any", key=framed(2))]).record_errors
    assert answer.batch_index_error_message == (
        "record 0 of the batch: key schema id 2 is not registered under subject 'orders-key'"
    )


def test_topics_without_the_config_take_anything(validating: EmbeddedBroker) -> None:
    assert produce(validating.bootstrap, "plain", [(b"k", b"v")]) == [None]


def described(bootstrap: str, topic: str) -> dict[str, tuple[str | None, str]]:
    """name → (value, source) of a topic's configs, as librdkafka's admin reads them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource("topic", topic)
    entries = admin.describe_configs([resource])[resource].result(TIMEOUT)
    return {name: (entry.value, ConfigSource(entry.source).name) for name, entry in entries.items()}


def test_the_configs_are_described_with_defaults_and_altered_by_admin_and_kwb(
    validating: EmbeddedBroker, kwb: Any
) -> None:
    bootstrap = validating.bootstrap
    create(bootstrap, "orders", {})
    topic_strategy = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
    record_strategy = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
    shown = described(bootstrap, "orders")
    assert {name: shown[name] for name in shown if name.startswith("confluent.")} == {
        "confluent.key.schema.validation": ("false", "DEFAULT_CONFIG"),
        "confluent.key.subject.name.strategy": (topic_strategy, "DEFAULT_CONFIG"),
        "confluent.value.schema.validation": ("false", "DEFAULT_CONFIG"),
        "confluent.value.subject.name.strategy": (topic_strategy, "DEFAULT_CONFIG"),
    }

    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(
        "topic",
        "orders",
        incremental_configs=[
            ConfigEntry(
                "confluent.value.schema.validation",
                "true",
                incremental_operation=AlterConfigOpType.SET,
            )
        ],
    )
    admin.incremental_alter_configs([resource])[resource].result(TIMEOUT)
    assert produce(bootstrap, "orders", [(None, b"plain")]) == [KafkaError.INVALID_RECORD]

    keys = (
        "confluent.key.schema.validation=true,"
        f"confluent.key.subject.name.strategy={record_strategy}"
    )
    altered = kwb(
        "configs", "--bootstrap-server", bootstrap, "--topic", "orders", "--alter",
        "--add-config", keys,
    )  # fmt: skip
    assert altered.returncode == 0, altered.stderr
    shown = described(bootstrap, "orders")
    assert shown["confluent.value.schema.validation"] == ("true", "DYNAMIC_TOPIC_CONFIG")
    assert shown["confluent.key.subject.name.strategy"] == (record_strategy, "DYNAMIC_TOPIC_CONFIG")

    wrong = kwb(
        "configs", "--bootstrap-server", bootstrap, "--topic", "orders", "--alter",
        "--add-config", "confluent.value.subject.name.strategy=MyStrategy",
    )  # fmt: skip
    assert wrong.returncode != 0
    assert "Invalid value MyStrategy for configuration confluent.value.subject.name.strategy" in (
        wrong.stderr
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


def test_a_validating_topic_refuses_every_batch_once_the_registry_is_gone(
    validating: EmbeddedBroker,
) -> None:
    """As after a restart without --schema-registry: validation is not silently dropped."""
    bootstrap = validating.bootstrap
    create(bootstrap, "orders", VALIDATE_VALUES)
    validating.call(lambda: setattr(validating.state, "schema_ids", None))
    answer = produce_raw(bootstrap, "orders", [NewRecord(framed(1))])
    assert answer.error_code == ErrorCode.invalid_record
    assert answer.error_message == (
        "Topic orders validates record schema ids (confluent.*.schema.validation) but this"
        " broker runs no schema registry; start localbroker with --schema-registry PORT"
    )
