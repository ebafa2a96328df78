"""Cluster administration for kwb and the workbench: topics, configs, offsets and groups.

Every call is a Kafka request built from kio's schemas and sent over aiokafka's connections
(see requests.py), so the same code works against localbroker and any Kafka cluster, over
SASL and TLS too. Failures raise KafkaToolError with one readable line.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from functools import partial
from types import TracebackType
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError as AIOKafkaError
from aiokafka.errors import NodeNotReadyError
from kio.schema.errors import ErrorCode

from localbroker.public import (
    AlterConfigOp,
    ApiKey,
    ConfigResourceType,
    ConfigSource,
    CoordinatorType,
    IsolationLevel,
    assigned_partitions,
    kafka_uuid_string,
)

from .aiokafka_private import client_of
from .connection import Connection
from .errors import KafkaToolError, raise_for, unreachable
from .models import (
    BrokerNode,
    ClusterInfo,
    CommittedOffset,
    ConfigInfo,
    GroupInfo,
    GroupListing,
    MemberInfo,
    PartitionInfo,
    TopicInfo,
    TopicPartition,
)
from .not_ready import LEADER_NOT_READY, until_ready
from .requests import KioRequest
from .routing import send_to

_REPEATED_KEPT = 32
"""ListOffsets requests kept (a snapshot sends three per leader)."""


def _by_topic(partitions: Iterable[TopicPartition]) -> dict[str, list[int]]:
    """Partitions grouped by topic, in the order given, as requests list them."""
    grouped: dict[str, list[int]] = defaultdict(list)
    for topic, partition in partitions:
        grouped[topic].append(partition)
    return grouped


def _resource_name(resource_type: ConfigResourceType, name: str) -> str:
    return f"{'topic' if resource_type == ConfigResourceType.TOPIC else 'broker'} {name}"


def _config_source(value: int) -> ConfigSource:
    """A config source code; one newer than this client knows is UNKNOWN."""
    try:
        return ConfigSource(value)
    except ValueError:
        return ConfigSource.UNKNOWN


def _offset_fetch_groups(response: Any) -> list[Any]:
    """OffsetFetch answers per group from v8, for the one group before."""
    return list(response.groups) if hasattr(response, "groups") else [response]


def raise_for_topic(topic: Any) -> None:
    """A topic of a Metadata or DescribeTopicPartitions answer that the broker had to refuse."""
    raise_for(
        topic.error_code,
        f"Topic '{topic.name}' does not exist as expected"
        if topic.error_code == ErrorCode.unknown_topic_or_partition
        else None,
        f"topic {topic.name}",
    )


def partition_info(p: Any) -> PartitionInfo:
    """A partition of a Metadata answer, or of DescribeTopicPartitions', which adds the
    eligible leader replicas."""
    elr = getattr(p, "eligible_leader_replicas", None)
    last_known_elr = getattr(p, "last_known_elr", None)
    return PartitionInfo(
        p.partition_index,
        p.leader_id,
        p.leader_epoch,
        tuple(p.replica_nodes),
        tuple(p.isr_nodes),
        tuple(p.offline_replicas),
        None if elr is None else tuple(elr),
        None if last_known_elr is None else tuple(last_known_elr),
    )


def _cluster_info(response: Any) -> ClusterInfo:
    """The cluster a Metadata answer describes."""
    return ClusterInfo(
        response.cluster_id,
        response.controller_id,
        tuple(BrokerNode(b.node_id, b.host, b.port, b.rack) for b in response.brokers),
    )


def _topic_infos(
    response: Any, names: list[str] | None, *, include_internal: bool
) -> list[TopicInfo]:
    """The topics of a Metadata answer by name; a topic named in `names` that the broker
    refused raises, one it refused while listing all is left out."""
    found = []
    for topic in response.topics:
        if names is not None:
            raise_for_topic(topic)
        elif topic.error_code != ErrorCode.none:
            continue
        if topic.is_internal and not include_internal and names is None:
            continue
        found.append(
            TopicInfo(
                topic.name,
                kafka_uuid_string(topic.topic_id) if getattr(topic, "topic_id", None) else "",
                topic.is_internal,
                tuple(sorted(map(partition_info, topic.partitions), key=lambda p: p.partition)),
            )
        )
    return sorted(found, key=lambda t: t.name)


def _by_leader(
    partitions: Iterable[TopicPartition], leaders: Mapping[TopicPartition, int]
) -> dict[int, list[TopicPartition]]:
    """`partitions` grouped by the node `leaders` says leads each."""
    by_leader: dict[int, list[TopicPartition]] = defaultdict(list)
    for topic, partition in partitions:
        leader = leaders.get((topic, partition))
        if leader is None:
            raise KafkaToolError(f"topic {topic} has no partition {partition}")
        by_leader[leader].append((topic, partition))
    return by_leader


class KafkaAdmin:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._admin = AIOKafkaAdminClient(**connection.aiokafka_args())
        self._timeout_ms = connection.request_timeout_ms
        self._repeated: dict[Hashable, KioRequest] = {}
        """ListOffsets requests by what they ask, kept to send again as they are (built
        and encoded once): the snapshots ask the same of every partition each second."""

    async def __aenter__(self) -> KafkaAdmin:
        try:
            await self._admin.start()
        except AIOKafkaError as exc:
            await self._admin.close()
            raise unreachable(self.connection.bootstrap_servers, exc) from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._admin.close()

    # -- plumbing -------------------------------------------------------------------------

    async def send(
        self,
        api_key: ApiKey,
        data: dict[str, Any],
        *,
        node: int | None = None,
        max_version: int | None = None,
        ms_times: bool = False,
    ) -> Any:
        """Send one request (to `node`, or any broker) and return kio's response (with
        timestamps as int ms when `ms_times`: requests.times_as_ms)."""
        request = KioRequest(api_key, data, max_version=max_version, ms_times=ms_times)
        return await self._send(request, node)

    async def _send(self, request: KioRequest, node: int | None) -> Any:
        """`request` to `node`, or to any broker that can be reached (routing.send_to); a
        failure in words."""
        try:
            return await send_to(client_of(self._admin), request, node)
        except NodeNotReadyError as exc:
            if node is not None:
                raise KafkaToolError(f"request to broker {node} failed: {exc}") from None
            servers = self.connection.bootstrap_servers
            raise KafkaToolError(f"no broker of {servers} is reachable: {exc}") from None
        except AIOKafkaError as exc:
            to = "a broker" if node is None else f"broker {node}"
            raise KafkaToolError(f"request to {to} failed: {exc}") from None

    # -- cluster and topics ---------------------------------------------------------------

    async def _metadata(self, topics: list[str] | None) -> Any:
        return await self.send(
            ApiKey.METADATA,
            {
                "topics": None
                if topics is None
                else [{"name": t, "topic_id": None} for t in topics],
                "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False,
            },
        )

    async def cluster(self) -> ClusterInfo:
        return _cluster_info(await self._metadata([]))

    async def cluster_and_topics(self) -> tuple[ClusterInfo, list[TopicInfo]]:
        """The cluster and every topic, internal ones too, from one Metadata request (the
        workbench's snapshot: with 10,000 partitions each answer costs the UI loop)."""
        response = await self._metadata(None)
        return _cluster_info(response), _topic_infos(response, None, include_internal=True)

    async def api_versions(self, node: int | None = None) -> dict[int, tuple[int, int]]:
        """The API version ranges a broker advertises (api key -> (min, max))."""
        response = await self.send(
            ApiKey.API_VERSIONS,
            {"client_software_name": "kafka-workbench", "client_software_version": "1"},
            node=node,
        )
        raise_for(response.error_code, None, "ApiVersions")
        return {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}

    async def topics(
        self, names: list[str] | None = None, *, include_internal: bool = False
    ) -> list[TopicInfo]:
        """Topics with their partitions; named topics that don't exist raise."""
        return _topic_infos(await self._metadata(names), names, include_internal=include_internal)

    async def create_topic(
        self,
        name: str,
        partitions: int = -1,
        replication_factor: int = -1,
        configs: dict[str, str] | None = None,
        *,
        validate_only: bool = False,
    ) -> None:
        response = await self.send(
            ApiKey.CREATE_TOPICS,
            {
                "topics": [
                    {
                        "name": name,
                        "num_partitions": partitions,
                        "replication_factor": replication_factor,
                        "assignments": [],
                        "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()],
                    }
                ],
                "timeout": self._timeout_ms,
                "validate_only": validate_only,
            },
        )
        for result in response.topics:
            raise_for(result.error_code, result.error_message, f"topic {name}")

    async def delete_topic(self, name: str) -> None:
        response = await self.send(
            ApiKey.DELETE_TOPICS,
            {
                "topics": [{"name": name, "topic_id": None}],
                "topic_names": [name],
                "timeout": self._timeout_ms,
            },
        )
        for result in response.responses:
            raise_for(result.error_code, getattr(result, "error_message", None), f"topic {name}")

    async def create_partitions(self, name: str, count: int) -> None:
        response = await self.send(
            ApiKey.CREATE_PARTITIONS,
            {
                "topics": [{"name": name, "count": count, "assignments": None}],
                "timeout": self._timeout_ms,
                "validate_only": False,
            },
        )
        for result in response.results:
            raise_for(result.error_code, result.error_message, f"topic {name}")

    # -- configs ------------------------------------------------------------------------

    async def describe_configs(
        self,
        resource_type: ConfigResourceType,
        name: str,
        *,
        include_synonyms: bool = False,
        keys: list[str] | None = None,
        in_broker_order: bool = False,
    ) -> list[ConfigInfo]:
        """The resource's configs, sorted by name (or as the broker listed them)."""
        node = int(name) if resource_type == ConfigResourceType.BROKER and name else None
        response = await self.send(
            ApiKey.DESCRIBE_CONFIGS,
            {
                "resources": [
                    {
                        "resource_type": resource_type,
                        "resource_name": name,
                        "configuration_keys": keys,
                    }
                ],
                "include_synonyms": include_synonyms,
                "include_documentation": True,
            },
            node=node,
        )
        (result,) = response.results
        raise_for(
            result.error_code,
            result.error_message or None,
            _resource_name(resource_type, name),
        )
        configs = [
            ConfigInfo(
                c.name,
                c.value,
                _config_source(getattr(c, "config_source", ConfigSource.UNKNOWN)),
                c.read_only,
                c.is_sensitive,
                tuple(
                    (s.name, s.value, _config_source(s.source)) for s in getattr(c, "synonyms", ())
                ),
                getattr(c, "documentation", None),
            )
            for c in result.configs
        ]
        return configs if in_broker_order else sorted(configs, key=lambda c: c.name)

    async def alter_configs(
        self,
        resource_type: ConfigResourceType,
        name: str,
        *,
        set_: dict[str, str] | None = None,
        delete: Iterable[str] = (),
    ) -> None:
        """IncrementalAlterConfigs: set some configs and remove overrides of others."""
        node = int(name) if resource_type == ConfigResourceType.BROKER and name else None
        configs = [
            {"name": k, "config_operation": AlterConfigOp.SET, "value": v}
            for k, v in (set_ or {}).items()
        ]
        configs += [
            {"name": k, "config_operation": AlterConfigOp.DELETE, "value": None} for k in delete
        ]
        response = await self.send(
            ApiKey.INCREMENTAL_ALTER_CONFIGS,
            {
                "resources": [
                    {"resource_type": resource_type, "resource_name": name, "configs": configs}
                ],
                "validate_only": False,
            },
            node=node,
        )
        for result in response.responses:
            raise_for(
                result.error_code,
                result.error_message,
                _resource_name(resource_type, name),
            )

    # -- offsets ------------------------------------------------------------------------

    async def leaders(
        self, partitions: Iterable[TopicPartition]
    ) -> dict[int, list[TopicPartition]]:
        """The partitions by the node that leads them (where to fetch or list offsets)."""
        wanted = list(partitions)
        topics = await self.topics(sorted({t for t, _ in wanted}))
        known = {(t.name, p.partition): p.leader for t in topics for p in t.partitions}
        return _by_leader(wanted, known)

    async def _at_leaders(
        self,
        partitions: list[TopicPartition],
        ask: Callable[[int, list[TopicPartition]], Awaitable[None]],
        leaders: Mapping[TopicPartition, int] | None,
    ) -> None:
        """`ask(leader, its partitions)` of each leader, all again with the leaders looked up
        afresh while one answers that it is not the leader yet (a topic just created on
        Kafka: not_ready.py). `leaders`, when the caller has just read them, saves the
        first lookup (a Metadata request naming every topic)."""
        given = leaders

        async def attempt() -> None:
            nonlocal given
            if given is None:
                by_leader = await self.leaders(partitions)
            else:
                by_leader = _by_leader(partitions, given)
                given = None  # a retry looks them up afresh
            await asyncio.gather(*(ask(leader, wanted) for leader, wanted in by_leader.items()))

        await until_ready(
            attempt, lambda _: (), self._timeout_ms / 1000, retriable=LEADER_NOT_READY
        )

    async def list_offsets(
        self,
        partitions: Iterable[TopicPartition],
        timestamp: int,
        isolation_level: IsolationLevel = IsolationLevel.READ_UNCOMMITTED,
        *,
        leaders: Mapping[TopicPartition, int] | None = None,
    ) -> dict[TopicPartition, tuple[int, int]]:
        """(offset, timestamp) per partition for `timestamp` (one of ListOffsetsTimestamp, or
        epoch ms); LATEST under READ_COMMITTED is the last stable offset. `leaders`: each
        partition's leader as just read, if the caller has them (else they are looked up)."""
        results: dict[TopicPartition, tuple[int, int]] = {}

        async def ask(leader: int, wanted: list[TopicPartition]) -> None:
            kept = (leader, timestamp, isolation_level, tuple(wanted))
            request = self._repeated.get(kept)
            if request is None:
                if len(self._repeated) >= _REPEATED_KEPT:
                    self._repeated.clear()
                request = self._repeated[kept] = KioRequest(
                    ApiKey.LIST_OFFSETS,
                    {
                        "replica_id": -1,
                        "isolation_level": isolation_level,
                        "timeout": self._timeout_ms,
                        "topics": [
                            {
                                "name": t,
                                "partitions": [
                                    {
                                        "partition_index": p,
                                        "current_leader_epoch": -1,
                                        "timestamp": timestamp,
                                    }
                                    for p in ps
                                ],
                            }
                            for t, ps in _by_topic(wanted).items()
                        ],
                    },
                )
            response = await self._send(request, leader)
            for topic in response.topics:
                for p in topic.partitions:
                    if p.error_code:  # not formatting `what` for each of 10,000 partitions
                        raise_for(p.error_code, None, f"{topic.name}-{p.partition_index}")
                    results[(topic.name, p.partition_index)] = (p.offset, p.timestamp)

        await self._at_leaders(list(partitions), ask, leaders)
        return results

    async def delete_records(self, offsets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        """DeleteRecords: move each partition's log start offset up to its offset (-1: the
        high watermark), at the partition's leader; the new log start offsets."""
        moved: dict[TopicPartition, int] = {}

        async def ask(leader: int, wanted: list[TopicPartition]) -> None:
            by_topic = _by_topic(wanted)
            response = await self.send(
                ApiKey.DELETE_RECORDS,
                {
                    "topics": [
                        {
                            "name": t,
                            "partitions": [
                                {"partition_index": p, "offset": offsets[(t, p)]} for p in ps
                            ],
                        }
                        for t, ps in by_topic.items()
                    ],
                    "timeout": self._timeout_ms,
                },
                node=leader,
            )
            for topic in response.topics:
                for p in topic.partitions:
                    raise_for(p.error_code, None, f"{topic.name}-{p.partition_index}")
                    moved[(topic.name, p.partition_index)] = p.low_watermark

        await self._at_leaders(list(offsets), ask, None)
        return moved

    async def log_dir_sizes(self, nodes: Iterable[int]) -> dict[TopicPartition, int]:
        """Bytes on disk per partition, summed over the brokers `nodes` (DescribeLogDirs).
        The caller names them from the Metadata it already holds (a snapshot's)."""
        sizes: dict[TopicPartition, int] = defaultdict(int)
        for node in nodes:
            response = await self.send(ApiKey.DESCRIBE_LOG_DIRS, {"topics": None}, node=node)
            for result in response.results:
                for topic in result.topics:
                    for p in topic.partitions:
                        if not p.is_future_key:
                            sizes[(topic.name, p.partition_index)] += p.partition_size
        return dict(sizes)

    # -- groups ---------------------------------------------------------------------------

    async def coordinator(self, group_id: str) -> int:
        """The group's coordinator, once the cluster has one ready (not_ready.py)."""
        return await until_ready(
            lambda: self._find_coordinator(group_id), lambda _: (), self._timeout_ms / 1000
        )

    async def _find_coordinator(self, group_id: str) -> int:
        return await self.find_coordinator(group_id, CoordinatorType.GROUP)

    async def find_coordinator(self, key: str, key_type: CoordinatorType) -> int:
        """The node coordinating a group or (TRANSACTION) a transactional id; asked once."""
        response = await self.send(
            ApiKey.FIND_COORDINATOR,
            {"key": key, "key_type": key_type, "coordinator_keys": [key]},
        )
        entry = response.coordinators[0] if hasattr(response, "coordinators") else response
        what = "group" if key_type == CoordinatorType.GROUP else "transactional id"
        raise_for(entry.error_code, entry.error_message, f"{what} {key}")
        return int(entry.node_id)

    async def _at_coordinator(
        self,
        group_id: str,
        api_key: ApiKey,
        data: dict[str, Any],
        errors_of: Callable[[Any], Iterable[int]],
    ) -> Any:
        """Send a request to the group's coordinator, again while the coordinator is not ready
        (`errors_of` the answer names one of not_ready's errors), as Kafka's admin
        client does."""

        async def attempt() -> Any:
            return await self.send(api_key, data, node=await self._find_coordinator(group_id))

        return await until_ready(attempt, errors_of, self._timeout_ms / 1000)

    async def list_groups(self, states: list[str] | None = None) -> list[GroupListing]:
        listed: dict[str, GroupListing] = {}
        for broker in (await self.cluster()).brokers:
            request = partial(
                self.send,
                ApiKey.LIST_GROUPS,
                {"states_filter": states or [], "types_filter": []},
                node=broker.node_id,
            )
            response = await until_ready(
                request, lambda answer: (answer.error_code,), self._timeout_ms / 1000
            )
            raise_for(response.error_code, None, "listing groups")
            for g in response.groups:
                listed[g.group_id] = GroupListing(
                    g.group_id,
                    getattr(g, "group_state", ""),
                    g.protocol_type,
                    getattr(g, "group_type", "classic"),
                )
        return sorted(listed.values(), key=lambda g: g.group_id)

    async def describe_group(self, group_id: str) -> GroupInfo:
        response = await self._at_coordinator(
            group_id,
            ApiKey.DESCRIBE_GROUPS,
            {"groups": [group_id], "include_authorized_operations": False},
            lambda answer: (g.error_code for g in answer.groups),
        )
        (group,) = response.groups
        raise_for(group.error_code, getattr(group, "error_message", None), f"group {group_id}")
        return GroupInfo(
            group.group_id,
            group.group_state,
            group.protocol_type,
            group.protocol_data,
            tuple(
                MemberInfo(
                    m.member_id,
                    getattr(m, "group_instance_id", None),
                    m.client_id,
                    m.client_host,
                    assigned_partitions(m.member_assignment) or {},
                )
                for m in group.members
            ),
        )

    async def _offset_fetch(self, group_id: str, require_stable: bool) -> list[Any]:
        """OffsetFetch of every partition of the group: the answer's topics."""
        response = await self._at_coordinator(
            group_id,
            ApiKey.OFFSET_FETCH,
            {
                "group_id": group_id,
                "topics": None,
                "require_stable": require_stable,
                "groups": [{"group_id": group_id, "topics": None}],
            },
            lambda answer: (getattr(g, "error_code", 0) for g in _offset_fetch_groups(answer)),
        )
        topics = []
        for group in _offset_fetch_groups(response):
            raise_for(getattr(group, "error_code", 0), None, f"group {group_id}")
            topics += group.topics
        return topics

    async def pending_offsets(self, group_id: str) -> set[TopicPartition]:
        """The partitions whose offsets an open transaction will commit (TxnOffsetCommit):
        OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT for them."""
        return {
            (topic.name, p.partition_index)
            for topic in await self._offset_fetch(group_id, require_stable=True)
            for p in topic.partitions
            if p.error_code == ErrorCode.unstable_offset_commit
        }

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, CommittedOffset]:
        offsets: dict[TopicPartition, CommittedOffset] = {}
        for topic in await self._offset_fetch(group_id, require_stable=False):
            for p in topic.partitions:
                if p.committed_offset >= 0:
                    offsets[(topic.name, p.partition_index)] = CommittedOffset(
                        p.committed_offset,
                        p.metadata or "",
                        getattr(p, "committed_leader_epoch", -1),
                    )
        return offsets

    async def commit_group_offsets(self, group_id: str, offsets: dict[TopicPartition, int]) -> None:
        """Set committed offsets of a group without joining it (the group must be empty)."""
        by_topic: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for (topic, partition), offset in sorted(offsets.items()):
            by_topic[topic].append((partition, offset))
        response = await self._at_coordinator(
            group_id,
            ApiKey.OFFSET_COMMIT,
            {
                "group_id": group_id,
                "generation_id_or_member_epoch": -1,
                "member_id": "",
                "group_instance_id": None,
                "retention_time": -1,
                "topics": [
                    {
                        "name": t,
                        "partitions": [
                            {
                                "partition_index": p,
                                "committed_offset": o,
                                "committed_leader_epoch": -1,
                                "committed_metadata": "",
                            }
                            for p, o in ps
                        ],
                    }
                    for t, ps in by_topic.items()
                ],
            },
            lambda answer: (p.error_code for t in answer.topics for p in t.partitions),
        )
        for topic in response.topics:
            for p in topic.partitions:
                raise_for(p.error_code, None, f"group {group_id} {topic.name}-{p.partition_index}")

    async def delete_groups(self, group_ids: list[str]) -> dict[str, ErrorCode]:
        """Delete groups, each at its coordinator; the error code per group (NONE: deleted)."""
        outcome: dict[str, ErrorCode] = {}
        for group_id in group_ids:
            response = await self._at_coordinator(
                group_id,
                ApiKey.DELETE_GROUPS,
                {"groups_names": [group_id]},
                lambda answer: (r.error_code for r in answer.results),
            )
            for result in response.results:
                outcome[result.group_id] = ErrorCode(result.error_code)
        return outcome
