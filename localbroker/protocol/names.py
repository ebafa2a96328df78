"""Kafka's names, defined once: API keys, special offsets, config sources and resource types,
coordinator kinds, isolation levels, group states, the internal topics, and security's names
(security protocols, SCRAM mechanisms, and ACLs' resource types, patterns, operations and
permissions).

Both the broker and the workbench's client layer speak in these names (the client layer through
`localbroker.public`), so a number on the wire has one spelling everywhere and mypy catches a
name that does not exist. Values and spellings are Kafka's own (the Java enums and constants
named in each docstring); error codes are kio's `ErrorCode`, re-exported here.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from kio.schema.errors import ErrorCode

__all__ = [
    "CLUSTER_METADATA_TOPIC",
    "CLUSTER_RESOURCE_NAME",
    "CONSUMER_PROTOCOL_TYPE",
    "INTERNAL_TOPICS",
    "KNOWN_API_KEYS",
    "OFFSETS_TOPIC",
    "SUPPORTED_OPERATIONS",
    "TRANSACTION_STATE_TOPIC",
    "WILDCARD_RESOURCE",
    "AclOperation",
    "AclPermissionType",
    "AclResourceType",
    "AlterConfigOp",
    "ApiKey",
    "ConfigResourceType",
    "ConfigSource",
    "ConfigType",
    "CoordinatorType",
    "EndpointType",
    "ErrorCode",
    "GroupState",
    "IsolationLevel",
    "ListOffsetsTimestamp",
    "PatternType",
    "ProcessRole",
    "ScramMechanism",
    "SecurityProtocol",
    "TransactionState",
    "api_name",
]


class ApiKey(IntEnum):
    """Every API Kafka defines (org.apache.kafka.common.protocol.ApiKeys), by its key.

    A test checks this list against kio's schemas, so an upgrade that adds APIs says so.
    """

    PRODUCE = 0
    FETCH = 1
    LIST_OFFSETS = 2
    METADATA = 3
    OFFSET_COMMIT = 8
    OFFSET_FETCH = 9
    FIND_COORDINATOR = 10
    JOIN_GROUP = 11
    HEARTBEAT = 12
    LEAVE_GROUP = 13
    SYNC_GROUP = 14
    DESCRIBE_GROUPS = 15
    LIST_GROUPS = 16
    SASL_HANDSHAKE = 17
    API_VERSIONS = 18
    CREATE_TOPICS = 19
    DELETE_TOPICS = 20
    DELETE_RECORDS = 21
    INIT_PRODUCER_ID = 22
    OFFSET_FOR_LEADER_EPOCH = 23
    ADD_PARTITIONS_TO_TXN = 24
    ADD_OFFSETS_TO_TXN = 25
    END_TXN = 26
    WRITE_TXN_MARKERS = 27
    TXN_OFFSET_COMMIT = 28
    DESCRIBE_ACLS = 29
    CREATE_ACLS = 30
    DELETE_ACLS = 31
    DESCRIBE_CONFIGS = 32
    ALTER_CONFIGS = 33
    ALTER_REPLICA_LOG_DIRS = 34
    DESCRIBE_LOG_DIRS = 35
    SASL_AUTHENTICATE = 36
    CREATE_PARTITIONS = 37
    CREATE_DELEGATION_TOKEN = 38
    RENEW_DELEGATION_TOKEN = 39
    EXPIRE_DELEGATION_TOKEN = 40
    DESCRIBE_DELEGATION_TOKEN = 41
    DELETE_GROUPS = 42
    ELECT_LEADERS = 43
    INCREMENTAL_ALTER_CONFIGS = 44
    ALTER_PARTITION_REASSIGNMENTS = 45
    LIST_PARTITION_REASSIGNMENTS = 46
    OFFSET_DELETE = 47
    DESCRIBE_CLIENT_QUOTAS = 48
    ALTER_CLIENT_QUOTAS = 49
    DESCRIBE_USER_SCRAM_CREDENTIALS = 50
    ALTER_USER_SCRAM_CREDENTIALS = 51
    VOTE = 52
    BEGIN_QUORUM_EPOCH = 53
    END_QUORUM_EPOCH = 54
    DESCRIBE_QUORUM = 55
    ALTER_PARTITION = 56
    UPDATE_FEATURES = 57
    ENVELOPE = 58
    FETCH_SNAPSHOT = 59
    DESCRIBE_CLUSTER = 60
    DESCRIBE_PRODUCERS = 61
    BROKER_REGISTRATION = 62
    BROKER_HEARTBEAT = 63
    UNREGISTER_BROKER = 64
    DESCRIBE_TRANSACTIONS = 65
    LIST_TRANSACTIONS = 66
    ALLOCATE_PRODUCER_IDS = 67
    CONSUMER_GROUP_HEARTBEAT = 68
    CONSUMER_GROUP_DESCRIBE = 69
    CONTROLLER_REGISTRATION = 70
    GET_TELEMETRY_SUBSCRIPTIONS = 71
    PUSH_TELEMETRY = 72
    ASSIGN_REPLICAS_TO_DIRS = 73
    LIST_CONFIG_RESOURCES = 74
    DESCRIBE_TOPIC_PARTITIONS = 75
    SHARE_GROUP_HEARTBEAT = 76
    SHARE_GROUP_DESCRIBE = 77
    SHARE_FETCH = 78
    SHARE_ACKNOWLEDGE = 79
    ADD_RAFT_VOTER = 80
    REMOVE_RAFT_VOTER = 81
    UPDATE_RAFT_VOTER = 82
    INITIALIZE_SHARE_GROUP_STATE = 83
    READ_SHARE_GROUP_STATE = 84
    WRITE_SHARE_GROUP_STATE = 85
    DELETE_SHARE_GROUP_STATE = 86
    READ_SHARE_GROUP_STATE_SUMMARY = 87
    STREAMS_GROUP_HEARTBEAT = 88
    STREAMS_GROUP_DESCRIBE = 89
    DESCRIBE_SHARE_GROUP_OFFSETS = 90
    ALTER_SHARE_GROUP_OFFSETS = 91
    DELETE_SHARE_GROUP_OFFSETS = 92

    @property
    def kafka_name(self) -> str:
        """The name Kafka's docs and tools use: "ListOffsets", not LIST_OFFSETS."""
        return "".join(word.capitalize() for word in self.name.split("_"))


KNOWN_API_KEYS = frozenset(ApiKey)
"""For `key in KNOWN_API_KEYS` with any int (an Enum refuses non-members on Python 3.11)."""


def api_name(api_key: int) -> str:
    """Kafka's name of any API key, including keys newer than this list ("unknown (99)")."""
    try:
        return ApiKey(api_key).kafka_name
    except ValueError:
        return f"unknown ({api_key})"


class ListOffsetsTimestamp(IntEnum):
    """The timestamps ListOffsets treats as questions rather than times
    (ListOffsetsRequest.EARLIEST_TIMESTAMP and its neighbours). Tools also use EARLIEST and
    LATEST as "where to start" positions, as Kafka's console consumer does."""

    LATEST = -1
    EARLIEST = -2
    MAX_TIMESTAMP = -3
    EARLIEST_LOCAL = -4
    LATEST_TIERED = -5
    EARLIEST_PENDING_UPLOAD = -6


class ConfigResourceType(IntEnum):
    """What DescribeConfigs and (Incremental)AlterConfigs address (ConfigResource.Type).

    Not the ACL resource types, which number things differently."""

    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


class ConfigSource(IntEnum):
    """Where a config's value comes from (DescribeConfigsResponse.ConfigSource)."""

    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


class ConfigType(IntEnum):
    """A config's type as DescribeConfigs v3+ reports it (DescribeConfigsResponse.ConfigType)."""

    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7
    CLASS = 8
    PASSWORD = 9


class AlterConfigOp(IntEnum):
    """IncrementalAlterConfigs operations (AlterConfigOp.OpType)."""

    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


class CoordinatorType(IntEnum):
    """FindCoordinator's key types (FindCoordinatorRequest.CoordinatorType)."""

    GROUP = 0
    TRANSACTION = 1
    SHARE = 2


class ElectionType(IntEnum):
    """ElectLeaders' election types (org.apache.kafka.common.ElectionType, KIP-460): v0
    requests have no field and mean PREFERRED."""

    PREFERRED = 0
    UNCLEAN = 1


class EndpointType(IntEnum):
    """DescribeCluster's endpoint types (org.apache.kafka.common.message.EndpointType): a
    broker's listener answers BROKER, a controller's CONTROLLER (KIP-919)."""

    UNKNOWN = 0
    BROKER = 1
    CONTROLLER = 2


class IsolationLevel(IntEnum):
    """Fetch and ListOffsets isolation (org.apache.kafka.common.IsolationLevel)."""

    READ_UNCOMMITTED = 0
    READ_COMMITTED = 1


class GroupState(StrEnum):
    """A group's states, spelled as ListGroups and DescribeGroups report them
    (org.apache.kafka.common.GroupState). A StrEnum, so a state compares equal to the name on
    the wire. Classic groups, the only kind localbroker coordinates, use the first five."""

    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"
    ASSIGNING = "Assigning"
    """Consumer groups of the new protocol (KIP-848) from here on."""
    RECONCILING = "Reconciling"
    NOT_READY = "NotReady"
    UNKNOWN = "Unknown"


class Feature(StrEnum):
    """Feature names of ApiVersions' SupportedFeatures and FinalizedFeatures (KIP-584)."""

    TRANSACTION_VERSION = "transaction.version"


class ProcessRole(StrEnum):
    """The roles of a KRaft node, as `process.roles` spells them
    (org.apache.kafka.server.ProcessRole)."""

    BROKER = "broker"
    CONTROLLER = "controller"


class TransactionState(StrEnum):
    """A transactional id's states, spelled as DescribeTransactions and ListTransactions report
    them (org.apache.kafka.coordinator.transaction.TransactionState)."""

    EMPTY = "Empty"
    ONGOING = "Ongoing"
    PREPARE_COMMIT = "PrepareCommit"
    PREPARE_ABORT = "PrepareAbort"
    COMPLETE_COMMIT = "CompleteCommit"
    COMPLETE_ABORT = "CompleteAbort"
    DEAD = "Dead"
    PREPARE_EPOCH_FENCE = "PrepareEpochFence"


CONSUMER_PROTOCOL_TYPE = "consumer"
"""The protocol type of groups whose members speak the consumer protocol (subscriptions and
assignments as consumer_protocol.py encodes them)."""

OFFSETS_TOPIC = "__consumer_offsets"
TRANSACTION_STATE_TOPIC = "__transaction_state"
CLUSTER_METADATA_TOPIC = "__cluster_metadata"
INTERNAL_TOPICS = frozenset({CLUSTER_METADATA_TOPIC, OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC})


class SecurityProtocol(IntEnum):
    """A listener's security protocol, by Kafka's id (org.apache.kafka.common.security.auth.
    SecurityProtocol)."""

    PLAINTEXT = 0
    SSL = 1
    SASL_PLAINTEXT = 2
    SASL_SSL = 3

    @property
    def uses_sasl(self) -> bool:
        return self in (SecurityProtocol.SASL_PLAINTEXT, SecurityProtocol.SASL_SSL)

    @property
    def uses_tls(self) -> bool:
        return self in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)


class ScramMechanism(IntEnum):
    """SCRAM mechanisms as the SCRAM credential APIs number them
    (org.apache.kafka.clients.admin.ScramMechanism)."""

    UNKNOWN = 0
    SCRAM_SHA_256 = 1
    SCRAM_SHA_512 = 2

    @property
    def mechanism_name(self) -> str:
        """The SASL mechanism's name: "SCRAM-SHA-256"."""
        return self.name.replace("_", "-")

    @classmethod
    def from_mechanism_name(cls, name: str) -> ScramMechanism:
        """The member named `name` ("SCRAM-SHA-512"), or UNKNOWN."""
        return cls.__members__.get(name.replace("-", "_"), cls.UNKNOWN)


class AclResourceType(IntEnum):
    """What an ACL protects (org.apache.kafka.common.resource.ResourceType); not numbered as
    ConfigResourceType is."""

    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    """How an ACL's resource name matches (org.apache.kafka.common.resource.PatternType).
    ANY and MATCH are for filters only."""

    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class AclOperation(IntEnum):
    """What an ACL allows or denies (org.apache.kafka.common.acl.AclOperation); authorized
    operations go on the wire as a bit field of these codes."""

    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14
    TWO_PHASE_COMMIT = 15


class AclPermissionType(IntEnum):
    """Whether an ACL allows or denies (org.apache.kafka.common.acl.AclPermissionType)."""

    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


CLUSTER_RESOURCE_NAME = "kafka-cluster"
"""The one cluster resource's name in ACLs (Resource.CLUSTER_NAME)."""
WILDCARD_RESOURCE = "*"
"""A LITERAL resource name that matches every name (ResourcePattern.WILDCARD_RESOURCE)."""


_Op = AclOperation
SUPPORTED_OPERATIONS: dict[AclResourceType, tuple[AclOperation, ...]] = {
    AclResourceType.TOPIC: (_Op.READ, _Op.WRITE, _Op.CREATE, _Op.DESCRIBE, _Op.DELETE, _Op.ALTER,
                            _Op.DESCRIBE_CONFIGS, _Op.ALTER_CONFIGS),
    AclResourceType.GROUP: (_Op.READ, _Op.DESCRIBE, _Op.DELETE, _Op.DESCRIBE_CONFIGS,
                            _Op.ALTER_CONFIGS),
    AclResourceType.CLUSTER: (_Op.CREATE, _Op.CLUSTER_ACTION, _Op.DESCRIBE_CONFIGS,
                              _Op.ALTER_CONFIGS, _Op.IDEMPOTENT_WRITE, _Op.ALTER, _Op.DESCRIBE),
    AclResourceType.TRANSACTIONAL_ID: (_Op.DESCRIBE, _Op.WRITE, _Op.TWO_PHASE_COMMIT),
    AclResourceType.DELEGATION_TOKEN: (_Op.DESCRIBE,),
    AclResourceType.USER: (_Op.CREATE_TOKENS, _Op.DESCRIBE_TOKENS),
}  # fmt: skip
"""The operations an ACL on each kind of resource may name (Kafka 4.1's
AclEntry.supportedOperations); also the bits of an authorized-operations answer (KIP-430)."""
