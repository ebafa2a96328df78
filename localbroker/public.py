"""What code outside the broker may use of localbroker's code: the workbench's Kafka access
layer (`tui.kafka`) imports this module and nothing else of localbroker, which an
import-linter contract checks.

All of it is Kafka's, not the broker's: the names of the protocol (protocol/names.py), the
consumer protocol's bytes, building kio messages from Kafka's field names and reading
untrusted ones safely, record batches, `.properties` files, JAAS strings, SCRAM's salted
passwords, the events a group coordinator tells its observers (which the workbench's
rebalance demo also derives from the client side), the Schema Registry's formats (the
workbench decodes Confluent-framed records with the very code the registry checks them with),
and the launcher of `localbroker --cluster N` (the workbench runs its own cluster with it).
How the broker stores, schedules or answers stays behind this line, free to change.
"""

from __future__ import annotations

from random import Random
from typing import Protocol

from .cluster.launcher import HOST as CLUSTER_HOST
from .cluster.launcher import ClusterLayout, spawn_node, stop_all
from .cluster.launcher import prepare as prepare_cluster
from .config.properties import load_properties
from .groups.events import (
    GroupDeleted,
    GroupEmptied,
    GroupEvent,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
    event_from_json,
)
from .protocol.build import build
from .protocol.client_codec import encode, request_header
from .protocol.consumer_protocol import (
    assigned_partitions,
    encode_assignment,
    encode_subscription,
    owned_partitions,
    subscribed_topics,
)
from .protocol.guard import entity_check
from .protocol.kafka_uuid import kafka_uuid_string
from .protocol.names import (
    CLUSTER_METADATA_TOPIC,
    CLUSTER_RESOURCE_NAME,
    CONSUMER_PROTOCOL_TYPE,
    INTERNAL_TOPICS,
    OFFSETS_TOPIC,
    SUPPORTED_OPERATIONS,
    WILDCARD_RESOURCE,
    AclOperation,
    AclPermissionType,
    AclResourceType,
    AlterConfigOp,
    ApiKey,
    ConfigResourceType,
    ConfigSource,
    CoordinatorType,
    ElectionType,
    ErrorCode,
    GroupState,
    IsolationLevel,
    ListOffsetsTimestamp,
    PatternType,
    ScramMechanism,
    api_name,
)
from .records.batch import HEADER_SIZE, BatchHeader, read_header
from .records.codecs import decompress
from .records.reader import iter_records
from .schema_registry.schema_format import (
    CompatibilityLevel,
    InvalidSchema,
    ParsedSchema,
    SchemaFormat,
    SchemaReference,
    SchemaType,
    UndecodableRecord,
)
from .security.jaas import parse_jaas
from .security.scram import salted_password


class ValueCodec(Protocol):
    """Record bodies to JSON values and back (a ParsedSchema is one)."""

    def decode(self, body: bytes) -> object: ...

    def encode(self, value: object) -> bytes: ...


def console_codec(parsed: ParsedSchema) -> ValueCodec:
    """`parsed`'s values as Confluent's console consumer prints them and its producer reads
    them: for Avro, Avro's JSON encoding (a union's value wrapped by its branch's name, as
    Java's JsonEncoder writes it); for the other formats, their one JSON form."""
    from .schema_registry.formats.avro import AvroSchema

    return parsed.avro_json if isinstance(parsed, AvroSchema) else parsed


def schema_format(schema_type: SchemaType) -> SchemaFormat:
    """The format that parses, decodes and encodes schemas of `schema_type` (the registry's
    own, so that the workbench reads records exactly as the broker's registry checks them)."""
    from .schema_registry.formats import FORMATS

    return FORMATS[schema_type]


def example_value(parsed: ParsedSchema, rng: Random) -> object:
    """A plausible value of `parsed` drawn with `rng`, in the JSON form its `encode` takes
    (the workbench's generator; formats/examples.py says how each format draws one)."""
    from .schema_registry.formats.examples import example_value as drawn

    return drawn(parsed, rng)


__all__ = [
    "CLUSTER_HOST",
    "CLUSTER_METADATA_TOPIC",
    "CLUSTER_RESOURCE_NAME",
    "CONSUMER_PROTOCOL_TYPE",
    "HEADER_SIZE",
    "INTERNAL_TOPICS",
    "OFFSETS_TOPIC",
    "SUPPORTED_OPERATIONS",
    "WILDCARD_RESOURCE",
    "AclOperation",
    "AclPermissionType",
    "AclResourceType",
    "AlterConfigOp",
    "ApiKey",
    "BatchHeader",
    "ClusterLayout",
    "CompatibilityLevel",
    "ConfigResourceType",
    "ConfigSource",
    "CoordinatorType",
    "ElectionType",
    "ErrorCode",
    "GroupDeleted",
    "GroupEmptied",
    "GroupEvent",
    "GroupState",
    "InvalidSchema",
    "IsolationLevel",
    "LeaveReason",
    "ListOffsetsTimestamp",
    "MemberJoined",
    "MemberLeft",
    "OffsetCommitted",
    "ParsedSchema",
    "PatternType",
    "RebalanceCompleted",
    "RebalanceStarted",
    "SchemaFormat",
    "SchemaReference",
    "SchemaType",
    "ScramMechanism",
    "UndecodableRecord",
    "ValueCodec",
    "api_name",
    "assigned_partitions",
    "build",
    "console_codec",
    "decompress",
    "encode",
    "encode_assignment",
    "encode_subscription",
    "entity_check",
    "event_from_json",
    "example_value",
    "iter_records",
    "kafka_uuid_string",
    "load_properties",
    "owned_partitions",
    "parse_jaas",
    "prepare_cluster",
    "read_header",
    "request_header",
    "salted_password",
    "schema_format",
    "spawn_node",
    "stop_all",
    "subscribed_topics",
]
