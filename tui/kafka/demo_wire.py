"""The requests a classic consumer-group member sends, for one group and one topic, over its
own AIOKafkaClient: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
OffsetFetch, OffsetCommit, ListOffsets and Fetch, each a kio request (see requests.py).

Owning the client is the point: closing it drops exactly this member's connections and
nothing else, which is how the demo kills a consumer. Group requests go over aiokafka's
coordination connection, so a long-polling Fetch never holds up a Heartbeat. Versions that
name topics by id are avoided (the member knows topic names only).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiokafka import AIOKafkaClient, TopicPartition
from aiokafka.client import ConnectionGroup
from kio.schema.errors import ErrorCode

from localbroker.public import (
    CONSUMER_PROTOCOL_TYPE,
    ApiKey,
    CoordinatorType,
    IsolationLevel,
    ListOffsetsTimestamp,
    iter_records,
)

from .connection import Connection
from .errors import raise_for
from .not_ready import until_ready
from .requests import KioRequest
from .routing import send_to

_NAMES_UP_TO = {
    ApiKey.FETCH: 12,
    ApiKey.OFFSET_COMMIT: 9,
    ApiKey.OFFSET_FETCH: 9,
}  # later versions use topic ids
FETCH_WAIT_MS = 250
_PARTITION_FETCH_BYTES = 64 * 1024


def _groups(offset_fetch: Any) -> list[Any]:
    """OffsetFetch answers per group from v8, for the one group before."""
    return list(offset_fetch.groups) if hasattr(offset_fetch, "groups") else [offset_fetch]


class GroupClient:
    """One member's connections to the cluster and the requests it makes."""

    def __init__(self, connection: Connection, client_id: str, group_id: str, topic: str) -> None:
        args = connection.aiokafka_args()
        args["client_id"] = client_id
        self.group_id = group_id
        self.topic = topic
        self.coordinator: int | None = None
        self._timeout_s = connection.request_timeout_ms / 1000
        self._client = AIOKafkaClient(**args)

    async def bootstrap(self) -> None:
        await self._client.bootstrap()
        await self._client.set_topics([self.topic])

    async def close(self) -> None:
        """Close every connection: the broker sees them go, and nothing else."""
        await self._client.close()

    async def _send(
        self, api_key: ApiKey, data: dict[str, Any], node: int | None = None, *, group: Any = None
    ) -> Any:
        request = KioRequest(api_key, data, max_version=_NAMES_UP_TO.get(api_key))
        return await send_to(self._client, request, node, group or ConnectionGroup.DEFAULT)

    async def _find_coordinator(self) -> int:
        """The group's coordinator, once the cluster has one ready (not_ready.py)."""
        return await until_ready(self._find_coordinator_once, lambda _: (), self._timeout_s)

    async def _find_coordinator_once(self) -> int:
        response = await self._send(
            ApiKey.FIND_COORDINATOR,
            {
                "key": self.group_id,
                "key_type": CoordinatorType.GROUP,
                "coordinator_keys": [self.group_id],
            },
        )
        entry = response.coordinators[0] if hasattr(response, "coordinators") else response
        raise_for(entry.error_code, entry.error_message, f"group {self.group_id}")
        node = int(entry.node_id)
        if self._client.cluster.broker_metadata(node) is None:
            await self._client.force_metadata_update()
        return node

    async def _to_coordinator(self, api_key: ApiKey, data: dict[str, Any]) -> Any:
        if self.coordinator is None:
            self.coordinator = await self._find_coordinator()
        return await self._send(api_key, data, self.coordinator, group=ConnectionGroup.COORDINATION)

    # -- membership -------------------------------------------------------------------------

    async def join(
        self,
        member_id: str,
        session_timeout_ms: int,
        rebalance_timeout_ms: int,
        assignor: str,
        metadata: bytes,
        reason: str,
    ) -> Any:
        """JoinGroup; the coordinator parks it until the rebalance's join phase ends."""
        return await self._to_coordinator(
            ApiKey.JOIN_GROUP,
            {
                "group_id": self.group_id,
                "session_timeout": session_timeout_ms,
                "rebalance_timeout": rebalance_timeout_ms,
                "member_id": member_id,
                "group_instance_id": None,
                "protocol_type": CONSUMER_PROTOCOL_TYPE,
                "protocols": [{"name": assignor, "metadata": metadata}],
                "reason": reason,
            },
        )

    async def sync(
        self, generation: int, member_id: str, assignor: str, assignments: dict[str, bytes]
    ) -> Any:
        """SyncGroup: the leader hands in everyone's assignment, the others none."""
        return await self._to_coordinator(
            ApiKey.SYNC_GROUP,
            {
                "group_id": self.group_id,
                "generation_id": generation,
                "member_id": member_id,
                "group_instance_id": None,
                "protocol_type": CONSUMER_PROTOCOL_TYPE,
                "protocol_name": assignor,
                "assignments": [{"member_id": m, "assignment": a} for m, a in assignments.items()],
            },
        )

    async def heartbeat(self, generation: int, member_id: str) -> ErrorCode:
        response = await self._to_coordinator(
            ApiKey.HEARTBEAT,
            {
                "group_id": self.group_id,
                "generation_id": generation,
                "member_id": member_id,
                "group_instance_id": None,
            },
        )
        return ErrorCode(response.error_code)

    async def leave(self, member_id: str, reason: str) -> None:
        response = await self._to_coordinator(
            ApiKey.LEAVE_GROUP,
            {
                "group_id": self.group_id,
                "member_id": member_id,
                "members": [{"member_id": member_id, "group_instance_id": None, "reason": reason}],
            },
        )
        raise_for(response.error_code, None, f"LeaveGroup of {member_id}")

    def partition_count(self) -> int:
        return len(self._client.cluster.partitions_for_topic(self.topic) or ())

    async def refresh_metadata(self) -> None:
        await self._client.force_metadata_update()

    # -- offsets ----------------------------------------------------------------------------

    async def committed(self, partitions: list[int]) -> dict[int, int]:
        """The group's committed offsets (partitions without one are left out)."""
        wanted = [{"name": self.topic, "partition_indexes": partitions}]

        def forget_coordinator() -> None:
            self.coordinator = None

        request = partial(
            self._to_coordinator,
            ApiKey.OFFSET_FETCH,
            {
                "group_id": self.group_id,
                "topics": wanted,
                "require_stable": True,
                "groups": [
                    {
                        "group_id": self.group_id,
                        "member_id": None,
                        "member_epoch": -1,
                        "topics": wanted,
                    }
                ],
            },
        )
        response = await until_ready(
            request,
            lambda answer: (getattr(g, "error_code", 0) for g in _groups(answer)),
            self._timeout_s,
            forget_coordinator,
        )
        groups = _groups(response)
        found: dict[int, int] = {}
        for group in groups:
            raise_for(getattr(group, "error_code", 0), None, f"offsets of group {self.group_id}")
            for topic in group.topics:
                for p in topic.partitions:
                    if p.committed_offset >= 0:
                        found[p.partition_index] = p.committed_offset
        return found

    async def earliest(self, partitions: list[int]) -> dict[int, int]:
        """Log start offsets (auto.offset.reset=earliest), asked of each partition's leader."""
        found: dict[int, int] = {}
        for node, wanted in self.by_leader(partitions).items():
            response = await self._send(
                ApiKey.LIST_OFFSETS,
                {
                    "replica_id": -1,
                    "isolation_level": IsolationLevel.READ_UNCOMMITTED,
                    "timeout": 5000,
                    "topics": [
                        {
                            "name": self.topic,
                            "partitions": [
                                {
                                    "partition_index": p,
                                    "current_leader_epoch": -1,
                                    "timestamp": ListOffsetsTimestamp.EARLIEST,
                                }
                                for p in wanted
                            ],
                        }
                    ],
                },
                node,
            )
            for topic in response.topics:
                for p in topic.partitions:
                    raise_for(p.error_code, None, f"{topic.name}-{p.partition_index}")
                    found[p.partition_index] = p.offset
        return found

    async def commit(
        self, generation: int, member_id: str, offsets: dict[int, int], metadata: str
    ) -> dict[int, ErrorCode]:
        """OffsetCommit as a member of `generation`; the error of each partition."""
        response = await self._to_coordinator(
            ApiKey.OFFSET_COMMIT,
            {
                "group_id": self.group_id,
                "generation_id": generation,
                "generation_id_or_member_epoch": generation,
                "member_id": member_id,
                "group_instance_id": None,
                "retention_time": -1,
                "topics": [
                    {
                        "name": self.topic,
                        "partitions": [
                            {
                                "partition_index": p,
                                "committed_offset": o,
                                "committed_leader_epoch": -1,
                                "committed_metadata": metadata,
                            }
                            for p, o in sorted(offsets.items())
                        ],
                    }
                ],
            },
        )
        return {
            p.partition_index: ErrorCode(p.error_code)
            for topic in response.topics
            for p in topic.partitions
        }

    # -- fetching ---------------------------------------------------------------------------

    def by_leader(self, partitions: list[int]) -> dict[int, list[int]]:
        """Partitions grouped by their leader; those without a known leader are left out (and
        a metadata refresh asked for)."""
        by_node: dict[int, list[int]] = {}
        for p in partitions:
            leader = self._client.cluster.leader_for_partition(TopicPartition(self.topic, p))
            if leader is None or leader < 0:
                self._client.force_metadata_update()
                continue
            by_node.setdefault(leader, []).append(p)
        return by_node

    async def fetch(
        self, node: int, positions: dict[int, int]
    ) -> tuple[list[tuple[int, int]], list[int]]:
        """Fetch from `node` at `positions`: the (partition, offset) of each record, and the
        partitions whose offset is out of range (to start again from the earliest)."""
        response = await self._send(
            ApiKey.FETCH,
            {
                "replica_id": -1,
                "max_wait": FETCH_WAIT_MS,
                "min_bytes": 1,
                "max_bytes": 4 * _PARTITION_FETCH_BYTES,
                "isolation_level": IsolationLevel.READ_UNCOMMITTED,
                "session_id": 0,
                "session_epoch": -1,
                "topics": [
                    {
                        "topic": self.topic,
                        "partitions": [
                            {
                                "partition": p,
                                "current_leader_epoch": -1,
                                "fetch_offset": offset,
                                "last_fetched_epoch": -1,
                                "log_start_offset": -1,
                                "partition_max_bytes": _PARTITION_FETCH_BYTES,
                            }
                            for p, offset in positions.items()
                        ],
                    }
                ],
                "forgotten_topics_data": [],
                "rack_id": "",
            },
            node,
        )
        records: list[tuple[int, int]] = []
        out_of_range: list[int] = []
        for topic in response.responses:
            for p in topic.partitions:
                error = ErrorCode(p.error_code)
                if error == ErrorCode.offset_out_of_range:
                    out_of_range.append(p.partition_index)
                elif error != ErrorCode.none:
                    self._client.force_metadata_update()
                else:
                    data = bytes(p.records or b"")
                    records += [(p.partition_index, r.offset) for r in iter_records(data)]
        return records, out_of_range
