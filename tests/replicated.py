"""Three replicating LocalBrokers in one process, for tests of data replication.

Nodes 0, 1 and 2 run in one event loop (in a thread) on free ports and answer from one
MetadataImage built from real metadata records; each has a ReplicaManager applied with the
same deltas, as a cluster node applies every committed metadata batch. A leader's
AlterPartition proposals go through the real controller logic (ControllerLogic.alter_partition)
and the records it decides are applied to the image and every node, as the quorum would
commit them. Raw requests for what the tests ask the brokers directly are here too.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from kio.schema.errors import ErrorCode
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
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from localbroker.cluster.replica_manager import ReplicaManager
from localbroker.cluster.replication.leader import IsrProposal
from localbroker.log.partition import PartitionLog
from localbroker.metadata.store import TopicRecord as StoredTopic
from localbroker.protocol.names import ApiKey, ConfigResourceType
from localbroker.records.builder import NewRecord, build_batch
from tui.embedded import call_on_loop

T = TypeVar("T")
TOPIC = "replicated"
NODES = (0, 1, 2)
TIMEOUT = 30.0
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
        return call_on_loop(self.loop, function, TIMEOUT)

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
    """One Fetch of partition 0 (not waiting unless `head` sets max_wait); its answer for
    the partition."""
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


def delete_records_before(bootstrap: str, offset: int) -> None:
    with RawClient(bootstrap) as client:
        deleted = client.call(
            ApiKey.DELETE_RECORDS,
            2,
            {
                "topics": [
                    {"name": TOPIC, "partitions": [{"partition_index": 0, "offset": offset}]}
                ],
                "timeout": 5000,
            },
        )
    assert deleted.topics[0].partitions[0].error_code == ErrorCode.none


def replica_fetch(
    nodes: Nodes,
    leader: int,
    *,
    replica_id: int,
    fetch_offset: int,
    last_fetched_epoch: int,
    current_leader_epoch: int = 1,
    max_wait: int = 0,
) -> Any:
    """A replica's Fetch v15, as a follower's fetcher sends it."""
    return fetch_partition_0(
        nodes.bootstrap(leader),
        15,
        {"topic_id": nodes.topic_id},
        {
            "current_leader_epoch": current_leader_epoch,
            "fetch_offset": fetch_offset,
            "last_fetched_epoch": last_fetched_epoch,
            "log_start_offset": 0,
        },
        replica_state={"replica_id": replica_id, "replica_epoch": replica_id},
        min_bytes=1,
        max_wait=max_wait,
    )
