"""`build`: one plain description of a response becomes the dataclass of any API version.

Handlers describe a response once with Kafka's field names; these tests pin down what
`build` promises them: fields a version lacks are dropped, missing optional fields take the
schema default, milliseconds and error numbers become kio's richer types, None survives,
and a required field left out is a loud error rather than a silently wrong response.
"""

from __future__ import annotations

import datetime
import io
import struct
from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from kio.schema.metadata.v1.response import MetadataResponse as MetadataResponseV1
from kio.schema.metadata.v12.response import MetadataResponse as MetadataResponseV12
from kio.schema.produce.v3.response import PartitionProduceResponse as PartitionV3
from kio.schema.produce.v3.response import ProduceResponse as ProduceResponseV3
from kio.schema.produce.v9.response import PartitionProduceResponse as PartitionV9
from kio.schema.produce.v9.response import ProduceResponse as ProduceResponseV9
from kio.serial import entity_writer

from localbroker.protocol.build import build

APPEND_TIME_MS = 1_700_000_123_456


def produce_description(log_append_time: int | None = APPEND_TIME_MS) -> dict[str, Any]:
    """What the produce handler returns for one partition, as plain data."""
    return {
        "responses": [
            {
                "name": "orders",
                "partition_responses": [
                    {
                        "index": 2,
                        "error_code": 0,
                        "base_offset": 41,
                        "log_append_time": log_append_time,
                        "log_start_offset": 7,
                        "error_message": None,
                    }
                ],
            }
        ],
        "throttle_time": 250,
    }


def test_newest_version_gets_every_field_converted() -> None:
    response = build(ProduceResponseV9, produce_description())
    assert isinstance(response, ProduceResponseV9)
    assert response.throttle_time == datetime.timedelta(milliseconds=250)
    partition = response.responses[0].partition_responses[0]
    assert isinstance(partition, PartitionV9)
    assert partition.error_code is ErrorCode.none
    assert partition.base_offset == 41
    assert partition.log_start_offset == 7
    assert partition.log_append_time == datetime.datetime(
        2023, 11, 14, 22, 15, 23, 456000, tzinfo=datetime.UTC
    )
    assert partition.record_errors == ()  # array without a default: empty, not an error
    assert partition.error_message is None


def test_old_version_drops_fields_it_does_not_have() -> None:
    """Produce v3 has no log_start_offset or error_message; they are silently dropped."""
    response = build(ProduceResponseV3, produce_description())
    assert isinstance(response, ProduceResponseV3)
    partition = response.responses[0].partition_responses[0]
    assert isinstance(partition, PartitionV3)
    assert not hasattr(partition, "log_start_offset")
    assert partition.base_offset == 41


def test_log_append_time_is_encoded_as_the_same_milliseconds() -> None:
    """The int the log returns reaches the wire unchanged, through kio's datetime type."""
    partition = build(
        PartitionV3,
        {"index": 0, "error_code": 0, "base_offset": 5, "log_append_time": APPEND_TIME_MS},
    )
    out = io.BytesIO()
    entity_writer(PartitionV3)(out, partition)
    assert out.getvalue() == struct.pack(">ihqq", 0, 0, 5, APPEND_TIME_MS)


def test_none_is_kept_and_means_null() -> None:
    """None for a nullable field stays None (CreateTime topics answer log_append_time -1)."""
    partition = build(ProduceResponseV9, produce_description(None)).responses[0]
    assert partition.partition_responses[0].log_append_time is None
    out = io.BytesIO()
    entity_writer(PartitionV3)(
        out, build(PartitionV3, {"index": 0, "error_code": 0, "base_offset": 5})
    )
    assert out.getvalue() == struct.pack(">ihqq", 0, 0, 5, -1)


def test_defaults_fill_fields_left_out() -> None:
    response = build(ProduceResponseV9, {"responses": []})
    assert response.throttle_time == datetime.timedelta(0)
    partition = build(PartitionV9, {"index": 1, "error_code": 3, "base_offset": -1})
    assert partition.error_code is ErrorCode.unknown_topic_or_partition
    assert partition.log_start_offset == -1
    assert partition.log_append_time is None
    assert partition.record_errors == ()


def test_error_code_objects_and_datetimes_pass_through() -> None:
    when = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    partition = build(
        PartitionV9,
        {
            "index": 0,
            "error_code": ErrorCode.not_leader_or_follower,
            "base_offset": 0,
            "log_append_time": when,
        },
    )
    assert partition.error_code is ErrorCode.not_leader_or_follower
    assert partition.log_append_time is when


def test_unknown_error_number_is_refused() -> None:
    with pytest.raises(ValueError):
        build(PartitionV9, {"index": 0, "error_code": 31_999, "base_offset": 0})


def test_nested_arrays_of_entities_and_of_primitives() -> None:
    """Metadata: topics -> partitions -> replica ids, as lists in, tuples out."""
    description = {
        "throttle_time": 0,
        "brokers": [{"node_id": 0, "host": "localhost", "port": 9092, "rack": None}],
        "cluster_id": "cluster",
        "controller_id": 0,
        "topics": [
            {
                "error_code": 0,
                "name": "orders",
                "topic_id": None,
                "partitions": [
                    {
                        "error_code": 0,
                        "partition_index": i,
                        "leader_id": 0,
                        "leader_epoch": 0,
                        "replica_nodes": [0],
                        "isr_nodes": [0],
                    }
                    for i in range(3)
                ],
            }
        ],
    }
    response = build(MetadataResponseV12, description)
    topic = response.topics[0]
    assert topic.name == "orders"
    assert topic.is_internal is False  # default
    assert topic.topic_authorized_operations == -(2**31)  # default
    assert [p.partition_index for p in topic.partitions] == [0, 1, 2]
    assert topic.partitions[2].replica_nodes == (0,)
    assert topic.partitions[2].offline_replicas == ()  # default of a primitive array
    # The same description fits v1, which has neither leader_epoch nor cluster_id.
    old = build(MetadataResponseV1, description)
    assert not hasattr(old.topics[0].partitions[0], "leader_epoch")
    assert old.topics[0].partitions[1].isr_nodes == (0,)


def test_prebuilt_entities_are_used_as_they_are() -> None:
    partition = build(PartitionV9, {"index": 0, "error_code": 0, "base_offset": 0})
    topic = build(
        ProduceResponseV9,
        {"responses": [{"name": "t", "partition_responses": [partition]}]},
    )
    assert topic.responses[0].partition_responses[0] is partition
    assert build(PartitionV9, partition) is partition


def test_missing_required_field_is_an_error() -> None:
    """A handler that forgets base_offset must fail loudly, naming the field and class."""
    with pytest.raises(
        TypeError,
        match=r"kio\.schema\.produce\.v9\.response\.PartitionProduceResponse"
        r" needs field 'base_offset'",
    ):
        build(PartitionV9, {"index": 0, "error_code": 0})


def test_missing_required_field_in_a_nested_entity() -> None:
    with pytest.raises(TypeError, match="PartitionProduceResponse needs field 'error_code'"):
        build(
            ProduceResponseV9,
            {"responses": [{"name": "orders", "partition_responses": [{"index": 0}]}]},
        )


def test_arrays_left_out_are_empty() -> None:
    """Arrays have no schema default in kio; leaving one out means an empty array."""
    response = build(ProduceResponseV9, {"responses": [{"name": "orders"}]})
    assert response.responses[0].partition_responses == ()
