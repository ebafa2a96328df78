"""The quorum's APIs as a voter serves them: Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch
and DescribeQuorum, at the versions Kafka's controllers serve (Vote, BeginQuorumEpoch,
EndQuorumEpoch 0-1, DescribeQuorum 0-2; Fetch from 13, the first with topic ids, to 17).

The requests name the partition as Kafka's do: `__cluster_metadata` partition 0, by name
in the quorum APIs and by Kafka's fixed METADATA_TOPIC_ID in Fetch. Anything else is
INVALID_REQUEST; a cluster id other than ours is INCONSISTENT_CLUSTER_ID (KafkaRaftClient's
hasValidClusterId: an absent one is accepted).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ...protocol.build import build
from ...protocol.codec import Request, response_schema
from ...protocol.kafka_uuid import parse_kafka_uuid
from ...protocol.names import ApiKey, EndpointType
from .listener import ControllerListener
from .metadata_log import METADATA_PARTITION, METADATA_TOPIC, now_ms

if TYPE_CHECKING:
    from .quorum import MetadataQuorum

METADATA_TOPIC_ID = parse_kafka_uuid("AAAAAAAAAAAAAAAAAAAAAQ")
"""Kafka's Uuid.METADATA_TOPIC_ID, the fixed id of `__cluster_metadata`."""


def metadata_topics(partition: dict[str, Any]) -> list[dict[str, Any]]:
    """The `topics` of a quorum request or response: the metadata partition alone."""
    return [
        {
            "topic_name": METADATA_TOPIC,
            "partitions": [{"partition_index": METADATA_PARTITION, **partition}],
        }
    ]


UNSUPPORTED_HIGH_WATERMARK = 2**63 - 1
"""A Fetch partition's high_watermark when the replica does not send one (before v18)."""


class QuorumRpc:
    def __init__(self, quorum: MetadataQuorum) -> None:
        self.quorum = quorum

    def register(self, listener: ControllerListener) -> None:
        listener.register(ApiKey.VOTE, (0, 1), self.vote)
        listener.register(ApiKey.BEGIN_QUORUM_EPOCH, (0, 1), self.begin_quorum_epoch)
        listener.register(ApiKey.END_QUORUM_EPOCH, (0, 1), self.end_quorum_epoch)
        listener.register(ApiKey.FETCH, (13, 18), self.fetch)
        listener.register(ApiKey.DESCRIBE_QUORUM, (0, 2), self.describe_quorum)
        listener.register(ApiKey.DESCRIBE_CLUSTER, (0, 2), self.describe_cluster)

    def _response(self, request: Request, data: dict[str, Any]) -> Any:
        header = request.header
        schema = response_schema(header.api_key, header.api_version)
        return build(schema, {"throttle_time": 0, **data})

    def _partition(self, request: Request) -> Any | None:
        """The one metadata partition a quorum request names, else None."""
        body = request.body
        cluster_id = getattr(body, "cluster_id", None)
        if cluster_id is not None and cluster_id != self.quorum.cluster_id:
            return None
        topics = body.topics
        if len(topics) != 1 or len(topics[0].partitions) != 1:
            return None
        topic = topics[0]
        name_or_id = getattr(topic, "topic_name", None) or getattr(topic, "topic_id", None)
        if name_or_id not in (METADATA_TOPIC, METADATA_TOPIC_ID):
            return None
        partition = topic.partitions[0]
        index = getattr(partition, "partition_index", getattr(partition, "partition", -1))
        return partition if index == METADATA_PARTITION else None

    def _refusal(self, request: Request) -> Any:
        cluster_id = getattr(request.body, "cluster_id", None)
        wrong_cluster = cluster_id is not None and cluster_id != self.quorum.cluster_id
        error = ErrorCode.inconsistent_cluster_id if wrong_cluster else ErrorCode.invalid_request
        return self._response(request, {"error_code": error, "topics": [], "responses": []})

    def _answer(self, request: Request, partition: dict[str, Any]) -> Any:
        raft = self.quorum.raft
        return self._response(
            request,
            {
                "error_code": ErrorCode.none,
                "topics": metadata_topics(
                    {"leader_id": raft.leader_id, "leader_epoch": raft.epoch, **partition}
                ),
            },
        )

    async def vote(self, request: Request) -> Any:
        partition = self._partition(request)
        if partition is None:
            return self._refusal(request)
        error, granted = self.quorum.raft.vote_requested(
            partition.replica_id,
            partition.replica_epoch,
            partition.last_offset_epoch,
            partition.last_offset,
            now_ms(),
        )
        self.quorum.leader_maybe_changed()
        return self._answer(request, {"error_code": error, "vote_granted": granted})

    async def begin_quorum_epoch(self, request: Request) -> Any:
        partition = self._partition(request)
        if partition is None:
            return self._refusal(request)
        raft = self.quorum.raft
        error = raft.begin_epoch(partition.leader_id, partition.leader_epoch, now_ms())
        self.quorum.leader_maybe_changed()
        return self._answer(request, {"error_code": error})

    async def end_quorum_epoch(self, request: Request) -> Any:
        partition = self._partition(request)
        if partition is None:
            return self._refusal(request)
        if request.header.api_version == 0:
            successors = list(partition.preferred_successors)
        else:
            successors = [c.candidate_id for c in partition.preferred_candidates]
        raft = self.quorum.raft
        error = raft.end_epoch(partition.leader_id, partition.leader_epoch, successors, now_ms())
        self.quorum.leader_maybe_changed()
        return self._answer(request, {"error_code": error})

    async def fetch(self, request: Request) -> Any:
        partition = self._partition(request)
        if partition is None:
            return self._refusal(request)
        quorum, raft = self.quorum, self.quorum.raft
        state = getattr(request.body, "replica_state", None)  # v15+; replica_id before
        replica_id = request.body.replica_id if state is None else state.replica_id
        answer = raft.fetch_requested(
            replica_id,
            partition.fetch_offset,
            partition.last_fetched_epoch,
            partition.current_leader_epoch,
            now_ms(),
        )
        await quorum.committed_moved()
        records = b""
        if answer.read_from is not None:
            assert quorum.log is not None
            records = quorum.log.read(answer.read_from, partition.partition_max_bytes)
            # Parked only if the replica knows the high watermark already (v18 says which it
            # knows; before v18 it is taken as known, as Kafka's default does): one that moved
            # on this very fetch is sent at once, not after max_wait (KAFKA-14145, Kafka 4.1).
            known = getattr(partition, "high_watermark", UNSUPPORTED_HIGH_WATERMARK)
            if not records and known >= raft.high_watermark:
                await self._park(request, answer.read_from)
                records = quorum.log.read(answer.read_from, partition.partition_max_bytes)
        error = answer.error
        if not raft.is_leader:
            # Resigned while the fetch was parked: a success would tell the follower its
            # leader is alive, and hold back the election EndQuorumEpoch asked for.
            error, records = ErrorCode.not_leader_or_follower, b""
        diverging = answer.diverging or (-1, -1)
        return self._response(
            request,
            {
                "error_code": ErrorCode.none,
                "responses": [
                    {
                        "topic_id": METADATA_TOPIC_ID,
                        "partitions": [
                            {
                                "partition_index": METADATA_PARTITION,
                                "error_code": error,
                                "high_watermark": raft.high_watermark,
                                "log_start_offset": 0,
                                "diverging_epoch": {
                                    "epoch": diverging[0],
                                    "end_offset": diverging[1],
                                },
                                "current_leader": {
                                    "leader_id": raft.leader_id,
                                    "leader_epoch": raft.epoch,
                                },
                                "records": records,
                            }
                        ],
                    }
                ],
            },
        )

    async def _park(self, request: Request, offset: int) -> None:
        """Hold a fetch with nothing to send until the log or the high watermark moves, or
        max_wait passes (Kafka parks it in the fetch purgatory)."""
        quorum = self.quorum
        high_watermark = quorum.raft.high_watermark
        max_wait_s = request.body.max_wait.total_seconds()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max_wait_s), quorum.changed:
                await quorum.changed.wait_for(
                    lambda: (
                        quorum.raft.high_watermark != high_watermark
                        or quorum.log is None
                        or quorum.log.read(offset, 1) != b""
                        or not quorum.raft.is_leader
                    )
                )

    async def describe_quorum(self, request: Request) -> Any:
        """The leader's view of the voters; elsewhere a partition-level error, as Kafka's
        singletonErrorResponse (UNKNOWN_TOPIC_OR_PARTITION for another partition)."""
        raft = self.quorum.raft
        error = ErrorCode.not_leader_or_follower
        if self._partition(request) is None:
            error = ErrorCode.unknown_topic_or_partition
        elif raft.is_leader:
            error = ErrorCode.none
        if error != ErrorCode.none:
            unknown = {"leader_id": -1, "leader_epoch": -1, "high_watermark": -1}
            topics = metadata_topics({"error_code": error, **unknown, "current_voters": []})
            return self._response(request, {"error_code": ErrorCode.none, "topics": topics})
        voters = [
            {
                "replica_id": voter,
                "replica_directory_id": uuid.UUID(int=0),
                "log_end_offset": progress.end_offset,
                "last_fetch_timestamp": progress.last_fetch_ms,
                "last_caught_up_timestamp": progress.last_caught_up_ms,
            }
            for voter, progress in sorted(raft.describe(now_ms()).items())
        ]
        nodes = [
            {"node_id": voter, "listeners": [{"name": "CONTROLLER", "host": host, "port": port}]}
            for voter, (host, port) in sorted(self.quorum.voters.items())
        ]
        return self._response(
            request,
            {
                "error_code": ErrorCode.none,
                "topics": metadata_topics(
                    {
                        "error_code": ErrorCode.none,
                        "leader_id": raft.leader_id,
                        "leader_epoch": raft.epoch,
                        "high_watermark": raft.high_watermark,
                        "current_voters": voters,
                        "observers": [],
                    }
                ),
                "nodes": nodes,
            },
        )

    async def describe_cluster(self, request: Request) -> Any:
        """The controllers and the active one (the quorum's leader), as a controller answers
        DescribeCluster (KIP-919): how Kafka's admin client finds its way with
        --bootstrap-controller. A request for BROKER endpoints is MISMATCHED_ENDPOINT_TYPE
        (INVALID_REQUEST at v0, which cannot ask for controllers)."""
        version = request.header.api_version
        wanted = getattr(request.body, "endpoint_type", EndpointType.BROKER)
        if wanted != EndpointType.CONTROLLER:
            known = wanted in (EndpointType.BROKER, EndpointType.CONTROLLER)
            if version == 0:
                error = ErrorCode.invalid_request
            elif known:
                error = ErrorCode.mismatched_endpoint_type
            else:
                error = ErrorCode.unsupported_endpoint_type
            message = (
                "The request was sent to an endpoint of type CONTROLLER, but we wanted an"
                f" endpoint of type {EndpointType(wanted).name}"
                if known
                else f"Unsupported endpoint type {wanted}"
            )
            refusal = {"error_code": error, "error_message": message, "cluster_id": ""}
            return self._response(request, {**refusal, "brokers": []})
        quorum = self.quorum
        brokers = [
            {"broker_id": node, "host": host, "port": port, "rack": None, "is_fenced": False}
            for node, (host, port) in sorted(quorum.voters.items())
        ]
        leader_id = quorum.raft.leader_id
        return self._response(
            request,
            {
                "error_code": ErrorCode.none,
                "endpoint_type": EndpointType.CONTROLLER,
                "cluster_id": quorum.cluster_id,
                "controller_id": leader_id if leader_id in quorum.voters else -1,
                "brokers": brokers,
            },
        )
