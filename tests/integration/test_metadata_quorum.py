"""The controller quorum: three voters in one event loop, talking over their CONTROLLER
listeners on free ports, with the metadata log on disk.

A short election timeout keeps elections fast. The fetch timeout is longer than any wait
here, so a follower stands for election only when its leader resigns with EndQuorumEpoch
(or never had one): a loaded machine's slow fetch does not start one, and a new leader
elected in time after a stop shows the resignation reached the followers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from reference_kafka import ReferenceUnavailable, free_port, java, kafka_classpath, unavailable
from waiting import wait_until_async

from localbroker.cluster.peer import PeerClient
from localbroker.cluster.quorum.metadata_log import CommittedRecord
from localbroker.cluster.quorum.quorum import MetadataQuorum, NotLeader
from localbroker.cluster.quorum.raft import Timeouts
from localbroker.cluster.quorum.rpc import METADATA_TOPIC_ID
from localbroker.protocol.names import ApiKey
from localbroker.records.reader import iter_records

TIMEOUTS = Timeouts(election_ms=300, fetch_ms=60_000, election_backoff_max_ms=300)
CLUSTER_ID = "q7mR2kVdSEyZ5x3nYbWt0A"


@dataclass
class Voters:
    directory: Path
    addresses: dict[int, tuple[str, int]]
    timeouts: Timeouts = TIMEOUTS
    running: dict[int, MetadataQuorum] = field(default_factory=dict)
    committed: dict[int, list[CommittedRecord]] = field(default_factory=dict)
    leaders: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    async def start(self, node_id: int) -> MetadataQuorum:
        self.committed[node_id] = []
        leaders = self.leaders.setdefault(node_id, [])
        quorum = MetadataQuorum(
            node_id,
            self.addresses,
            self.directory / f"node-{node_id}",
            CLUSTER_ID,
            on_commit=self.committed[node_id].extend,
            on_leader_change=lambda leader_id, epoch: leaders.append((leader_id, epoch)),
            timeouts=self.timeouts,
        )
        await quorum.start()
        self.running[node_id] = quorum
        return quorum

    async def stop(self, node_id: int) -> None:
        await self.running.pop(node_id).stop()

    def leader(self) -> MetadataQuorum | None:
        leaders = [q for q in self.running.values() if q.is_leader]
        return leaders[0] if len(leaders) == 1 else None

    async def elected(self) -> MetadataQuorum:
        """The one leader every running voter follows in its epoch."""

        def agreed() -> MetadataQuorum | None:
            leader = self.leader()
            if leader is None or leader.high_watermark == 0:
                return None
            if all(
                (q.leader_id, q.epoch) == (leader.node_id, leader.epoch)
                for q in self.running.values()
            ):
                return leader
            return None

        return await wait_until_async(agreed, "one leader that every voter follows")

    def values(self, node_id: int) -> list[bytes]:
        return [record.value for record in self.committed[node_id]]


@pytest.fixture
async def voters(tmp_path: Path) -> AsyncIterator[Voters]:
    group = Voters(tmp_path, {node: ("127.0.0.1", free_port()) for node in range(3)})
    try:
        for node in range(3):
            await group.start(node)
        yield group
    finally:
        for node in list(group.running):
            with contextlib.suppress(Exception):
                await group.stop(node)


async def test_three_voters_elect_one_leader_and_commit_on_all(voters: Voters) -> None:
    leader = await voters.elected()
    last_offset = await leader.append([b"one", b"two"])
    await leader.append([b"three"])
    for node in range(3):
        await wait_until_async(
            lambda node=node: voters.values(node) == [b"one", b"two", b"three"],
            f"node {node} to apply the committed records",
        )
    for node in range(3):
        assert voters.leaders[node][-1] == (leader.node_id, leader.epoch)
    offsets = [record.offset for record in voters.committed[0]]
    assert offsets == sorted(offsets) and offsets[1] == last_offset
    follower = next(q for q in voters.running.values() if not q.is_leader)
    assert follower.log is not None
    end_offset = follower.log.end_offset
    with pytest.raises(NotLeader) as refused:
        await follower.append([b"nope"])
    assert refused.value.leader_id == leader.node_id
    assert follower.log.end_offset == end_offset  # nothing written to a follower's log


async def test_describe_quorum_reports_the_leader_and_every_voter(voters: Voters) -> None:
    leader = await voters.elected()
    await leader.append([b"x"])
    host, port = voters.addresses[leader.node_id]
    client = PeerClient(host, port, client_id="test")
    try:
        topics = [{"topic_name": "__cluster_metadata", "partitions": [{"partition_index": 0}]}]
        response = await client.call(ApiKey.DESCRIBE_QUORUM, 2, {"topics": topics})
    finally:
        await client.close()
    partition = response.topics[0].partitions[0]
    assert (partition.leader_id, partition.leader_epoch) == (leader.node_id, leader.epoch)
    assert [v.replica_id for v in partition.current_voters] == [0, 1, 2]
    assert partition.high_watermark == leader.high_watermark
    assert [n.node_id for n in response.nodes] == [0, 1, 2]
    follower = next(node for node in voters.running if node != leader.node_id)
    client = PeerClient(*voters.addresses[follower], client_id="test")
    try:
        response = await client.call(ApiKey.DESCRIBE_QUORUM, 2, {"topics": topics})
    finally:
        await client.close()
    assert response.topics[0].partitions[0].error_code == ErrorCode.not_leader_or_follower


async def test_describe_cluster_names_the_controllers_and_the_active_one(
    voters: Voters,
) -> None:
    leader = await voters.elected()
    client = PeerClient(*voters.addresses[0], client_id="test")
    try:
        controllers = await client.call(
            ApiKey.DESCRIBE_CLUSTER,
            2,
            {
                "include_cluster_authorized_operations": False,
                "endpoint_type": 2,
                "include_fenced_brokers": False,
            },
        )
        brokers = await client.call(
            ApiKey.DESCRIBE_CLUSTER,
            2,
            {
                "include_cluster_authorized_operations": False,
                "endpoint_type": 1,
                "include_fenced_brokers": False,
            },
        )
    finally:
        await client.close()
    assert (controllers.error_code, controllers.cluster_id) == (ErrorCode.none, CLUSTER_ID)
    assert controllers.controller_id == leader.node_id
    assert [(b.broker_id, b.port) for b in controllers.brokers] == [
        (node, port) for node, (_, port) in sorted(voters.addresses.items())
    ]
    assert brokers.error_code == ErrorCode.mismatched_endpoint_type


async def test_kafkas_metadata_quorum_tool_describes_the_quorum(voters: Voters) -> None:
    """kafka-metadata-quorum --bootstrap-controller (Kafka's admin client: ApiVersions,
    DescribeCluster, DescribeQuorum) reads this quorum as it reads Kafka's."""
    try:
        classpath = kafka_classpath()
    except ReferenceUnavailable as exc:
        unavailable(exc)
    leader = await voters.elected()
    await leader.append([b"x"])
    bootstrap = ",".join(f"{host}:{port}" for host, port in voters.addresses.values())
    command = java(
        classpath,
        "org.apache.kafka.tools.MetadataQuorumCommand",
        "--bootstrap-controller",
        bootstrap,
        "describe",
        "--status",
    )
    tool = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        async with asyncio.timeout(60):
            output, _ = await tool.communicate()
    finally:
        if tool.returncode is None:
            tool.kill()
            await tool.wait()
    status = dict(line.split(":", 1) for line in output.decode().splitlines() if ":" in line)
    assert tool.returncode == 0, output.decode()
    assert status["ClusterId"].strip() == CLUSTER_ID
    assert int(status["LeaderId"]) == leader.node_id
    assert int(status["LeaderEpoch"]) == leader.epoch
    assert int(status["HighWatermark"]) == leader.high_watermark
    assert int(status["MaxFollowerLagTimeMs"]) >= 0


async def observer_fetch(
    leader: MetadataQuorum,
    address: tuple[str, int],
    version: int,
    *,
    fetch_offset: int = 0,
    max_wait: int = 0,
    high_watermark: int | None = None,
) -> Any:
    """One Fetch of the metadata log as an observer (replica id -1) sends it; its partition.
    `high_watermark` is the one the observer says it knows (v18)."""
    partition = {
        "partition": 0,
        "current_leader_epoch": leader.epoch,
        "fetch_offset": fetch_offset,
        "last_fetched_epoch": leader.epoch if fetch_offset else 0,
        "partition_max_bytes": 1 << 20,
    }
    if high_watermark is not None:
        partition["high_watermark"] = high_watermark
    request = {
        "replica_id": -1,
        "max_wait": max_wait,
        "min_bytes": 0,
        "topics": [{"topic_id": METADATA_TOPIC_ID, "partitions": [partition]}],
        "forgotten_topics_data": [],
    }
    client = PeerClient(*address, client_id="test")
    try:
        response = await client.call(ApiKey.FETCH, version, request, timeout_s=90)
    finally:
        await client.close()
    return response.responses[0].partitions[0]


@pytest.mark.parametrize("version", [13, 17, 18])
async def test_an_observer_fetches_the_committed_log(voters: Voters, version: int) -> None:
    """A node that is not a voter (replica id -1 here) reads the log with Fetch, at the
    first version with topic ids and at the last; it does not count towards commits."""
    leader = await voters.elected()
    await leader.append([b"seen"])
    answer = await observer_fetch(leader, voters.addresses[leader.node_id], version)
    assert (answer.error_code, answer.high_watermark) == (ErrorCode.none, leader.high_watermark)
    values = [record.value for record in iter_records(bytes(answer.records))]
    assert b"seen" in values


async def test_a_replica_behind_the_high_watermark_is_answered_at_once(voters: Voters) -> None:
    """Fetch v18 says which high watermark the replica knows (KIP-1166): one that knows an
    older one than the leader gets the new one at once, even with nothing to read, instead of
    after max_wait (a minute here, longer than the wait allowed). Before Kafka 4.1, and here
    before this, nodes learned of a new topic up to 500 ms apart, and clients asking the
    node that knew it last were told it was being created."""
    leader = await voters.elected()
    await leader.append([b"seen"])
    async with asyncio.timeout(20):
        answer = await observer_fetch(
            leader,
            voters.addresses[leader.node_id],
            18,
            fetch_offset=leader.high_watermark,
            max_wait=60_000,
            high_watermark=leader.high_watermark - 1,
        )
    assert (answer.error_code, answer.high_watermark) == (ErrorCode.none, leader.high_watermark)
    assert bytes(answer.records or b"") == b""


async def test_a_stopped_leader_is_replaced_and_committed_records_survive(
    voters: Voters,
) -> None:
    first = await voters.elected()
    await first.append([b"before"])
    await voters.stop(first.node_id)
    second = await voters.elected()
    assert second.node_id != first.node_id and second.epoch > first.epoch
    await second.append([b"after"])
    for node in voters.running:
        await wait_until_async(
            lambda node=node: voters.values(node)[-2:] == [b"before", b"after"],
            f"node {node} to apply both records",
        )


async def test_a_restarted_voter_replays_its_log_and_catches_up(voters: Voters) -> None:
    leader = await voters.elected()
    await leader.append([b"a", b"b"])
    stopped = next(node for node in voters.running if node != leader.node_id)
    await wait_until_async(lambda: voters.values(stopped) == [b"a", b"b"], "the records")
    await voters.stop(stopped)
    await leader.append([b"c"])
    await voters.start(stopped)
    await wait_until_async(
        lambda: voters.values(stopped) == [b"a", b"b", b"c"],
        "the restarted voter to apply its own records and those it missed",
    )


async def test_a_deposed_leaders_uncommitted_entry_is_truncated_away(voters: Voters) -> None:
    old = await voters.elected()
    await old.append([b"committed"])
    others = [node for node in voters.running if node != old.node_id]
    for node in others:
        await voters.stop(node)
    lost = asyncio.create_task(old.append([b"never committed"]))
    await wait_until_async(lambda: old.raft.progress[old.node_id].end_offset > 2, "the flush")
    await voters.stop(old.node_id)
    with pytest.raises(NotLeader):
        await lost
    # With the old leader gone for good, its followers must time out to elect.
    voters.timeouts = Timeouts(election_ms=300, fetch_ms=1000, election_backoff_max_ms=300)
    for node in others:
        await voters.start(node)
    new = await voters.elected()
    await new.append([b"next"])
    await voters.start(old.node_id)
    await wait_until_async(
        lambda: voters.values(old.node_id) == [b"committed", b"next"],
        "the old leader to drop its uncommitted entry and apply the new leader's",
    )


async def test_an_append_cancelled_while_it_flushes_leaves_the_leader_counting(
    voters: Voters,
) -> None:
    """A controller request cancelled while its records flush (its connection closed as a
    broker died) must not freeze the leader's own position in the majority: once a voter
    is down, the leader and the other voter commit a later append. Frozen, the cluster
    fenced no broker and elected no leader after a second leader kill (bench/failover.py)."""
    leader = await voters.elected()
    cancelled = asyncio.create_task(leader.append([b"cancelled"]))
    await asyncio.sleep(0)  # appended: its flush runs in a worker thread
    cancelled.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cancelled
    survivor, stopped = (node for node in sorted(voters.running) if node != leader.node_id)
    await voters.stop(stopped)
    await wait_until_async(
        lambda: voters.values(survivor)[-1:] == [b"cancelled"], "the cancelled append committed"
    )
    later = asyncio.create_task(leader.append([b"later"]))
    try:
        await wait_until_async(later.done, "a later append to commit with a voter down")
    finally:
        later.cancel()
    await wait_until_async(
        lambda: voters.values(survivor)[-2:] == [b"cancelled", b"later"], "both records applied"
    )
