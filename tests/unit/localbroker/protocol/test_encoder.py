"""The broker's encoder (protocol/encoder.py) writes exactly kio's bytes: for every response
schema of every API the broker serves, on Hypothesis' examples (tagged fields set or not,
nulls, nested arrays, payloads past the by-reference threshold); large payloads go out by
reference, not copied; and each schema's function is generated once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kio.serial import entity_writer
from kio.serial.writers import write_unsigned_varint
from kio.static.primitive import Records

from localbroker.handlers import HANDLERS
from localbroker.protocol.build import build
from localbroker.protocol.chunks import LARGE, ChunkWriter
from localbroker.protocol.codec import response_schema
from localbroker.protocol.encoder import encode, encoder
from localbroker.protocol.names import ApiKey
from localbroker.varints import uvarint

# kio registers no strategy for record sets (bytes); some examples cross the threshold at
# which the encoder keeps a payload by reference.
st.register_type_strategy(Records, st.binary(max_size=2 * LARGE))


def kio_bytes(entity: Any) -> bytes:
    buffer = io.BytesIO()
    entity_writer(type(entity))(buffer, entity)
    return buffer.getvalue()


def encoded(entity: Any) -> bytes:
    out = ChunkWriter()
    encode(out, entity)
    return b"".join(bytes(chunk) for chunk in out.chunks())


@pytest.mark.parametrize("api_key", sorted(HANDLERS), ids=lambda key: ApiKey(key).name)
def test_every_served_response_encodes_as_kio_does(api_key: int) -> None:
    handler = HANDLERS[api_key]
    for version in range(handler.min_version, handler.max_version + 1):
        schema = response_schema(api_key, version)

        @settings(
            max_examples=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.from_type(schema))
        def same_bytes(response: Any) -> None:
            assert encoded(response) == kio_bytes(response), repr(response)

        same_bytes()


def test_large_payloads_are_kept_by_reference() -> None:
    """A record set of LARGE bytes or more is handed to the transport as it is; smaller
    fields around it share buffers."""
    records = bytes(range(256)) * (LARGE // 256 + 1)
    partition = {
        "partition_index": 0,
        "error_code": 0,
        "high_watermark": 10,
        "records": records,
    }
    response = build(
        response_schema(ApiKey.FETCH, 12),
        {
            "throttle_time": 0,
            "error_code": 0,
            "session_id": 0,
            "responses": [{"topic": "orders", "partitions": [partition, partition]}],
        },
    )
    out = ChunkWriter()
    encode(out, response)
    chunks = out.chunks()
    assert sum(chunk is records for chunk in chunks) == 2
    assert len(chunks) == 5  # head, records, the second partition's fields, records, the rest
    assert b"".join(bytes(chunk) for chunk in chunks) == kio_bytes(response)


def test_a_schema_is_compiled_once() -> None:
    schema = response_schema(ApiKey.PRODUCE, 11)
    assert encoder(schema) is encoder(schema)


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16_383, 16_384, 2**31 - 1])
def test_unsigned_varints(value: int) -> None:
    buffer = io.BytesIO()
    write_unsigned_varint(buffer, value)  # type: ignore[arg-type]
    assert uvarint(value) == buffer.getvalue()
