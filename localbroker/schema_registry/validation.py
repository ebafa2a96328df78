"""Broker-side schema id validation, as Confluent Server does it (a topic's
`confluent.value.schema.validation` and `confluent.key.schema.validation`): every record's value
(or key) must start with Confluent's wire header (magic byte 0, a 4-byte big-endian schema id)
naming a schema registered under the subject the topic's subject name strategy gives. The
payload itself is not decoded, as in Confluent's: the check is that a serializer that knows the
registry wrote the record, not that the bytes match the schema. A null value (a tombstone) or a
null key passes, as Confluent documents, so compacted topics can still delete.

Sans-IO: records in, refused records out. The broker asks whatever registry it runs through
`SchemaIds`, so this module knows neither the registry's storage nor the produce path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from ..config.values import invalid

MAGIC_BYTE = 0
HEADER_SIZE = 5
"""Confluent's wire header: the magic byte and a 4-byte schema id."""

VALUE_VALIDATION = "confluent.value.schema.validation"
KEY_VALIDATION = "confluent.key.schema.validation"
VALUE_STRATEGY = "confluent.value.subject.name.strategy"
KEY_STRATEGY = "confluent.key.subject.name.strategy"


class SubjectNameStrategy(StrEnum):
    """Confluent's subject name strategies, by the class names its topic configs take."""

    TOPIC = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
    """`<topic>-value` / `<topic>-key`: one schema lineage per topic (the default)."""
    RECORD = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
    """The record type's full name: one lineage per type, across topics."""
    TOPIC_RECORD = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
    """`<topic>-<record full name>`: several types per topic, one lineage each."""


class SchemaIds(Protocol):
    """What validation asks of the registry the broker runs."""

    def registered(self, subject: str, schema_id: int) -> bool:
        """Whether `schema_id` is the id of a (not deleted) version of `subject`."""
        ...

    def record_name(self, schema_id: int) -> str | None:
        """The full name of the record type schema `schema_id` defines (the name Confluent's
        RecordNameStrategy takes from it), or None if no schema has that id or it names no
        type. Asked only for the record strategies."""
        ...


@dataclass(frozen=True, slots=True)
class SchemaValidation:
    """A topic's validation settings: the strategy for each part it validates, None for a part
    it leaves alone."""

    topic: str
    key: SubjectNameStrategy | None
    value: SubjectNameStrategy | None

    @classmethod
    def of(cls, topic: str, overrides: Mapping[str, str]) -> SchemaValidation | None:
        """The settings from a topic's config overrides (normalized, so booleans are
        lowercase), or None when neither part is validated: what the produce path asks for
        every batch, so it is two lookups when validation is off."""
        key = overrides.get(KEY_VALIDATION) == "true"
        value = overrides.get(VALUE_VALIDATION) == "true"
        if not (key or value):
            return None
        return cls(
            topic,
            _strategy(overrides, KEY_STRATEGY) if key else None,
            _strategy(overrides, VALUE_STRATEGY) if value else None,
        )


def _strategy(overrides: Mapping[str, str], name: str) -> SubjectNameStrategy:
    return SubjectNameStrategy(overrides.get(name, SubjectNameStrategy.TOPIC))


def require_registry(overrides: Mapping[str, str], current: Mapping[str, str]) -> None:
    """Refuse (INVALID_CONFIG) overrides that set or change a schema validation config, for a
    broker without a registry: a topic that says it validates but cannot would either let
    anything through or refuse everything, and the one to tell is whoever sets it. Removing
    such an override, or changing another config of a topic that has one, stays possible."""
    for name in (KEY_VALIDATION, KEY_STRATEGY, VALUE_VALIDATION, VALUE_STRATEGY):
        if name in overrides and overrides[name] != current.get(name):
            raise invalid(
                name,
                overrides[name],
                "this broker runs no schema registry to validate against;"
                " start localbroker with --schema-registry PORT",
            )


class _Part:
    """Checks one part (key or value) of a batch's records, remembering each schema id's
    verdict so a batch of records written with one schema looks it up once."""

    def __init__(self, name: str, topic: str, strategy: SubjectNameStrategy, ids: SchemaIds):
        self.name = name
        self.topic = topic
        self.strategy = strategy
        self.ids = ids
        self.verdicts: dict[int, str | None] = {}

    def problem(self, data: bytes | None) -> str | None:
        """Why `data` is refused, or None when it passes."""
        if data is None:
            return None
        if len(data) < HEADER_SIZE or data[0] != MAGIC_BYTE:
            return (
                f"{self.name} has no schema id: it does not start with magic byte 0 and a"
                " 4-byte schema id (Confluent's wire format)"
            )
        schema_id = int.from_bytes(data[1:HEADER_SIZE], "big", signed=True)
        if schema_id not in self.verdicts:
            self.verdicts[schema_id] = self._verdict(schema_id)
        return self.verdicts[schema_id]

    def _verdict(self, schema_id: int) -> str | None:
        subject = self._subject(schema_id)
        if subject is None:
            return f"{self.name} schema id {schema_id} is not registered"
        if self.ids.registered(subject, schema_id):
            return None
        return f"{self.name} schema id {schema_id} is not registered under subject '{subject}'"

    def _subject(self, schema_id: int) -> str | None:
        if self.strategy == SubjectNameStrategy.TOPIC:
            return f"{self.topic}-{self.name}"
        record_name = self.ids.record_name(schema_id)
        if record_name is None:
            return None
        if self.strategy == SubjectNameStrategy.RECORD:
            return record_name
        return f"{self.topic}-{record_name}"


def refused_records(
    records: Iterable[tuple[bytes | None, bytes | None]],
    validation: SchemaValidation,
    ids: SchemaIds,
) -> list[tuple[int, str]]:
    """(index in the batch, why) for each of `records` (key, value) that `validation`
    refuses; empty when the batch may be appended. Every refused record is named, as Kafka's
    LogValidator names each record it refuses, and the batch is appended whole or not at all."""
    parts = [
        (position, _Part(name, validation.topic, strategy, ids))
        for position, name, strategy in ((0, "key", validation.key), (1, "value", validation.value))
        if strategy is not None
    ]
    refused = []
    for index, record in enumerate(records):
        for position, part in parts:
            problem = part.problem(record[position])
            if problem is not None:
                refused.append((index, f"record {index} of the batch: {problem}"))
                break
    return refused
