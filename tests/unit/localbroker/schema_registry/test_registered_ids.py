"""The registry's answers to schema validation (registered_ids.py): ids by subject as the
`_schemas` records leave them, and the record names Confluent's strategies take from schemas."""

from __future__ import annotations

import pytest

from localbroker.schema_registry.records import DeleteSubjectRecord, SchemaRecord
from localbroker.schema_registry.registered_ids import RegisteredIds, record_name
from localbroker.schema_registry.schema_format import SchemaType
from localbroker.schema_registry.state import RegistryState

AVRO, JSON, PROTOBUF = SchemaType.AVRO, SchemaType.JSON, SchemaType.PROTOBUF
ORDER = '{"type": "record", "name": "Order", "namespace": "com.acme", "fields": []}'


def test_an_id_counts_for_the_subjects_whose_live_versions_have_it() -> None:
    state = RegistryState()
    state.apply(SchemaRecord("orders-value", 1, 1, AVRO, ORDER))
    state.apply(SchemaRecord("copies-value", 1, 1, AVRO, ORDER))
    state.apply(SchemaRecord("gone-value", 1, 2, AVRO, '"string"'))
    state.apply(DeleteSubjectRecord("gone-value", 1))
    ids = RegisteredIds(state)
    assert ids.registered("orders-value", 1) and ids.registered("copies-value", 1)
    assert not ids.registered("orders-key", 1)
    assert not ids.registered("gone-value", 2)  # soft-deleted
    assert not ids.registered("orders-value", 3)
    assert ids.record_name(1) == "com.acme.Order"
    assert ids.record_name(2) is None  # not a record
    assert ids.record_name(3) is None  # no such id


@pytest.mark.parametrize(
    ("schema_type", "text", "name"),
    [
        (AVRO, ORDER, "com.acme.Order"),
        (
            AVRO,
            '{"type": "record", "name": "a.b.Order", "namespace": "x", "fields": []}',
            "a.b.Order",
        ),
        (AVRO, '{"type": "record", "name": "Order", "fields": []}', "Order"),
        (AVRO, '{"type": "enum", "name": "Suit", "symbols": ["A"]}', None),
        (JSON, '{"title": "Order", "type": "object"}', "Order"),
        (JSON, '{"type": "object"}', None),
        (
            PROTOBUF,
            'syntax = "proto3";\n// message Commented {}\npackage com.acme;\n'
            "enum Kind { A = 0; }\nmessage Order { message Line {} Line line = 1; }\n"
            "message Other {}\n",
            "com.acme.Order",
        ),
        (PROTOBUF, 'syntax = "proto3";\nenum Kind { A = 0; }\n', "Kind"),
    ],
)
def test_record_names_are_confluents(schema_type: SchemaType, text: str, name: str | None) -> None:
    assert record_name(schema_type, text) == name
