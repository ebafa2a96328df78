"""Responses with pre-encoded elements (protocol/spliced.py) are byte for byte what kio writes
for the whole response: every Metadata version, with topics in error, internal topics, topic
and cluster authorised operations, and a response with tagged fields after the array."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kio.schema.errors import ErrorCode

from localbroker.protocol.build import build
from localbroker.protocol.codec import encode_response, response_schema
from localbroker.protocol.names import ApiKey
from localbroker.protocol.spliced import Spliced, element_schema, encode_entity


def joined(chunks: list[bytes | bytearray | memoryview]) -> bytes:
    return b"".join(bytes(chunk) for chunk in chunks)


def partition(index: int) -> dict[str, Any]:
    return {
        "error_code": ErrorCode.none,
        "partition_index": index,
        "leader_id": 1,
        "leader_epoch": 0,
        "replica_nodes": [1],
        "isr_nodes": [1],
        "offline_replicas": [],
    }


def metadata_topics(version: int) -> list[dict[str, Any]]:
    topics = [
        {
            "error_code": ErrorCode.none,
            "name": "orders",
            "topic_id": uuid.uuid4(),
            "is_internal": False,
            "partitions": [partition(i) for i in range(3)],
            "topic_authorized_operations": 3576,
        },
        {
            "error_code": ErrorCode.none,
            "name": "__consumer_offsets",
            "topic_id": uuid.uuid4(),
            "is_internal": True,
            "partitions": [partition(i) for i in range(50)],
        },
        {
            "error_code": ErrorCode.unknown_topic_or_partition,
            "name": "missing",
            "topic_id": None,
            "partitions": [],
            "topic_authorized_operations": 8,
        },
        {"error_code": ErrorCode.topic_authorization_failed, "name": "secret", "partitions": []},
    ]
    if version >= 12:  # the first version whose topic names may be null
        topics.append(
            {"error_code": ErrorCode.unknown_topic_id, "name": None, "topic_id": uuid.uuid4()}
        )
    return topics


def metadata_response(topics: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "throttle_time": 0,
        "brokers": [{"node_id": 1, "host": "localhost", "port": 9092, "rack": None}],
        "cluster_id": "MkU3OEVBNTcwNTJENDM2Qg",
        "controller_id": 1,
        "topics": topics,
        "cluster_authorized_operations": 3968,
        "error_code": ErrorCode.none,
    }


def spliced_and_whole(api_key: int, version: int, field: str, data: dict[str, Any]) -> Any:
    schema = response_schema(api_key, version)
    element = element_schema(schema, field)
    elements = [encode_entity(build(element, item)) for item in data[field]]
    spliced = Spliced(build(schema, {**data, field: []}), field, elements)
    whole = build(schema, data)
    return joined(encode_response(9, spliced)), joined(encode_response(9, whole))


@pytest.mark.parametrize("version", range(14))
def test_metadata_spliced_is_kios_encoding(version: int) -> None:
    spliced, whole = spliced_and_whole(
        ApiKey.METADATA, version, "topics", metadata_response(metadata_topics(version))
    )
    assert spliced == whole


@pytest.mark.parametrize("version", [0, 9, 13])
def test_metadata_without_topics(version: int) -> None:
    spliced, whole = spliced_and_whole(ApiKey.METADATA, version, "topics", metadata_response([]))
    assert spliced == whole


def test_tagged_fields_after_the_array_stay_where_kio_puts_them() -> None:
    """ApiVersions v3 ends in tagged fields (features, their epoch) written after its array."""
    data = {
        "error_code": ErrorCode.none,
        "api_keys": [
            {"api_key": ApiKey.PRODUCE, "min_version": 3, "max_version": 12},
            {"api_key": ApiKey.METADATA, "min_version": 0, "max_version": 13},
        ],
        "throttle_time": 0,
        "supported_features": [{"name": "transaction.version", "min_version": 0, "max_version": 2}],
        "finalized_features_epoch": 7,
        "finalized_features": [
            {"name": "transaction.version", "max_version_level": 2, "min_version_level": 2}
        ],
    }
    spliced, whole = spliced_and_whole(ApiKey.API_VERSIONS, 3, "api_keys", data)
    assert spliced == whole
