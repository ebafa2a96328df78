"""Broker-side schema id validation (schema_registry/validation.py): which records a topic's
settings refuse, and why, against a registry's ids held in a dict."""

from __future__ import annotations

import pytest

from localbroker.errors import KafkaError
from localbroker.protocol.names import ErrorCode
from localbroker.schema_registry.validation import (
    SchemaValidation,
    SubjectNameStrategy,
    refused_records,
    require_registry,
)

RECORD = SubjectNameStrategy.RECORD
TOPIC_RECORD = SubjectNameStrategy.TOPIC_RECORD


class Registry:
    """Ids registered under each subject, and the record type each id's schema names; counts
    the questions asked, to show a batch asks once per schema id."""

    def __init__(self, subjects: dict[str, set[int]], names: dict[int, str] | None = None):
        self.subjects = subjects
        self.names = names or {}
        self.asked = 0

    def registered(self, subject: str, schema_id: int) -> bool:
        self.asked += 1
        return schema_id in self.subjects.get(subject, set())

    def record_name(self, schema_id: int) -> str | None:
        return self.names.get(schema_id)


def framed(schema_id: int, body: bytes = b"\x02") -> bytes:
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def validation(**overrides: str) -> SchemaValidation:
    settings = SchemaValidation.of("orders", overrides)
    assert settings is not None
    return settings


VALUES = validation(**{"confluent.value.schema.validation": "true"})
REGISTRY = Registry({"orders-value": {1, 2}, "orders-key": {7}})


def test_no_settings_means_no_validation() -> None:
    assert SchemaValidation.of("orders", {}) is None
    assert SchemaValidation.of("orders", {"confluent.value.schema.validation": "false"}) is None
    assert (
        SchemaValidation.of("orders", {"confluent.value.subject.name.strategy": RECORD.value})
        is None
    )


def test_records_with_ids_registered_under_the_topics_subject_pass() -> None:
    records = [(None, framed(1)), (b"plain key", framed(2)), (None, framed(1, b""))]
    assert refused_records(records, VALUES, REGISTRY) == []


def test_each_refused_record_is_named_with_its_reason() -> None:
    records = [
        (None, framed(1)),
        (None, b"plain text"),
        (None, framed(17)),
        (None, b"\x01" + framed(1)[1:]),
        (None, b"\x00\x00"),
    ]
    no_id = (
        "value has no schema id: it does not start with magic byte 0 and a 4-byte schema id"
        " (Confluent's wire format)"
    )
    assert refused_records(records, VALUES, REGISTRY) == [
        (1, f"record 1 of the batch: {no_id}"),
        (
            2,
            "record 2 of the batch: value schema id 17 is not registered under subject"
            " 'orders-value'",
        ),
        (3, f"record 3 of the batch: {no_id}"),
        (4, f"record 4 of the batch: {no_id}"),
    ]


def test_an_id_of_another_subject_is_refused() -> None:
    refused = refused_records([(None, framed(7))], VALUES, REGISTRY)
    assert refused == [
        (
            0,
            "record 0 of the batch: value schema id 7 is not registered under subject"
            " 'orders-value'",
        )
    ]


def test_null_values_and_null_keys_pass_as_in_confluent_server() -> None:
    both = validation(
        **{"confluent.value.schema.validation": "true", "confluent.key.schema.validation": "true"}
    )
    assert (
        refused_records([(None, None), (framed(7), None), (None, framed(1))], both, REGISTRY) == []
    )


def test_keys_are_checked_against_the_key_subject() -> None:
    keys = validation(**{"confluent.key.schema.validation": "true"})
    records = [(framed(7), b"any value"), (framed(1), None), (b"k", None)]
    assert refused_records(records, keys, REGISTRY) == [
        (1, "record 1 of the batch: key schema id 1 is not registered under subject 'orders-key'"),
        (
            2,
            "record 2 of the batch: key has no schema id: it does not start with magic byte 0"
            " and a 4-byte schema id (Confluent's wire format)",
        ),
    ]


def test_a_record_is_named_once_when_its_key_and_value_both_fail() -> None:
    both = validation(
        **{"confluent.value.schema.validation": "true", "confluent.key.schema.validation": "true"}
    )
    refused = refused_records([(b"k", b"v")], both, REGISTRY)
    assert [index for index, _ in refused] == [0]
    assert "key has no schema id" in refused[0][1]


def test_a_batch_asks_the_registry_once_per_schema_id() -> None:
    registry = Registry({"orders-value": {1}})
    records = [(None, framed(1))] * 50 + [(None, framed(9))] * 50
    refused = refused_records(records, VALUES, registry)
    assert registry.asked == 2
    assert [index for index, _ in refused] == list(range(50, 100))


@pytest.mark.parametrize(
    ("strategy", "subject", "other_subject"),
    [(RECORD, "com.acme.Order", "Other"), (TOPIC_RECORD, "orders-com.acme.Order", "orders-Other")],
)
def test_record_strategies_take_the_subject_from_the_schemas_record_name(
    strategy: SubjectNameStrategy, subject: str, other_subject: str
) -> None:
    settings = validation(
        **{
            "confluent.value.schema.validation": "true",
            "confluent.value.subject.name.strategy": strategy.value,
        }
    )
    registry = Registry({subject: {3}, "orders-value": {4}}, {3: "com.acme.Order", 4: "Other"})
    assert refused_records([(None, framed(3))], settings, registry) == []
    assert refused_records([(None, framed(4)), (None, framed(5))], settings, registry) == [
        (
            0,
            "record 0 of the batch: value schema id 4 is not registered under subject"
            f" '{other_subject}'",
        ),
        (1, "record 1 of the batch: value schema id 5 is not registered"),
    ]


def test_setting_validation_without_a_registry_is_refused_with_a_hint() -> None:
    with pytest.raises(KafkaError) as refused:
        require_registry({"confluent.value.schema.validation": "true"}, {})
    assert refused.value.code == ErrorCode.invalid_config
    assert refused.value.message == (
        "Invalid value true for configuration confluent.value.schema.validation: this broker"
        " runs no schema registry to validate against; start localbroker with"
        " --schema-registry PORT"
    )


def test_without_a_registry_other_configs_of_a_validated_topic_still_change() -> None:
    current = {"confluent.key.schema.validation": "true"}
    require_registry({**current, "retention.ms": "1000"}, current)
    require_registry({"retention.ms": "1000"}, current)  # removing the override
    with pytest.raises(KafkaError):
        require_registry({"confluent.key.schema.validation": "false"}, current)
