"""The rows of the authorization tests: one API at one version each, the request a user sends,
the ACLs that make it authorized, and the error codes the response carries before and after
those ACLs exist (per entry where Kafka answers per entry: topics, partitions, groups, config
resources, coordinator keys). Every row's request also names a resource the user is never
granted, so an answer that authorizes the whole request from one entry's ACL fails the row.
Each row runs as a user of its own (`user<index>`), so one row's ACLs never authorize another.

test_authorization.py checks localbroker's answers against the rows; test_reference_security.py
checks that Apache Kafka answers each row as localbroker does.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from secured import authenticated
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import (
    CLUSTER_RESOURCE_NAME,
    AclOperation,
    AclPermissionType,
    AclResourceType,
    ApiKey,
    ConfigResourceType,
    CoordinatorType,
    ErrorCode,
    PatternType,
)
from localbroker.records.builder import NewRecord, build_batch

USERS = {f"user{n}": f"secret{n}" for n in range(64)}
NONE = ErrorCode.none
TAF = ErrorCode.topic_authorization_failed
GAF = ErrorCode.group_authorization_failed
CAF = ErrorCode.cluster_authorization_failed
TIAF = ErrorCode.transactional_id_authorization_failed
INVALID = ErrorCode.invalid_request
NLF = ErrorCode.not_leader_or_follower
"""A follower's Fetch from a broker that holds no replica of the partition."""
TOPIC, GROUP, CLUSTER = AclResourceType.TOPIC, AclResourceType.GROUP, AclResourceType.CLUSTER
TXN = AclResourceType.TRANSACTIONAL_ID


@dataclass(frozen=True)
class Names:
    """The resources of one row: t and g get ACLs, u and h never do, n does not exist; topics
    t and u have the ids t_id and u_id."""

    t: str
    u: str
    g: str
    h: str
    n: str
    t_id: uuid.UUID | None = None
    u_id: uuid.UUID | None = None


Grant = tuple[AclResourceType, str, AclOperation]  # resource name: a Names attribute or literal


@dataclass(frozen=True)
class Row:
    api: ApiKey
    version: int
    request: Callable[[Names], dict[str, Any]]
    codes: Callable[[Any], list[Any]]
    refused: list[Any]
    allowed: list[Any]
    grants: list[Grant] = field(default_factory=list)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.api.kafka_name}-v{self.version}{self.label}"


def partitions(topics: Any, attribute: str = "partitions") -> list[Any]:
    return [p.error_code for t in topics for p in getattr(t, attribute)]


def entries(attribute: str) -> Callable[[Any], list[Any]]:
    return lambda response: [e.error_code for e in getattr(response, attribute)]


def top_level(response: Any) -> list[Any]:
    return [response.error_code]


def by_topic(names: Names, make: Callable[[str], dict[str, Any]]) -> list[dict[str, Any]]:
    return [make(names.t), make(names.u)]


def batch() -> bytes:
    return build_batch([NewRecord(b"x")], now_ms=int(time.time() * 1000))


def config_resources(names: Names, topic: Any, broker: Any) -> list[dict[str, Any]]:
    """Topics t and u, the cluster-wide broker default ("", which every broker serves whatever
    its id), and a broker id no broker has."""
    return [
        {"resource_type": ConfigResourceType.TOPIC, "resource_name": names.t, **topic},
        {"resource_type": ConfigResourceType.TOPIC, "resource_name": names.u, **topic},
        {"resource_type": ConfigResourceType.BROKER, "resource_name": "", **broker},
        {"resource_type": ConfigResourceType.BROKER, "resource_name": "x", **broker},
    ]


def abort_marker(names: Names) -> dict[str, Any]:
    """An ABORT of a producer id with nothing open on t: written (NONE) once authorized."""
    return {"markers": [{"producer_id": 4242, "producer_epoch": 0, "transaction_result": False,
                         "topics": [{"name": names.t, "partition_indexes": [0]}],
                         "coordinator_epoch": 0}]}  # fmt: skip


def marker_partitions(response: Any) -> list[Any]:
    return [code for marker in response.markers for code in partitions(marker.topics)]


NO_AUTO_CREATE = {"allow_auto_topic_creation": False, "include_topic_authorized_operations": False}
RETENTION = {"configs": [{"name": "retention.ms", "value": "86400000"}]}
LOG_RETENTION = {"configs": [{"name": "log.retention.ms", "value": "86400000"}]}
ALL_KEYS = {"configuration_keys": None}


def with_op(configs: dict[str, Any]) -> dict[str, Any]:
    """IncrementalAlterConfigs' form: each config with operation SET."""
    return {"configs": [{**config, "config_operation": 0} for config in configs["configs"]]}


def acl(names: Names, user: str) -> dict[str, Any]:
    return {"resource_type": TOPIC, "resource_name": names.t, "resource_pattern_type":
            PatternType.LITERAL, "principal": f"User:{user}", "host": "*",
            "operation": AclOperation.READ, "permission_type": AclPermissionType.ALLOW}  # fmt: skip


def acl_filter(names: Names) -> dict[str, Any]:
    return {"resource_type_filter": TOPIC, "resource_name_filter": names.t,
            "pattern_type_filter": PatternType.LITERAL, "principal_filter": None,
            "host_filter": None, "operation": AclOperation.ANY,
            "permission_type": AclPermissionType.ANY}  # fmt: skip


ROWS = [
    # -- topics, partition by partition --------------------------------------------------
    Row(ApiKey.PRODUCE, 9,
        lambda n: {"acks": 1, "timeout": 10000, "topic_data": by_topic(n, lambda name: {
            "name": name, "partition_data": [{"index": 0, "records": batch()}]})},
        lambda r: partitions(r.responses, "partition_responses"),
        [TAF, TAF], [NONE, TAF], [(TOPIC, "t", AclOperation.WRITE)]),
    Row(ApiKey.FETCH, 12,
        lambda n: {"replica_id": -1, "max_wait": 0, "min_bytes": 0, "max_bytes": 1 << 20,
                   "session_epoch": -1, "topics": by_topic(n, lambda name: {
                       "topic": name, "partitions": [{"partition": 0, "fetch_offset": 0,
                                                      "partition_max_bytes": 1 << 20}]})},
        lambda r: partitions(r.responses), [TAF, TAF], [NONE, TAF],
        [(TOPIC, "t", AclOperation.READ)]),
    # a follower's Fetch: CLUSTER_ACTION on the cluster, not READ on each topic
    Row(ApiKey.FETCH, 12,
        lambda n: {"replica_id": 0, "max_wait": 0, "min_bytes": 0, "max_bytes": 1 << 20,
                   "session_epoch": -1, "topics": by_topic(n, lambda name: {
                       "topic": name, "partitions": [{"partition": 0, "fetch_offset": 0,
                                                      "partition_max_bytes": 1 << 20}]})},
        lambda r: partitions(r.responses), [TAF, TAF], [NLF, NLF],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.CLUSTER_ACTION)], "-follower"),
    Row(ApiKey.LIST_OFFSETS, 7,
        lambda n: {"replica_id": -1, "isolation_level": 0, "topics": by_topic(n, lambda name: {
            "name": name, "partitions": [{"partition_index": 0, "timestamp": -1}]})},
        lambda r: partitions(r.topics), [TAF, TAF], [NONE, TAF],
        [(TOPIC, "t", AclOperation.DESCRIBE)]),
    Row(ApiKey.OFFSET_FOR_LEADER_EPOCH, 4,
        lambda n: {"replica_id": -1, "topics": by_topic(n, lambda name: {
            "topic": name, "partitions": [{"partition": 0, "current_leader_epoch": -1,
                                           "leader_epoch": 0}]})},
        lambda r: partitions(r.topics), [TAF, TAF], [NONE, TAF],
        [(TOPIC, "t", AclOperation.DESCRIBE)]),
    Row(ApiKey.DELETE_RECORDS, 2,
        lambda n: {"timeout": 10000, "topics": by_topic(n, lambda name: {
            "name": name, "partitions": [{"partition_index": 0, "offset": 0}]})},
        lambda r: partitions(r.topics), [TAF, TAF], [NONE, TAF],
        [(TOPIC, "t", AclOperation.DELETE)]),
    Row(ApiKey.METADATA, 12,
        lambda n: {"topics": [{"name": n.t}, {"name": n.u}], **NO_AUTO_CREATE},
        entries("topics"), [TAF, TAF], [NONE, TAF], [(TOPIC, "t", AclOperation.DESCRIBE)]),
    Row(ApiKey.METADATA, 12,
        lambda n: {"topics": [{"topic_id": n.t_id, "name": None},
                              {"topic_id": n.u_id, "name": None}],
                   **NO_AUTO_CREATE},
        lambda r: [(t.error_code, t.name, t.topic_id) for t in r.topics],
        [(TAF, None, "t"), (TAF, None, "u")], [(NONE, "t", "t"), (TAF, None, "u")],
        [(TOPIC, "t", AclOperation.DESCRIBE)], "-by-id"),
    Row(ApiKey.METADATA, 10,
        lambda n: {"topics": [{"name": n.t}, {"name": n.u}], "allow_auto_topic_creation": False,
                   "include_topic_authorized_operations": True,
                   "include_cluster_authorized_operations": True},
        lambda r: [r.cluster_authorized_operations,
                   *((t.error_code, t.topic_authorized_operations) for t in r.topics)],
        [0, (TAF, -(1 << 31)), (TAF, -(1 << 31))],
        [1 << AclOperation.DESCRIBE, (NONE, 1 << AclOperation.READ | 1 << AclOperation.DESCRIBE),
         (TAF, -(1 << 31))],
        [(TOPIC, "t", AclOperation.READ), (CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE)],
        "-authorized-operations"),
    Row(ApiKey.METADATA, 12,
        lambda n: {"topics": [{"name": n.n}, {"name": n.u + "-new"}],
                   "allow_auto_topic_creation": True,
                   "include_topic_authorized_operations": False},
        entries("topics"), [TAF, TAF], [NONE, TAF],
        [(TOPIC, "n", AclOperation.DESCRIBE), (TOPIC, "n", AclOperation.CREATE)],
        "-auto-create"),
    # -- topics as a whole ---------------------------------------------------------------------
    Row(ApiKey.CREATE_TOPICS, 7,
        lambda n: {"timeout": 10000, "validate_only": False, "topics": [
            {"name": name, "num_partitions": 1, "replication_factor": 1, "assignments": [],
             "configs": []} for name in (n.n, n.u + "-new")]},
        lambda r: [(t.error_code, t.topic_config_error_code) for t in r.topics],
        [(TAF, NONE), (TAF, NONE)], [(NONE, TAF), (TAF, NONE)],
        [(TOPIC, "n", AclOperation.CREATE)]),
    Row(ApiKey.CREATE_TOPICS, 7,
        lambda n: {"timeout": 10000, "validate_only": True, "topics": [
            {"name": name, "num_partitions": 1, "replication_factor": 1, "assignments": [],
             "configs": []} for name in (n.n, n.u + "-new")]},
        lambda r: [(t.error_code, t.topic_config_error_code, t.num_partitions) for t in r.topics],
        [(TAF, NONE, -1), (TAF, NONE, -1)], [(NONE, NONE, 1), (NONE, TAF, -1)],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.CREATE),
         (TOPIC, "n", AclOperation.DESCRIBE_CONFIGS)], "-cluster-create"),
    Row(ApiKey.DELETE_TOPICS, 6,
        lambda n: {"timeout": 10000, "topics": [{"name": n.t}, {"name": n.u},
                                                 {"name": n.n}]},
        entries("responses"), [TAF, TAF, TAF], [NONE, TAF, TAF],
        [(TOPIC, "t", AclOperation.DELETE)]),
    Row(ApiKey.DELETE_TOPICS, 6,
        lambda n: {"timeout": 10000, "topics": [{"topic_id": n.t_id, "name": None},
                                                 {"topic_id": n.u_id, "name": None}]},
        lambda r: [(t.error_code, t.name) for t in r.responses],
        [(TAF, None), (TAF, None)], [(NONE, "t"), (TAF, "u")],
        [(TOPIC, "t", AclOperation.DELETE), (TOPIC, "u", AclOperation.DESCRIBE)], "-by-id"),
    Row(ApiKey.CREATE_PARTITIONS, 3,
        lambda n: {"timeout": 10000, "validate_only": False, "topics": [
            {"name": name, "count": 2, "assignments": None} for name in (n.t, n.u)]},
        entries("results"), [TAF, TAF], [NONE, TAF], [(TOPIC, "t", AclOperation.ALTER)]),
    # -- configs, resource by resource ---------------------------------------------------
    Row(ApiKey.DESCRIBE_CONFIGS, 4,
        lambda n: {"resources": config_resources(n, ALL_KEYS, ALL_KEYS)},
        entries("results"), [TAF, TAF, CAF, CAF], [NONE, TAF, CAF, CAF],
        [(TOPIC, "t", AclOperation.DESCRIBE_CONFIGS)]),
    Row(ApiKey.DESCRIBE_CONFIGS, 4,
        lambda n: {"resources": config_resources(n, ALL_KEYS, ALL_KEYS)},
        entries("results"), [TAF, TAF, CAF, CAF], [NONE, TAF, NONE, ErrorCode.invalid_request],
        [(TOPIC, "t", AclOperation.ALTER_CONFIGS),
         (CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE_CONFIGS)], "-implied"),
    Row(ApiKey.ALTER_CONFIGS, 2,
        lambda n: {"resources": config_resources(n, RETENTION, LOG_RETENTION),
                   "validate_only": False},
        entries("responses"), [TAF, TAF, CAF, INVALID], [NONE, TAF, CAF, INVALID],
        [(TOPIC, "t", AclOperation.ALTER_CONFIGS)]),
    Row(ApiKey.INCREMENTAL_ALTER_CONFIGS, 1,
        lambda n: {"resources": config_resources(n, with_op(RETENTION), with_op(LOG_RETENTION)),
                   "validate_only": False},
        entries("responses"), [TAF, TAF, CAF, INVALID], [NONE, TAF, CAF, INVALID],
        [(TOPIC, "t", AclOperation.ALTER_CONFIGS)]),
    # -- groups --------------------------------------------------------------------------
    Row(ApiKey.FIND_COORDINATOR, 4,
        lambda n: {"key_type": CoordinatorType.GROUP, "coordinator_keys": [n.g, n.h]},
        entries("coordinators"), [GAF, GAF], [NONE, GAF], [(GROUP, "g", AclOperation.DESCRIBE)]),
    Row(ApiKey.FIND_COORDINATOR, 3,
        lambda n: {"key_type": CoordinatorType.GROUP, "key": n.g},
        top_level, [GAF], [NONE], [(GROUP, "g", AclOperation.READ)]),
    Row(ApiKey.FIND_COORDINATOR, 4,
        lambda n: {"key_type": CoordinatorType.TRANSACTION, "coordinator_keys": [n.g, n.h]},
        entries("coordinators"), [TIAF, TIAF], [NONE, TIAF], [(TXN, "g", AclOperation.DESCRIBE)],
        "-transaction"),
    Row(ApiKey.JOIN_GROUP, 5,
        lambda n: {"group_id": n.g, "session_timeout": 10000, "rebalance_timeout": 10000,
                   "member_id": "", "protocol_type": "consumer",
                   "protocols": [{"name": "range", "metadata": b""}]},
        top_level, [GAF], [ErrorCode.member_id_required], [(GROUP, "g", AclOperation.READ)]),
    Row(ApiKey.JOIN_GROUP, 7,
        lambda n: {"group_id": n.g, "session_timeout": 10000, "rebalance_timeout": 10000,
                   "member_id": "", "protocol_type": "consumer",
                   "protocols": [{"name": "range", "metadata": b""}]},
        lambda r: [r.error_code, r.protocol_name],
        [GAF, None], [ErrorCode.member_id_required, None],
        [(GROUP, "g", AclOperation.READ)], "-protocol-name"),
    Row(ApiKey.SYNC_GROUP, 3,
        lambda n: {"group_id": n.g, "generation_id": 1, "member_id": "m", "assignments": []},
        top_level, [GAF], [ErrorCode.unknown_member_id], [(GROUP, "g", AclOperation.READ)]),
    Row(ApiKey.HEARTBEAT, 3,
        lambda n: {"group_id": n.g, "generation_id": 1, "member_id": "m"},
        top_level, [GAF], [ErrorCode.unknown_member_id], [(GROUP, "g", AclOperation.READ)]),
    Row(ApiKey.LEAVE_GROUP, 3,
        lambda n: {"group_id": n.g, "members": [{"member_id": "m"}]},
        lambda r: [r.error_code, *(m.error_code for m in r.members)],
        [GAF], [NONE, ErrorCode.unknown_member_id], [(GROUP, "g", AclOperation.READ)]),
    Row(ApiKey.DESCRIBE_GROUPS, 5,
        lambda n: {"groups": [n.g, n.h], "include_authorized_operations": False},
        entries("groups"), [GAF, GAF], [NONE, GAF], [(GROUP, "g", AclOperation.DESCRIBE)]),
    Row(ApiKey.LIST_GROUPS, 4,
        lambda n: {"states_filter": []},
        lambda r: sorted(g.group_id for g in r.groups if g.group_id.startswith("listgroups-v4-")),
        [], ["listgroups-v4-g"], [(GROUP, "g", AclOperation.DESCRIBE)]),
    Row(ApiKey.DELETE_GROUPS, 2,
        lambda n: {"groups_names": [n.g, n.h]},
        entries("results"), [GAF, GAF], [NONE, GAF], [(GROUP, "g", AclOperation.DELETE)]),
    Row(ApiKey.OFFSET_COMMIT, 8,
        lambda n: {"group_id": n.g, "generation_id_or_member_epoch": -1, "member_id": "",
                   "topics": by_topic(n, lambda name: {"name": name, "partitions": [
                       {"partition_index": 0, "committed_offset": 0}]})},
        lambda r: partitions(r.topics), [GAF, GAF], [NONE, TAF],
        [(GROUP, "g", AclOperation.READ), (TOPIC, "t", AclOperation.READ)]),
    Row(ApiKey.OFFSET_FETCH, 7,
        lambda n: {"group_id": n.g, "topics": by_topic(n, lambda name: {
            "name": name, "partition_indexes": [0]})},
        lambda r: [r.error_code, *partitions(r.topics)], [GAF], [NONE, NONE, TAF],
        [(GROUP, "g", AclOperation.DESCRIBE), (TOPIC, "t", AclOperation.DESCRIBE)]),
    Row(ApiKey.OFFSET_FETCH, 1,
        lambda n: {"group_id": n.g, "topics": by_topic(n, lambda name: {
            "name": name, "partition_indexes": [0]})},
        lambda r: partitions(r.topics), [GAF, GAF], [NONE, TAF],
        [(GROUP, "g", AclOperation.DESCRIBE), (TOPIC, "t", AclOperation.DESCRIBE)]),
    Row(ApiKey.OFFSET_FETCH, 8,
        lambda n: {"groups": [{"group_id": group, "topics": None} for group in (n.g, n.h)]},
        lambda r: [(g.error_code, [t.name[-1] for t in g.topics]) for g in r.groups],
        [(GAF, []), (GAF, [])], [(NONE, ["t"]), (GAF, [])],
        [(GROUP, "g", AclOperation.DESCRIBE), (TOPIC, "t", AclOperation.DESCRIBE)]),
    Row(ApiKey.OFFSET_DELETE, 0,
        lambda n: {"group_id": n.g, "topics": by_topic(n, lambda name: {
            "name": name, "partitions": [{"partition_index": 0}]})},
        lambda r: [r.error_code, *partitions(r.topics)], [GAF], [NONE, NONE, TAF],
        [(GROUP, "g", AclOperation.DELETE), (TOPIC, "t", AclOperation.READ)]),
    # -- producers -----------------------------------------------------------------------
    Row(ApiKey.INIT_PRODUCER_ID, 4,
        lambda n: {"transactional_id": None, "transaction_timeout": 60000,
                   "producer_id": -1, "producer_epoch": -1},
        top_level, [CAF], [NONE], [(TOPIC, "t", AclOperation.WRITE)], "-write-on-a-topic"),
    Row(ApiKey.INIT_PRODUCER_ID, 4,
        lambda n: {"transactional_id": None, "transaction_timeout": 60000,
                   "producer_id": -1, "producer_epoch": -1},
        top_level, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.IDEMPOTENT_WRITE)], "-idempotent-write"),
    Row(ApiKey.INIT_PRODUCER_ID, 4,
        lambda n: {"transactional_id": n.g, "transaction_timeout": 60000,
                   "producer_id": -1, "producer_epoch": -1},
        top_level, [TIAF], [NONE], [(TXN, "g", AclOperation.WRITE)], "-transactional"),
    # -- transactions (no producer id was given out for these ids: the coordinator's answer
    # after authorization is INVALID_PRODUCER_ID_MAPPING) ---------------------------------
    Row(ApiKey.ADD_PARTITIONS_TO_TXN, 3,
        lambda n: {"v3_and_below_transactional_id": n.g, "v3_and_below_producer_id": 1,
                   "v3_and_below_producer_epoch": 0, "v3_and_below_topics": by_topic(
                       n, lambda name: {"name": name, "partitions": [0]})},
        lambda r: [p.partition_error_code for t in r.results_by_topic_v3_and_below
                   for p in t.results_by_partition],
        [TIAF, TIAF], [ErrorCode.operation_not_attempted, TAF],
        [(TXN, "g", AclOperation.WRITE), (TOPIC, "t", AclOperation.WRITE)]),
    Row(ApiKey.ADD_OFFSETS_TO_TXN, 3,
        lambda n: {"transactional_id": n.g, "producer_id": 1, "producer_epoch": 0,
                   "group_id": n.g},
        top_level, [TIAF], [ErrorCode.invalid_producer_id_mapping],
        [(TXN, "g", AclOperation.WRITE), (GROUP, "g", AclOperation.READ)]),
    Row(ApiKey.END_TXN, 3,
        lambda n: {"transactional_id": n.g, "producer_id": 1, "producer_epoch": 0,
                   "committed": True},
        top_level, [TIAF], [ErrorCode.invalid_producer_id_mapping],
        [(TXN, "g", AclOperation.WRITE)]),
    Row(ApiKey.TXN_OFFSET_COMMIT, 3,
        lambda n: {"transactional_id": n.g, "group_id": n.g, "producer_id": 1,
                   "producer_epoch": 0, "generation_id": -1, "member_id": "",
                   "group_instance_id": None, "topics": by_topic(n, lambda name: {
                       "name": name, "partitions": [{"partition_index": 0,
                       "committed_offset": 1, "committed_leader_epoch": -1,
                       "committed_metadata": ""}]})},
        lambda r: partitions(r.topics), [TIAF, TIAF],
        [ErrorCode.invalid_producer_id_mapping, TAF],
        [(TXN, "g", AclOperation.WRITE), (GROUP, "g", AclOperation.READ),
         (TOPIC, "t", AclOperation.READ)]),
    # -- the cluster ---------------------------------------------------------------------
    Row(ApiKey.DESCRIBE_LOG_DIRS, 4, lambda n: {"topics": None}, top_level, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE)]),
    # ElectLeaders: ALTER on the cluster, else the whole request and every partition refused
    Row(ApiKey.ELECT_LEADERS, 2,
        lambda n: {"election_type": 0, "timeout": 30000, "topic_partitions": [
            {"topic": n.t, "partitions": [0]}, {"topic": n.u, "partitions": [0]}]},
        lambda r: [r.error_code, *partitions(r.replica_election_results, "partition_result")],
        [CAF, CAF, CAF], [NONE, ErrorCode.election_not_needed, ErrorCode.election_not_needed],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
    Row(ApiKey.DESCRIBE_CLUSTER, 1,
        lambda n: {"include_cluster_authorized_operations": True},
        lambda r: [r.error_code, r.cluster_authorized_operations], [NONE, 0],
        [NONE, 1 << AclOperation.DESCRIBE | 1 << AclOperation.ALTER],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
    # WriteTxnMarkers: ALTER on the cluster, else CLUSTER_ACTION, every partition refused
    Row(ApiKey.WRITE_TXN_MARKERS, 1, abort_marker, marker_partitions, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.CLUSTER_ACTION)]),
    Row(ApiKey.WRITE_TXN_MARKERS, 1, abort_marker, marker_partitions, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)], "-alter"),
    Row(ApiKey.DESCRIBE_ACLS, 3,
        lambda n: {**acl_filter(n)}, top_level, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE)]),
    Row(ApiKey.CREATE_ACLS, 3,
        lambda n: {"creations": [acl(n, "nobody")]}, entries("results"), [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
    Row(ApiKey.DELETE_ACLS, 3,
        lambda n: {"filters": [acl_filter(n)]}, entries("filter_results"), [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
    Row(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0,
        lambda n: {"users": [{"name": n.g}]}, lambda r: [r.error_code, *entries("results")(r)],
        [CAF, CAF], [NONE, ErrorCode.resource_not_found],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE)]),
    Row(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, 0,
        lambda n: {"deletions": [{"name": n.g, "mechanism": 1}], "upsertions": []},
        entries("results"), [CAF], [ErrorCode.resource_not_found],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
]  # fmt: skip


def names_of(row: Row) -> Names:
    return Names(*(f"{row.id.lower()}-{letter}" for letter in "tughn"))


def prepare(bootstrap: str, rows: list[Row]) -> dict[str, Names]:
    """For each row, topics t and u (one partition each, with their leaders) and groups g and h
    with an offset on t; the names by row id. Apache Kafka gets there asynchronously (leaders
    elected, __consumer_offsets made on the first FindCoordinator and loaded, producer ids
    handed out once its coordinator is ready), hence the waits, and all rows at once;
    localbroker has it all at once."""
    wanted = [names_of(row) for row in rows]
    with authenticated(bootstrap, "admin", "admin-secret") as admin:
        created = admin.call(
            ApiKey.CREATE_TOPICS,
            7,
            {"timeout": 30000, "validate_only": False, "topics": [
                {"name": name, "num_partitions": 1, "replication_factor": 1, "assignments": [],
                 "configs": []} for names in wanted for name in (names.t, names.u)]},
        )  # fmt: skip
        assert {t.error_code for t in created.topics} == {NONE}
        ids = {topic.name: topic.topic_id for topic in created.topics}
        wait_until(lambda: led(admin, list(ids)), "the topics' leaders")
        groups = [group for names in wanted for group in (names.g, names.h)]
        find = {"key_type": CoordinatorType.GROUP, "coordinator_keys": groups}
        wait_until(
            lambda: (
                set(entries("coordinators")(admin.call(ApiKey.FIND_COORDINATOR, 4, find))) == {NONE}
            ),
            "the groups' coordinator",
        )
        transactions = {"key_type": CoordinatorType.TRANSACTION, "coordinator_keys": groups}
        wait_until(
            lambda: (
                set(entries("coordinators")(admin.call(ApiKey.FIND_COORDINATOR, 4, transactions)))
                == {NONE}
            ),
            "the transaction coordinator",
        )
        idempotent = {"transactional_id": None, "transaction_timeout": 60000,
                      "producer_id": -1, "producer_epoch": -1}  # fmt: skip
        wait_until(
            lambda: admin.call(ApiKey.INIT_PRODUCER_ID, 4, idempotent).error_code == NONE,
            "producer ids",
        )
        for names in wanted:
            for group in (names.g, names.h):
                commit = {"group_id": group, "generation_id_or_member_epoch": -1,
                          "member_id": "", "topics": [{"name": names.t, "partitions": [
                              {"partition_index": 0, "committed_offset": 0}]}]}  # fmt: skip
                wait_until(
                    lambda commit=commit: (
                        partitions(admin.call(ApiKey.OFFSET_COMMIT, 8, commit).topics) == [NONE]
                    ),
                    f"an offset committed for {group}",
                )
    return {
        row.id: dataclasses.replace(names, t_id=ids[names.t], u_id=ids[names.u])
        for row, names in zip(rows, wanted, strict=True)
    }


def led(admin: RawClient, topics: list[str]) -> bool:
    request = {"topics": [{"name": name} for name in topics], **NO_AUTO_CREATE}
    answered = admin.call(ApiKey.METADATA, 12, request).topics
    return all(t.error_code == NONE and t.partitions[0].leader_id >= 0 for t in answered)


def grant(admin: RawClient, user: str, grants: list[Grant], names: Names) -> None:
    """The ACLs, and a wait until the broker's authorizer has them (Apache Kafka's controller
    commits them and its broker applies them a moment later)."""
    creations = [
        {"resource_type": kind, "resource_name": getattr(names, name, name),
         "resource_pattern_type": PatternType.LITERAL, "principal": f"User:{user}",
         "host": "*", "operation": operation, "permission_type": AclPermissionType.ALLOW}
        for kind, name, operation in grants
    ]  # fmt: skip
    created = admin.call(ApiKey.CREATE_ACLS, 3, {"creations": creations})
    assert [r.error_code for r in created.results] == [NONE] * len(creations)
    mine = {"resource_type_filter": AclResourceType.ANY, "resource_name_filter": None,
            "pattern_type_filter": PatternType.ANY, "principal_filter": f"User:{user}",
            "host_filter": None, "operation": AclOperation.ANY,
            "permission_type": AclPermissionType.ANY}  # fmt: skip

    def applied() -> bool:
        described = admin.call(ApiKey.DESCRIBE_ACLS, 3, mine)
        return sum(len(resource.acls) for resource in described.resources) == len(creations)

    wait_until(applied, f"the ACLs of {user} in the broker's authorizer")


def answers(bootstrap: str, row: Row, names: Names) -> tuple[list[Any], list[Any]]:
    """The row's codes before and after its ACLs, on the broker at `bootstrap` (its SASL
    listener with PLAIN, `admin` a super user, USERS its other users)."""
    user = f"user{ROWS.index(row)}"
    shortened = {names.t: "t", names.u: "u", names.t_id: "t", names.u_id: "u"}

    def short(part: Any) -> Any:
        return shortened.get(part, part) if isinstance(part, str | uuid.UUID) else part

    def codes() -> list[Any]:
        found = row.codes(client.call(row.api, row.version, row.request(names)))
        return [tuple(map(short, code)) if isinstance(code, tuple) else code for code in found]

    with (
        authenticated(bootstrap, "admin", "admin-secret") as admin,
        authenticated(bootstrap, user, USERS[user]) as client,
    ):
        refused = codes()
        grant(admin, user, row.grants, names)
        return refused, codes()
