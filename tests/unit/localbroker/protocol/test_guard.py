"""The bounds check (protocol/guard.py) walks exactly the bytes kio writes, however it takes
fixed-size fields and arrays (in runs, and whole arrays of fixed-size elements at once): an
entity checks to its last byte, and any shorter frame is refused."""

from __future__ import annotations

import struct
import uuid
from typing import Any

import pytest
from kio.schema.errors import ErrorCode

from localbroker.protocol.build import build
from localbroker.protocol.codec import response_schema
from localbroker.protocol.guard import EncodingError, entity_check
from localbroker.protocol.names import ApiKey
from localbroker.protocol.spliced import encode_entity

PARTITIONS = [
    {"partition_index": i, "error_code": ErrorCode.none, "timestamp": -1, "offset": 7 * i}
    for i in range(3)
]
LIST_OFFSETS = {"throttle_time": 0, "topics": [{"name": "orders", "partitions": PARTITIONS}]}
METADATA = {
    "throttle_time": 0,
    "brokers": [{"node_id": 1, "host": "localhost", "port": 9092}],
    "cluster_id": "c",
    "controller_id": 1,
    "topics": [
        {
            "error_code": ErrorCode.none,
            "name": "orders",
            "topic_id": uuid.uuid4(),
            "partitions": [
                {
                    "error_code": ErrorCode.none,
                    "partition_index": i,
                    "leader_id": 1,
                    "replica_nodes": [1, 2, 3],
                    "isr_nodes": [1, 2],
                }
                for i in range(2)
            ],
        }
    ],
    "error_code": ErrorCode.none,
}
CASES = [
    (ApiKey.LIST_OFFSETS, 1, LIST_OFFSETS),  # partitions of a fixed size: checked at once
    (ApiKey.LIST_OFFSETS, 8, LIST_OFFSETS),  # flexible: tagged fields make them variable
    (ApiKey.METADATA, 9, METADATA),
    (ApiKey.METADATA, 5, METADATA),
    (ApiKey.METADATA, 0, METADATA),  # brokers end in a fixed-size field (the port)
]


def encoded(api_key: int, version: int, data: dict[str, Any]) -> bytes:
    return encode_entity(build(response_schema(api_key, version), data))


@pytest.mark.parametrize(("api_key", "version", "data"), CASES)
def test_the_check_ends_where_kios_encoding_does(
    api_key: int, version: int, data: dict[str, Any]
) -> None:
    frame = encoded(api_key, version, data)
    check = entity_check(response_schema(api_key, version))
    assert check(memoryview(frame), 0) == len(frame)
    for cut in range(len(frame)):
        with pytest.raises(EncodingError):
            check(memoryview(frame[:cut]), 0)


def test_a_count_of_fixed_size_elements_the_bytes_cannot_back_is_refused() -> None:
    frame = bytearray(encoded(ApiKey.LIST_OFFSETS, 1, LIST_OFFSETS))
    count_at = frame.index(b"orders") + len("orders")  # the topic's partition count
    assert struct.unpack_from(">i", frame, count_at) == (3,)
    struct.pack_into(">i", frame, count_at, 4)
    with pytest.raises(EncodingError):
        entity_check(response_schema(ApiKey.LIST_OFFSETS, 1))(memoryview(bytes(frame)), 0)
