"""The metadata records of the cluster's metadata log, with Kafka's names and fields.

Kafka writes these records to `__cluster_metadata-0` in its own binary schemas
(metadata/src/main/resources/common/metadata/*Record.json). Only localbroker nodes read
our log, so a record's value is JSON in the shape Kafka's own JSON converters print them
(`kafka-dump-log --cluster-metadata-decoder`): `{"type": "TOPIC_RECORD", "version": 0,
"data": {"name": ..., "topicId": ...}}`, field names camelCased from the schema, uuids in
Kafka's base64. The fields are those cluster mode needs; directories, ELR, controlled shutdown and
features are left out and the version written is 0 for each. A field added later
(reassignment's removing / adding replicas) has a default, so logs written before it read
the same.

`decode` checks every field's type: a record it cannot read raises `MetadataRecordError`,
so a damaged log stops a node rather than building a wrong image.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, TypeVar, Union

from ..protocol.kafka_uuid import kafka_uuid_string, parse_kafka_uuid
from ..protocol.names import ConfigResourceType, SecurityProtocol
from ..security.listeners import Endpoint

NO_LEADER_CHANGE = -2
"""PartitionChangeRecord's Leader when the leader did not change (Kafka's LeaderConstants)."""


class FencingChange(IntEnum):
    """BrokerRegistrationChangeRecord's Fenced (Kafka's BrokerRegistrationFencingChange)."""

    UNFENCE = -1
    NONE = 0
    FENCE = 1


@dataclass(frozen=True, slots=True)
class RegisterBrokerRecord:
    TYPE: ClassVar[str] = "REGISTER_BROKER_RECORD"
    broker_id: int
    incarnation_id: uuid.UUID
    """Which process registered: a restarted broker registers again with a new one."""
    broker_epoch: int
    """The offset of this record in the metadata log (Kafka's broker epoch)."""
    end_points: tuple[Endpoint, ...]
    rack: str | None
    fenced: bool = True


@dataclass(frozen=True, slots=True)
class BrokerRegistrationChangeRecord:
    TYPE: ClassVar[str] = "BROKER_REGISTRATION_CHANGE_RECORD"
    broker_id: int
    broker_epoch: int
    fenced: FencingChange = FencingChange.NONE


@dataclass(frozen=True, slots=True)
class UnregisterBrokerRecord:
    TYPE: ClassVar[str] = "UNREGISTER_BROKER_RECORD"
    broker_id: int
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class TopicRecord:
    TYPE: ClassVar[str] = "TOPIC_RECORD"
    name: str
    topic_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    TYPE: ClassVar[str] = "PARTITION_RECORD"
    partition_id: int
    topic_id: uuid.UUID
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int
    partition_epoch: int
    removing_replicas: tuple[int, ...] = ()
    adding_replicas: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PartitionChangeRecord:
    """A change to one partition; a field left at its default did not change.

    Applying it raises the partition epoch, and the leader epoch when `leader` is set
    (Kafka's PartitionRegistration.merge).
    """

    TYPE: ClassVar[str] = "PARTITION_CHANGE_RECORD"
    partition_id: int
    topic_id: uuid.UUID
    isr: tuple[int, ...] | None = None
    leader: int = NO_LEADER_CHANGE
    replicas: tuple[int, ...] | None = None
    removing_replicas: tuple[int, ...] | None = None
    adding_replicas: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class RemoveTopicRecord:
    TYPE: ClassVar[str] = "REMOVE_TOPIC_RECORD"
    topic_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    TYPE: ClassVar[str] = "CONFIG_RECORD"
    resource_type: ConfigResourceType
    resource_name: str
    name: str
    value: str | None
    """None deletes the setting."""


@dataclass(frozen=True, slots=True)
class ProducerIdsRecord:
    TYPE: ClassVar[str] = "PRODUCER_IDS_RECORD"
    broker_id: int
    broker_epoch: int
    next_producer_id: int
    """The first producer id of the next block the controller hands out."""


MetadataRecord = (
    RegisterBrokerRecord
    | BrokerRegistrationChangeRecord
    | UnregisterBrokerRecord
    | TopicRecord
    | PartitionRecord
    | PartitionChangeRecord
    | RemoveTopicRecord
    | ConfigRecord
    | ProducerIdsRecord
)

_T = TypeVar("_T")
RECORD_VERSION = 0
_RECORD_TYPES: dict[str, type[MetadataRecord]] = {
    cls.TYPE: cls for cls in typing.get_args(MetadataRecord)
}
_ENDPOINT_FIELDS = {"name": "name", "host": "host", "port": "port", "securityProtocol": "protocol"}
"""BrokerEndpoint's schema names for our `Endpoint`'s attributes."""


class MetadataRecordError(ValueError):
    """A metadata record value this node cannot read."""


def encode(record: MetadataRecord) -> bytes:
    data = {_camel(f.name): _to_json(getattr(record, f.name)) for f in dataclasses.fields(record)}
    document = {"type": record.TYPE, "version": RECORD_VERSION, "data": data}
    return json.dumps(document, separators=(",", ":")).encode()


def decode(value: bytes) -> MetadataRecord:
    try:
        document = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise MetadataRecordError(f"metadata record is not JSON: {e}") from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise MetadataRecordError("metadata record is not a {type, version, data} object")
    record_type = _RECORD_TYPES.get(document.get("type"))  # type: ignore[arg-type]
    if record_type is None:
        raise MetadataRecordError(f"unknown metadata record type {document.get('type')!r}")
    if document.get("version") != RECORD_VERSION:
        raise MetadataRecordError(
            f"unsupported {record_type.TYPE} version {document.get('version')!r}"
        )
    return _from_fields(record_type, document["data"])


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _to_json(value: object) -> Any:
    if isinstance(value, uuid.UUID):
        return kafka_uuid_string(value)
    if isinstance(value, Endpoint):
        return {key: _to_json(getattr(value, attr)) for key, attr in _ENDPOINT_FIELDS.items()}
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    if isinstance(value, IntEnum):
        return int(value)
    return value


def _from_fields(record_type: type[MetadataRecord], data: dict[str, Any]) -> MetadataRecord:
    hints = typing.get_type_hints(record_type)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(record_type):
        key = _camel(field.name)
        if key in data:
            values[field.name] = _from_json(hints[field.name], data[key], key)
        elif field.default is dataclasses.MISSING:
            raise MetadataRecordError(f"{record_type.TYPE} has no {key}")
    return record_type(**values)


def _from_json(hint: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = (a for a in typing.get_args(hint) if a is not type(None))
        return _from_json(inner, value, key)
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        return tuple(_from_json(item_hint, item, key) for item in _expect(list, value, key))
    if hint is uuid.UUID:
        try:
            return parse_kafka_uuid(_expect(str, value, key))
        except ValueError:
            raise MetadataRecordError(f"{key} {value!r} is not a Kafka uuid") from None
    if hint is Endpoint:
        fields = _expect(dict, value, key)
        try:
            return Endpoint(
                name=_expect(str, fields["name"], key),
                protocol=SecurityProtocol(_expect(int, fields["securityProtocol"], key)),
                host=_expect(str, fields["host"], key),
                port=_expect(int, fields["port"], key),
            )
        except (KeyError, ValueError) as e:
            raise MetadataRecordError(f"{key} has a bad endpoint {value!r}: {e}") from None
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        try:
            return hint(_expect(int, value, key))
        except ValueError:
            raise MetadataRecordError(f"{key} {value!r} is not a {hint.__name__}") from None
    return _expect(hint, value, key)


def _expect(kind: type[_T], value: object, key: str) -> _T:
    # bool is an int in Python; a JSON true is not a broker id.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MetadataRecordError(f"{key} {value!r} is not a {kind.__name__}")
    return value
