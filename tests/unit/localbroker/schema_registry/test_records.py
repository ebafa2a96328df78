"""The `_schemas` records byte for byte as Confluent writes them, and the state they build.

Compaction keeps the last record per key *bytes*, so a key written here must equal the one a
Confluent Schema Registry writes for the same thing (its Jackson mapper: compact JSON, the
properties in its @JsonPropertyOrder, a global entry's subject as null).
"""

from __future__ import annotations

import pytest

from localbroker.schema_registry.records import (
    ClearSubjectRecord,
    ConfigRecord,
    DeleteSubjectRecord,
    Mode,
    ModeRecord,
    NoopRecord,
    Record,
    SchemaRecord,
    SchemaTombstone,
    decode,
    encode,
)
from localbroker.schema_registry.schema_format import (
    CompatibilityLevel,
    SchemaReference,
    SchemaType,
)
from localbroker.schema_registry.state import RegistryState

PERSON = SchemaRecord(
    "people-value",
    2,
    7,
    SchemaType.AVRO,
    '{"type":"string"}',
    (SchemaReference("com.example.Address", "address", 1),),
)


@pytest.mark.parametrize(
    ("record", "key"),
    [
        (PERSON, '{"keytype":"SCHEMA","subject":"people-value","version":2,"magic":1}'),
        (
            ConfigRecord(None, CompatibilityLevel.FULL),
            '{"keytype":"CONFIG","subject":null,"magic":0}',
        ),
        (ModeRecord("s", Mode.IMPORT), '{"keytype":"MODE","subject":"s","magic":0}'),
        (DeleteSubjectRecord("s", 3), '{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}'),
        (ClearSubjectRecord("s"), '{"keytype":"CLEAR_SUBJECT","subject":"s","magic":0}'),
        (NoopRecord(), '{"keytype":"NOOP","magic":0}'),
    ],
)
def test_keys_are_confluents_bytes_and_records_round_trip(record: Record, key: str) -> None:
    encoded_key, value = encode(record)
    assert encoded_key == key.encode()
    assert decode(encoded_key, value) == record


def test_values_as_confluent_writes_them() -> None:
    assert encode(PERSON)[1] == (
        b'{"subject":"people-value","version":2,"id":7,"schemaType":"AVRO",'
        b'"references":[{"name":"com.example.Address","subject":"address","version":1}],'
        b'"schema":"{\\"type\\":\\"string\\"}","deleted":false}'
    )
    assert encode(ConfigRecord("s", CompatibilityLevel.NONE))[1] == (
        b'{"subject":"s","compatibilityLevel":"NONE"}'
    )
    assert encode(ConfigRecord(None, CompatibilityLevel.NONE))[1] == (
        b'{"compatibilityLevel":"NONE"}'
    )
    assert encode(SchemaTombstone("s", 1))[1] is None
    assert encode(ModeRecord(None, None))[1] is None


def test_confluents_extra_fields_are_read_past() -> None:
    """Older Confluent versions leave schemaType out (Avro); newer ones add md5 and
    metadata; a config written for `normalize` alone has no level."""
    key = b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}'
    value = b'{"subject":"s","version":1,"id":3,"md5":"xyz","schema":"\\"int\\"","deleted":true}'
    assert decode(key, value) == SchemaRecord("s", 1, 3, SchemaType.AVRO, '"int"', deleted=True)
    config = decode(b'{"keytype":"CONFIG","subject":"s","magic":0}', b'{"normalize":true}')
    assert config == ConfigRecord("s", None, True)
    assert decode(b'{"keytype":"CONTEXT","tenant":"t","context":"c","magic":0}', b"{}") is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (b"not json", None),
        (b"[]", None),
        (b'{"keytype":"SCHEMA","subject":"s","magic":1}', b"{}"),
        (b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', b'{"id":"1"}'),
        (b'{"keytype":"MODE","subject":"s","magic":0}', b'{"mode":"SOMETIMES"}'),
    ],
)
def test_malformed_records_raise_value_error(key: bytes, value: bytes | None) -> None:
    with pytest.raises(ValueError):
        decode(key, value)


def version(subject: str, number: int, schema_id: int, text: str = '"int"') -> SchemaRecord:
    return SchemaRecord(subject, number, schema_id, SchemaType.AVRO, text)


def test_the_state_follows_deletes_and_ids() -> None:
    state = RegistryState()
    for record in [version("a", 1, 1), version("a", 2, 2, '"long"'), version("b", 1, 1)]:
        state.apply(record)
    assert state.max_id == 2
    state.apply(DeleteSubjectRecord("a", 2))
    assert state.subjects() == ["b"]
    assert state.subjects(deleted=True) == ["a", "b"]
    assert [r.version for r in state.versions("a", deleted=True)] == [1, 2]
    state.apply(SchemaTombstone("a", 2))
    assert state.content(2) is None
    assert state.max_id == 2, "ids are never reused"
    assert state.next_version("a") == 2
    state.apply(version("c", 1, 1, '"string"'))
    assert state.versions("c") == [], "an id reused for another schema is skipped"
    state.apply(ClearSubjectRecord(None))
    assert state.subjects(deleted=True) == ["b"]
    assert [use.subject for use in state.uses_of(1)] == ["b"]


def test_modes_and_configs_in_scope() -> None:
    state = RegistryState()
    assert (state.mode_in_scope("s"), state.compatibility("s")) == (
        Mode.READWRITE,
        CompatibilityLevel.BACKWARD,
    )
    state.apply(ConfigRecord(None, CompatibilityLevel.FULL))
    state.apply(ModeRecord("s", Mode.READONLY))
    assert (state.mode_in_scope("s"), state.compatibility("s")) == (
        Mode.READONLY,
        CompatibilityLevel.FULL,
    )
    state.apply(ModeRecord(None, Mode.READONLY_OVERRIDE))
    state.apply(ModeRecord("t", Mode.IMPORT))
    assert state.mode_in_scope("t") is Mode.READONLY_OVERRIDE
    state.apply(ConfigRecord(None, None))
    assert state.compatibility("s") is CompatibilityLevel.BACKWARD
