"""Authorization per API, as Kafka's KafkaApis and ControllerApis decide it, table-driven.

Each row is one API at one version: the request a user sends, the ACLs that make it
authorized, and the error codes the response carries before and after those ACLs exist (per
entry where Kafka answers per entry: topics, partitions, groups, config resources, coordinator
keys). Every row's request also names a resource the user is never granted, so an answer
that authorizes the whole request from one entry's ACL fails the row. Each row runs as a user
of its own, so the ACLs of one row never authorize another.

The broker runs StandardAuthorizer with `User:admin` as the only super user; admin makes the
topics and groups a row needs.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from brokers import running_broker
from secured import authenticated, sasl_config
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
from tui.embedded import EmbeddedBroker

PROTOCOL = "SASL_PLAINTEXT"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
USERS = {f"user{n}": f"secret{n}" for n in range(64)}
NONE = ErrorCode.none
TAF = ErrorCode.topic_authorization_failed
GAF = ErrorCode.group_authorization_failed
CAF = ErrorCode.cluster_authorization_failed
TIAF = ErrorCode.transactional_id_authorization_failed
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


def config_resources(names: Names, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"resource_type": ConfigResourceType.TOPIC, "resource_name": names.t, **extra},
        {"resource_type": ConfigResourceType.TOPIC, "resource_name": names.u, **extra},
        {"resource_type": ConfigResourceType.BROKER, "resource_name": "0", **extra},
    ]


NO_AUTO_CREATE = {"allow_auto_topic_creation": False, "include_topic_authorized_operations": False}
RETENTION_SET = {"configs": [{"name": "retention.ms", "value": "86400000", "config_operation": 0}]}
RETENTION = {"configs": [{"name": "retention.ms", "value": "86400000"}]}


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
        lambda n: {"resources": config_resources(n, configuration_keys=None)},
        entries("results"), [TAF, TAF, CAF], [NONE, TAF, CAF],
        [(TOPIC, "t", AclOperation.DESCRIBE_CONFIGS)]),
    Row(ApiKey.DESCRIBE_CONFIGS, 4,
        lambda n: {"resources": config_resources(n, configuration_keys=None)},
        entries("results"), [TAF, TAF, CAF], [NONE, TAF, NONE],
        [(TOPIC, "t", AclOperation.ALTER_CONFIGS),
         (CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE_CONFIGS)], "-implied"),
    Row(ApiKey.ALTER_CONFIGS, 2,
        lambda n: {"resources": config_resources(n, **RETENTION), "validate_only": False},
        entries("responses"), [TAF, TAF, CAF], [NONE, TAF, CAF],
        [(TOPIC, "t", AclOperation.ALTER_CONFIGS)]),
    Row(ApiKey.INCREMENTAL_ALTER_CONFIGS, 1,
        lambda n: {"resources": config_resources(n, **RETENTION_SET), "validate_only": False},
        entries("responses"), [TAF, TAF, CAF], [NONE, TAF, CAF],
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
        entries("coordinators"), [TIAF, TIAF],
        [ErrorCode.coordinator_not_available, TIAF], [(TXN, "g", AclOperation.DESCRIBE)],
        "-transaction"),
    Row(ApiKey.JOIN_GROUP, 5,
        lambda n: {"group_id": n.g, "session_timeout": 10000, "rebalance_timeout": 10000,
                   "member_id": "", "protocol_type": "consumer",
                   "protocols": [{"name": "range", "metadata": b""}]},
        top_level, [GAF], [ErrorCode.member_id_required], [(GROUP, "g", AclOperation.READ)]),
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
        top_level, [TIAF], [ErrorCode.unsupported_version], [(TXN, "g", AclOperation.WRITE)],
        "-transactional"),
    # -- the cluster ---------------------------------------------------------------------
    Row(ApiKey.DESCRIBE_LOG_DIRS, 4, lambda n: {"topics": None}, top_level, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE)]),
    Row(ApiKey.DESCRIBE_CLUSTER, 1,
        lambda n: {"include_cluster_authorized_operations": True},
        lambda r: [r.error_code, r.cluster_authorized_operations], [NONE, 0],
        [NONE, 1 << AclOperation.DESCRIBE | 1 << AclOperation.ALTER],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
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
        lambda n: {"users": None}, top_level, [CAF], [NONE],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.DESCRIBE)]),
    Row(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, 0,
        lambda n: {"deletions": [{"name": n.g, "mechanism": 1}], "upsertions": []},
        entries("results"), [CAF], [ErrorCode.resource_not_found],
        [(CLUSTER, CLUSTER_RESOURCE_NAME, AclOperation.ALTER)]),
]  # fmt: skip


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    config = sasl_config(
        PROTOCOL,
        {"admin": "admin-secret", **USERS},
        **{"authorizer.class.name": AUTHORIZER, "super.users": "User:admin"},
    )
    with running_broker(tmp_path_factory.mktemp("locked"), config) as broker:
        yield broker


_users = itertools.count()


def prepare(admin: RawClient, names: Names) -> Names:
    """Topics t and u (one partition each) and groups g and h with an offset on t."""
    created = admin.call(
        ApiKey.CREATE_TOPICS,
        7,
        {"timeout": 10000, "validate_only": False, "topics": [
            {"name": name, "num_partitions": 1, "replication_factor": 1, "assignments": [],
             "configs": []} for name in (names.t, names.u)]},
    )  # fmt: skip
    assert [t.error_code for t in created.topics] == [NONE, NONE]
    names = dataclasses.replace(names, t_id=created.topics[0].topic_id,
                                u_id=created.topics[1].topic_id)  # fmt: skip
    for group in (names.g, names.h):
        committed = admin.call(
            ApiKey.OFFSET_COMMIT,
            8,
            {"group_id": group, "generation_id_or_member_epoch": -1, "member_id": "",
             "topics": [{"name": names.t, "partitions": [
                 {"partition_index": 0, "committed_offset": 0}]}]},
        )  # fmt: skip
        assert partitions(committed.topics) == [NONE]
    return names


def grant(admin: RawClient, user: str, grants: list[Grant], names: Names) -> None:
    creations = [
        {"resource_type": kind, "resource_name": getattr(names, name, name),
         "resource_pattern_type": PatternType.LITERAL, "principal": f"User:{user}",
         "host": "*", "operation": operation, "permission_type": AclPermissionType.ALLOW}
        for kind, name, operation in grants
    ]  # fmt: skip
    created = admin.call(ApiKey.CREATE_ACLS, 3, {"creations": creations})
    assert [r.error_code for r in created.results] == [NONE] * len(creations)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_each_api_refuses_then_serves_as_kafka_does(locked: EmbeddedBroker, row: Row) -> None:
    user = f"user{next(_users)}"
    prefix = f"{row.id.lower()}-"
    names = Names(*(prefix + letter for letter in "tughn"))
    bootstrap = locked.bootstrap_for(PROTOCOL)
    with authenticated(bootstrap, "admin", "admin-secret") as admin:
        names = prepare(admin, names)
        shortened = {names.t: "t", names.u: "u", names.t_id: "t", names.u_id: "u"}

        def codes() -> list[Any]:
            found = row.codes(client.call(row.api, row.version, row.request(names)))
            return [tuple(map(short, code)) if isinstance(code, tuple) else code for code in found]

        def short(part: Any) -> Any:
            return shortened.get(part, part) if isinstance(part, str | uuid.UUID) else part

        with authenticated(bootstrap, user, USERS[user]) as client:
            assert codes() == row.refused
            grant(admin, user, row.grants, names)
            assert codes() == row.allowed
