"""Data replication between running brokers: leaders, followers, the ISR and acks=all.

Three LocalBrokers (nodes 0, 1, 2) run in one event loop on free ports and answer from one
MetadataImage built from real metadata records; each has a ReplicaManager applied with the
same deltas, as a cluster node applies every committed metadata batch. The leader's
AlterPartition proposals go through the real controller logic (ControllerLogic.alter_partition)
and the records it decides are applied to the image and every node, as the quorum would
commit them. Real clients produce and consume: confluent-kafka and the raw wire client.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from confluent_kafka import Producer
from kio.schema.errors import ErrorCode
from waiting import wait_until
from wire import RawClient

from localbroker import LocalBroker
from localbroker.cluster.controller import ControllerLogic
from localbroker.cluster.image import MetadataDelta, MetadataImage, PartitionChange
from localbroker.cluster.partition_control import IsrUpdate
from localbroker.cluster.partitions import PartitionRegistration
from localbroker.cluster.peer import PeerClient
from localbroker.cluster.records import (
    ConfigRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
)
from localbroker.cluster.replica_manager import ReplicaManager
from localbroker.cluster.replication.leader import IsrProposal
from localbroker.log.partition import PartitionLog
from localbroker.metadata.store import TopicRecord as StoredTopic
from localbroker.protocol.names import ApiKey, ConfigResourceType
from localbroker.records.builder import NewRecord, build_batch

T = TypeVar("T")
TOPIC = "replicated"
NODES = (0, 1, 2)
TIMEOUT = 30.0
SHORT_LAG_MAX_MS = 1_500
"""replica.lag.time.max.ms for tests where a stopped follower is to leave the ISR soon; the
others keep Kafka's 30 s, so that none leaves it meanwhile."""
NODE_CONFIG = {"replica.fetch.wait.max.ms": "200", "replica.fetch.backoff.ms": "100"}


class Nodes:
    """The three brokers, their shared image and the controller deciding ISR changes, all on
    one event loop in a thread; the test calls into it with `call` and `run`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.brokers: dict[int, LocalBroker] = {}
        self.image = MetadataImage()
        self.controller = ControllerLogic(self.image, "cluster", now_ms=0)
        self.topic_id = uuid.uuid4()
        self.refused: list[ErrorCode] = []

    def call(self, function: Callable[[], T]) -> T:
        future: Future[T] = Future()

        def invoke() -> None:
            try:
                future.set_result(function())
            except BaseException as exc:
                future.set_exception(exc)

        self.loop.call_soon_threadsafe(invoke)
        return future.result(TIMEOUT)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    # -- on the loop --------------------------------------------------------------------

    async def start(self, min_insync_replicas: int, lag_max_ms: int) -> None:
        for node in NODES:
            broker = LocalBroker(
                self.data_dir / f"node-{node}",
                host="127.0.0.1",
                port=0,
                node_id=node,
                config={**NODE_CONFIG, "replica.lag.time.max.ms": str(lag_max_ms)},
            )
            self.brokers[node] = await broker.start()
        records: list[MetadataRecord] = [
            RegisterBrokerRecord(
                node,
                uuid.uuid4(),
                node,
                tuple(self.state(node).advertised.values()),
                None,
                fenced=False,
            )
            for node in NODES
        ]
        records += [
            TopicRecord(TOPIC, self.topic_id),
            ConfigRecord(
                ConfigResourceType.TOPIC, TOPIC, "min.insync.replicas", str(min_insync_replicas)
            ),
            PartitionRecord(0, self.topic_id, NODES, NODES, 0, 0, 0),
        ]
        for node in NODES:
            state = self.state(node)
            state.store.add_topic(StoredTopic(TOPIC, self.topic_id, 1))
            state.cluster = self.image
            state.replicas = self._replica_manager(node)
        self.commit(records)

    def _replica_manager(self, node: int) -> ReplicaManager:
        return ReplicaManager(
            self.state(node),
            node,
            self._peer_for,
            lambda *proposal: self._alter(node, *proposal),
        )

    def replicate_again(self, node: int) -> None:
        """On the loop: a new replica manager for `node`, given the partition as it is now
        (as a restarted broker replays the metadata log)."""
        state = self.state(node)
        state.replicas = self._replica_manager(node)
        change = PartitionChange(TOPIC, 0, None, self.image.partition(TOPIC, 0))
        state.replicas.apply(MetadataDelta(partitions={(TOPIC, 0): change}), self.image)

    def state(self, node: int) -> Any:
        state = self.brokers[node].state
        assert state is not None
        return state

    def _peer_for(self, broker_id: int) -> PeerClient:
        endpoint = self.image.brokers[broker_id].endpoints[0]
        return PeerClient(endpoint.host, endpoint.port, client_id=f"replica-{broker_id}")

    def commit(self, records: list[MetadataRecord]) -> None:
        """Apply records to the image and every node, as a committed metadata batch."""
        delta = self.image.apply(self.image.last_offset + 1, records)
        self.apply(delta)

    def apply(self, delta: MetadataDelta) -> None:
        for node in NODES:
            replicas = self.state(node).replicas
            if replicas is not None:
                replicas.apply(delta, self.image)

    def _alter(self, node: int, topic_id: uuid.UUID, partition: int, proposal: IsrProposal) -> None:
        """The controller's answer to a leader's AlterPartition, once the records commit
        (later on the loop, as the answer comes back over the network)."""

        def decide() -> None:
            broker_epoch = self.image.brokers[node].broker_epoch
            update = IsrUpdate(
                topic_id, partition, proposal.leader_epoch, proposal.partition_epoch, proposal.isr
            )
            result = self.controller.alter_partition(node, broker_epoch, [update])
            if result.response[0].error != ErrorCode.none:
                self.refused.append(result.response[0].error)
                replicas = self.state(node).replicas
                assert replicas is not None
                replicas.proposal_failed(TOPIC, partition)
            self.commit(result.records)

        self.loop.call_soon(decide)

    async def stop(self) -> None:
        for broker in self.brokers.values():
            state = broker.state
            if state is not None and state.replicas is not None:
                await state.replicas.stop()
        for broker in self.brokers.values():
            await broker.stop()

    # -- from the test ------------------------------------------------------------------

    def log(self, node: int) -> PartitionLog:
        """On the loop: the partition's log on `node`."""
        partition_log = self.state(node).logs.get(TOPIC, 0)
        assert partition_log is not None
        return partition_log

    def registration(self) -> PartitionRegistration:
        return self.call(lambda: self.image.partition(TOPIC, 0))

    def bootstrap(self, node: int) -> str:
        return self.brokers[node].bootstrap

    def stored(self, node: int) -> list[bytes]:
        return self.call(lambda: list(self.log(node).stored_batches()))

    def ends(self) -> dict[int, int]:
        return self.call(lambda: {n: self.log(n).log_end_offset for n in NODES})

    def stop_replicating(self, node: int) -> None:
        """`node` stops fetching, and applies no metadata, until `replicate_again`."""

        async def stop() -> None:
            state = self.state(node)
            replicas, state.replicas = state.replicas, None
            await replicas.stop()

        self.run(stop())


@pytest.fixture
def nodes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Nodes]:
    """The three nodes; a test may set (min.insync.replicas, replica.lag.time.max.ms) by
    parametrizing this fixture indirectly."""
    min_insync_replicas, lag_max_ms = getattr(request, "param", (1, 30_000))
    cluster = Nodes(tmp_path)
    cluster.thread.start()
    try:
        cluster.run(cluster.start(min_insync_replicas, lag_max_ms))
        yield cluster
    finally:
        try:
            cluster.run(cluster.stop())
        finally:
            cluster.loop.call_soon_threadsafe(cluster.loop.stop)
            cluster.thread.join(TIMEOUT)


def produce_raw(bootstrap: str, acks: int, value: bytes = b"v", timeout_ms: int = 10_000) -> Any:
    batch = build_batch([NewRecord(value)], now_ms=0)
    with RawClient(bootstrap) as client:
        answer = client.call(
            ApiKey.PRODUCE,
            9,
            {
                "acks": acks,
                "timeout": timeout_ms,
                "topic_data": [{"name": TOPIC, "partition_data": [{"index": 0, "records": batch}]}],
            },
        )
    return answer.responses[0].partition_responses[0]


def fetch_partition_0(bootstrap: str, version: int, topic: Any, partition: Any, **head: Any) -> Any:
    """One Fetch of partition 0 that does not wait; its answer for the partition."""
    with RawClient(bootstrap) as client:
        answer = client.call(
            ApiKey.FETCH,
            version,
            {
                "max_wait": 0,
                "max_bytes": 1 << 20,
                "isolation_level": 0,
                "session_id": 0,
                "session_epoch": -1,
                "forgotten_topics_data": [],
                "rack_id": "",
                **head,
                "topics": [
                    {
                        **topic,
                        "partitions": [
                            {"partition": 0, "partition_max_bytes": 1 << 20, **partition}
                        ],
                    }
                ],
            },
        )
    return answer.responses[0].partitions[0]


def consumer_high_watermark(bootstrap: str) -> int:
    """The high watermark a consumer's Fetch is told (what it may read up to)."""
    answer = fetch_partition_0(
        bootstrap,
        12,
        {"topic": TOPIC},
        {
            "current_leader_epoch": -1,
            "fetch_offset": 0,
            "last_fetched_epoch": -1,
            "log_start_offset": -1,
        },
        replica_id=-1,
        min_bytes=0,
    )
    return int(answer.high_watermark)


def produce_acks_all(bootstrap: str, count: int) -> list[Any]:
    """`count` records with confluent-kafka, acks=all; each one's delivery error (or None)."""
    errors: list[Any] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})
    for i in range(count):
        producer.produce(TOPIC, f"value-{i}".encode(), on_delivery=lambda e, _: errors.append(e))
    assert producer.flush(TIMEOUT) == 0
    return errors


def test_followers_hold_byte_identical_logs_and_acks_all_waits_for_them(nodes: Nodes) -> None:
    errors = produce_acks_all(nodes.bootstrap(0), 50)
    assert errors == [None] * 50
    # acknowledged with acks=all: every ISR member holds them already
    ends = nodes.ends()
    assert ends[1] >= 50 and ends[2] >= 50, ends
    assert nodes.registration().isr == NODES
    wait_until(lambda: len(set(nodes.ends().values())) == 1, "every replica at one end")
    assert nodes.stored(1) == nodes.stored(0) == nodes.stored(2)
    assert consumer_high_watermark(nodes.bootstrap(0)) == ends[0]
    wait_until(
        lambda: nodes.call(lambda: nodes.log(1).high_watermark) == ends[0],
        "the follower learning the leader's high watermark",
    )


def test_the_high_watermark_waits_for_every_in_sync_replica(nodes: Nodes) -> None:
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    nodes.stop_replicating(2)
    # acks=all waits for node 2 too, until the produce's timeout: written, not acknowledged
    answer = produce_raw(nodes.bootstrap(0), acks=-1, timeout_ms=500)
    assert (answer.error_code, answer.base_offset) == (ErrorCode.request_timed_out, 1)
    wait_until(lambda: nodes.ends()[1] == 2, "follower 1 fetching the second record")
    # node 2, in the ISR, lacks it: consumers do not see it
    assert nodes.registration().isr == NODES
    assert consumer_high_watermark(nodes.bootstrap(0)) == 1
    nodes.call(lambda: nodes.replicate_again(2))
    wait_until(lambda: consumer_high_watermark(nodes.bootstrap(0)) == 2, "the HW moving on")


@pytest.mark.parametrize("nodes", [(2, SHORT_LAG_MAX_MS)], indirect=True)
def test_acks_all_is_refused_while_the_isr_is_smaller_than_min_insync_replicas(
    nodes: Nodes,
) -> None:
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    nodes.stop_replicating(1)
    nodes.stop_replicating(2)
    # behind the leader's log end for replica.lag.time.max.ms (a follower that stops at the
    # log end stays in sync while nothing is written, as in Kafka), both are dropped, and
    # the controller agrees
    assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
    wait_until(lambda: nodes.registration().isr == (0,), "the ISR shrinking to the leader")
    refused = produce_raw(nodes.bootstrap(0), acks=-1)
    assert refused.error_code == ErrorCode.not_enough_replicas
    assert nodes.ends()[0] == 2  # refused before the append
    # a follower catching up rejoins, and acks=all is taken again
    nodes.call(lambda: nodes.replicate_again(1))
    wait_until(lambda: nodes.registration().isr == (0, 1), "follower 1 rejoining the ISR")
    assert produce_raw(nodes.bootstrap(0), acks=-1).error_code == ErrorCode.none
    assert nodes.refused == []


def test_a_new_leader_truncates_the_old_leaders_unacknowledged_tail(nodes: Nodes) -> None:
    errors = produce_acks_all(nodes.bootstrap(0), 10)
    assert errors == [None] * 10
    acknowledged = nodes.stored(0)
    nodes.stop_replicating(1)
    nodes.stop_replicating(2)
    # written on the leader only: never acknowledged to an acks=all producer
    for _ in range(3):
        assert produce_raw(nodes.bootstrap(0), acks=1).error_code == ErrorCode.none
    assert nodes.ends()[0] == 13

    # the controller moves leadership to node 1 (node 0 lost, say): a new leader epoch,
    # which nodes 1 and 2 take on as they come back
    def elect_node_1() -> None:
        nodes.commit([PartitionChangeRecord(0, nodes.topic_id, isr=(1, 2), leader=1)])
        nodes.replicate_again(1)
        nodes.replicate_again(2)

    nodes.call(elect_node_1)
    assert nodes.registration().leader_epoch == 1
    wait_until(lambda: nodes.ends() == {0: 10, 1: 10, 2: 10}, "node 0's tail truncated")
    assert nodes.stored(0) == nodes.stored(1) == acknowledged
    # the new leader takes writes in epoch 1, and both followers replicate them
    assert produce_raw(nodes.bootstrap(1), acks=-1).error_code == ErrorCode.none
    wait_until(lambda: set(nodes.ends().values()) == {11}, "epoch 1's record everywhere")
    assert nodes.stored(0) == nodes.stored(1) == nodes.stored(2)
    epochs = nodes.call(lambda: nodes.log(0).epochs.latest())
    assert epochs == (1, 10)
    # a follower still holding epoch 0's old tail is told where epoch 0 ended, and no records
    diverged = replica_fetch(nodes, 1, replica_id=2, fetch_offset=13, last_fetched_epoch=0)
    assert diverged.error_code == ErrorCode.none
    assert (diverged.diverging_epoch.epoch, diverged.diverging_epoch.end_offset) == (0, 10)
    assert diverged.records in (None, b"")


def test_produces_waiting_on_a_leader_that_moves_fail_and_a_removed_topic_goes(
    nodes: Nodes,
) -> None:
    nodes.stop_replicating(2)
    with ThreadPoolExecutor(1) as background:
        waiting = background.submit(produce_raw, nodes.bootstrap(0), -1, b"v", 10_000)
        wait_until(lambda: nodes.ends()[0] == 1, "the acks=all record written on the leader")
        nodes.call(lambda: nodes.commit([PartitionChangeRecord(0, nodes.topic_id, leader=1)]))
        answer = waiting.result(TIMEOUT)
    assert answer.error_code == ErrorCode.not_leader_or_follower
    directories = [nodes.call(lambda n=n: nodes.log(n).directory) for n in NODES]

    def remove_topic() -> None:
        nodes.replicate_again(2)
        nodes.commit([RemoveTopicRecord(nodes.topic_id)])

    nodes.call(remove_topic)
    assert nodes.call(lambda: [nodes.state(n).logs.get(TOPIC, 0) for n in NODES]) == [None] * 3
    assert not any(directory.exists() for directory in directories)


def replica_fetch(
    nodes: Nodes, leader: int, *, replica_id: int, fetch_offset: int, last_fetched_epoch: int
) -> Any:
    """A replica's Fetch v15, as a follower's fetcher sends it, without waiting."""
    return fetch_partition_0(
        nodes.bootstrap(leader),
        15,
        {"topic_id": nodes.topic_id},
        {
            "current_leader_epoch": 1,
            "fetch_offset": fetch_offset,
            "last_fetched_epoch": last_fetched_epoch,
            "log_start_offset": 0,
        },
        replica_state={"replica_id": replica_id, "replica_epoch": replica_id},
        min_bytes=1,
    )
