"""The metadata log's records: Kafka's names and fields, JSON in Kafka's dump shape."""

from __future__ import annotations

import dataclasses
import json
import typing
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localbroker.cluster.records import (
    BrokerRegistrationChangeRecord,
    ConfigRecord,
    FencingChange,
    MetadataRecord,
    MetadataRecordError,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
    decode,
    encode,
)
from localbroker.protocol.names import ConfigResourceType, SecurityProtocol
from localbroker.security.listeners import Endpoint

TOPIC_ID = uuid.UUID("6f1f6a3c-1d9b-4a8e-9a51-0c3c2b7d9e10")
TOPIC_B64 = "bx9qPB2bSo6aUQw8K32eEA"


def _value(record_type: str, **data: object) -> bytes:
    return json.dumps({"type": record_type, "version": 0, "data": data}).encode()


RECORDS: list[MetadataRecord] = [
    RegisterBrokerRecord(
        broker_id=2,
        incarnation_id=uuid.UUID(int=7),
        broker_epoch=12,
        end_points=(
            Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9094),
            Endpoint("CONTROLLER", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9097),
        ),
        rack=None,
    ),
    RegisterBrokerRecord(2, uuid.UUID(int=8), 40, (), rack="r1", fenced=False),
    BrokerRegistrationChangeRecord(2, 12, FencingChange.UNFENCE),
    BrokerRegistrationChangeRecord(2, 12),
    UnregisterBrokerRecord(2, 12),
    TopicRecord("orders", TOPIC_ID),
    PartitionRecord(0, TOPIC_ID, (1, 2, 0), (1, 2), 1, 3, 7),
    PartitionChangeRecord(0, TOPIC_ID),
    PartitionChangeRecord(0, TOPIC_ID, isr=(1,), leader=-1, replicas=(1, 0)),
    PartitionRecord(
        0, TOPIC_ID, (2, 0), (0,), 0, 0, 1, removing_replicas=(0,), adding_replicas=(2,)
    ),
    PartitionChangeRecord(0, TOPIC_ID, replicas=(2, 0), removing_replicas=(0,), adding_replicas=()),
    RemoveTopicRecord(TOPIC_ID),
    ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", "1000"),
    ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", None),
    ProducerIdsRecord(1, 12, 2000),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_each_record_decodes_to_what_was_encoded(record: MetadataRecord) -> None:
    assert decode(encode(record)) == record


def test_a_record_is_json_in_the_shape_kafka_dumps_it() -> None:
    """kafka-dump-log --cluster-metadata-decoder prints {type, version, data} with the
    schema's field names camelCased and uuids in Kafka's base64."""
    document = json.loads(encode(PartitionChangeRecord(3, TOPIC_ID, isr=(0, 1))))
    assert document == {
        "type": "PARTITION_CHANGE_RECORD",
        "version": 0,
        "data": {
            "partitionId": 3,
            "topicId": TOPIC_B64,
            "isr": [0, 1],
            "leader": -2,
            "replicas": None,
            "removingReplicas": None,
            "addingReplicas": None,
        },
    }
    endpoint = json.loads(encode(RECORDS[0]))["data"]["endPoints"][0]
    assert endpoint == {
        "name": "PLAINTEXT",
        "host": "127.0.0.1",
        "port": 9094,
        "securityProtocol": 0,
    }


def test_fields_left_out_take_the_schema_defaults() -> None:
    """PartitionChangeRecord's Leader defaults to -2 (no change), Fenced to 0 (no change)."""
    value = _value("PARTITION_CHANGE_RECORD", partitionId=1, topicId=TOPIC_B64)
    assert decode(value) == PartitionChangeRecord(1, TOPIC_ID)


def test_a_partition_record_written_before_reassignment_has_no_replicas_moving() -> None:
    """Logs written before removingReplicas / addingReplicas existed read the same."""
    record = decode(_value("PARTITION_RECORD", **PARTITION))
    assert isinstance(record, PartitionRecord)
    assert (record.removing_replicas, record.adding_replicas) == ((), ())


PARTITION = {
    "partitionId": 0,
    "topicId": TOPIC_B64,
    "replicas": [],
    "isr": [],
    "leader": 0,
    "leaderEpoch": 0,
    "partitionEpoch": 0,
}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[1]", "not a {type, version, data} object"),
        (b'{"type":"FEATURE_LEVEL_RECORD","version":0,"data":{}}', "unknown metadata record type"),
        (b'{"type":"TOPIC_RECORD","version":1,"data":{}}', "unsupported TOPIC_RECORD version 1"),
        (_value("TOPIC_RECORD", name="orders"), "TOPIC_RECORD has no topicId"),
        (_value("TOPIC_RECORD", name=7, topicId=TOPIC_B64), "name 7 is not a str"),
        (_value("TOPIC_RECORD", name="o", topicId="!"), "topicId '!' is not a Kafka uuid"),
        (
            _value("PARTITION_RECORD", **(PARTITION | {"partitionId": True})),
            "partitionId True is not",
        ),
        (
            _value("PARTITION_RECORD", **(PARTITION | {"replicas": ["1"]})),
            "replicas '1' is not a int",
        ),
        (
            _value("BROKER_REGISTRATION_CHANGE_RECORD", brokerId=0, brokerEpoch=0, fenced=5),
            "fenced 5 is not a FencingChange",
        ),
        (
            _value(
                "REGISTER_BROKER_RECORD",
                brokerId=0,
                incarnationId=TOPIC_B64,
                brokerEpoch=0,
                endPoints=[{"name": "PLAINTEXT", "host": "h", "port": 1}],
                rack=None,
            ),
            "endPoints has a bad endpoint",
        ),
    ],
)
def test_a_value_it_cannot_read_is_refused_with_why(value: bytes, message: str) -> None:
    with pytest.raises(MetadataRecordError, match=message.replace("{", r"\{").replace("}", r"\}")):
        decode(value)


@settings(max_examples=100, deadline=None)
@given(st.one_of(*(st.from_type(cls) for cls in typing.get_args(MetadataRecord))))
def test_any_record_decodes_to_what_was_encoded(record: MetadataRecord) -> None:
    decoded = decode(encode(record))
    assert decoded == record
    # An enum back as a plain int would still compare equal; the image tests it with `is`.
    for field in dataclasses.fields(record):
        assert type(getattr(decoded, field.name)) is type(getattr(record, field.name))
