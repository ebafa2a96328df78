"""`ClusterNode`: a localbroker running as one node of a KRaft cluster (combined mode).

A node with `process.roles=broker,controller` and more than one voter in
`controller.quorum.voters` runs this beside its broker. With a single voter (Kafka's shipped
single-node server.properties) it stays the single broker localbroker always was: a
one-node cluster would answer every client exactly the same, so the quorum would only add
a metadata log and start-up time. Broker-only and controller-only nodes are not run in
cluster mode yet.

What runs here:
- the `MetadataQuorum`, serving the quorum's APIs on this node's CONTROLLER listener;
- the `ActiveController` on whichever node leads the quorum, serving the controller's APIs
  on the same listener (NOT_CONTROLLER elsewhere) and fencing expired brokers on a timer;
- the broker's `BrokerLifecycle`: registration and heartbeats to the active controller,
  and a `ControllerChannel` forwarding topic changes and partition reassignments to it
  (forwarding.py); producer ids
  come from it in blocks (producer_ids.py);
- on every committed batch: the records applied to the `MetadataImage`, the node's own
  topics kept in step with it (local_topics.py), and the `ReplicaManager` told what
  changed (leaders' ISR proposals go back to the controller as AlterPartition,
  isr_proposals.py). The image is the broker's `ClusterView`: Metadata, Produce and Fetch
  answer from it.

The metadata log lives in the node's data directory as `__cluster_metadata-0`, as in Kafka
(metadata.log.dir defaults to the first log directory); its records are localbroker's own
JSON encoding (records.py), read by localbroker nodes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import KafkaError
from ..protocol.names import TRANSACTION_STATE_TOPIC
from ..security.listeners import Endpoint
from .active_controller import ActiveController, ControllerSettings
from .broker_channels import BrokerChannels
from .controller_configs import ControllerConfigs
from .controller_reassignments import ControllerReassignments
from .controller_rpc import ControllerRpc
from .controller_topics import ControllerTopics
from .forwarding import ControllerChannel, ImageWatch
from .image import MetadataDelta, MetadataImage
from .isr_proposals import send_proposal
from .lifecycle import BrokerLifecycle
from .local_topics import follow_image
from .partitions import PartitionRegistration
from .peer import PeerClient
from .producer_ids import ProducerIdBlocks
from .quorum.metadata_log import CommittedRecord
from .quorum.quorum import MetadataQuorum
from .quorum.raft import Timeouts
from .records import decode
from .replica_manager import ReplicaManager
from .replication.leader import IsrProposal
from .topic_control import TopicDefaults
from .txn_markers import TransactionMarkerChannel
from .txn_verification import TransactionVerifier

if TYPE_CHECKING:
    from ..config.kraft import KRaftConfig
    from ..state import BrokerState

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 2.0
"""How long a stopping node waits for the controller to fence it (controlled shutdown)."""


def runs_cluster_mode(kraft: KRaftConfig | None) -> bool:
    """Whether a node with these KRaft settings runs a ClusterNode (the module docstring)."""
    return kraft is not None and kraft.is_broker and kraft.is_controller and len(kraft.voters) > 1


class ClusterNode:
    def __init__(self, state: BrokerState, kraft: KRaftConfig) -> None:
        self.state = state
        self.kraft = kraft
        self.node_id = kraft.node_id
        self.image = MetadataImage()
        self.replica_manager: ReplicaManager | None = None
        """Told every committed batch's delta (the ReplicaManager, from start())."""
        voters = {voter.node_id: (voter.host, voter.port) for voter in kraft.voters}
        cluster_id = state.store.cluster_id
        self.quorum = MetadataQuorum(
            self.node_id,
            voters,
            state.data_dir,
            cluster_id,
            on_commit=self._committed,
            on_leader_change=self._leader_changed,
            timeouts=Timeouts(
                kraft.election_timeout_ms, kraft.fetch_timeout_ms, kraft.election_backoff_max_ms
            ),
        )
        config = state.config
        self.controller = ActiveController(
            self.quorum,
            self.image,
            cluster_id,
            ControllerSettings(
                session_timeout_ms=kraft.broker_session_timeout_ms,
                unclean_leader_election=config.value("unclean.leader.election.enable") == "true",
                topic_defaults=TopicDefaults(
                    config.num_partitions, config.default_replication_factor
                ),
                leader_imbalance_check_interval_ms=(
                    config.int_value("leader.imbalance.check.interval.seconds") * 1000
                    if config.bool_value("auto.leader.rebalance.enable")
                    else None
                ),
            ),
        )
        self.lifecycle = BrokerLifecycle(
            self.node_id,
            cluster_id,
            voters,
            lambda: self.quorum.leader_id,
            lambda: self.image.last_offset,
            self._broker_listeners,
            kraft.broker_heartbeat_interval_ms,
        )
        self._caught_up_at = 0
        self._caught_up = False
        self._pending = MetadataDelta()
        """Changes not yet handed to the replica manager (all of them until caught up)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._proposals: set[asyncio.Task[None]] = set()
        self.watch = ImageWatch()
        self.channels: BrokerChannels | None = None
        """Connections to the other brokers for transactions (from start())."""

    def _broker_listeners(self) -> Sequence[Endpoint]:
        names = set(self.kraft.controller_listener_names)
        return [e for e in self.state.advertised.values() if e.name not in names]

    def _replica_manager(self) -> ReplicaManager:
        """cl-leader's ReplicaManager, fetching from leaders on their inter-broker listener
        and proposing ISR changes to the active controller."""
        listener = self.kraft.inter_broker_listener_name

        def peer_for_broker(broker_id: int) -> PeerClient:
            broker = self.image.brokers[broker_id]
            endpoint = next(e for e in broker.endpoints if e.name == listener)
            return PeerClient(
                endpoint.host, endpoint.port, client_id=f"replica-fetcher-{self.node_id}"
            )

        def propose(topic_id: uuid.UUID, partition: int, proposal: IsrProposal) -> None:
            topic = self.image.topics_by_id.get(topic_id)

            def failed() -> None:
                if topic is not None:
                    manager.proposal_failed(topic.name, partition)

            self._spawn(
                send_proposal(self.lifecycle, self.image, topic_id, partition, proposal, failed)
            )

        manager = ReplicaManager(self.state, self.node_id, peer_for_broker, propose)
        return manager

    async def _allocate_producer_ids(self) -> tuple[int, int]:
        await self.lifecycle.registered.wait()
        return await self.lifecycle.allocate_producer_ids()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._proposals.add(task)
        task.add_done_callback(self._proposals.discard)

    async def start(self) -> None:
        """Join the quorum and start registering; the broker's requests wait until its image
        shows it unfenced (`_serve_once_unfenced`)."""
        self.state.cluster = self.image
        self.replica_manager = self.state.replicas = self._replica_manager()
        self.state.producer_id_blocks = ProducerIdBlocks(self._allocate_producer_ids)
        self.state.controller_channel = ControllerChannel(self.lifecycle, self.watch)
        self._transactions_across_brokers()
        ControllerRpc(self.controller).register(self.quorum.listener)
        ControllerTopics(self.controller, self._check_topic).register(self.quorum.listener)
        ControllerConfigs(
            self.controller, self.state.validate_topic_configs, self.state.config.validate_dynamic
        ).register(self.quorum.listener)
        ControllerReassignments(self.controller).register(self.quorum.listener)
        await self.quorum.start()
        assert self.quorum.log is not None
        self._caught_up_at = self.quorum.log.end_offset
        self._tasks = [
            asyncio.create_task(self.controller.run()),
            asyncio.create_task(self.lifecycle.run()),
        ]

    def _transactions_across_brokers(self) -> None:
        """The transaction coordinator's markers to partition leaders, and leaders' questions
        to transaction coordinators, over the inter-broker listener."""
        state, image = self.state, self.image

        def leader_of(topic: str, partition: int) -> int | None:
            registration = image.partition(topic, partition)
            return None if registration is None else registration.leader

        def coordinator_partition(transactional_id: str) -> PartitionRegistration | None:
            if TRANSACTION_STATE_TOPIC not in image.topics:
                return None
            partition = state.transaction_log.topic.partition_of(transactional_id)
            return image.partition(TRANSACTION_STATE_TOPIC, partition)

        def coordinator_epoch_of(transactional_id: str) -> int | None:
            registration = coordinator_partition(transactional_id)
            if registration is None or registration.leader != self.node_id:
                return None
            return registration.leader_epoch

        def coordinator_of(transactional_id: str) -> int:
            registration = coordinator_partition(transactional_id)
            return self.node_id if registration is None else registration.leader

        self.channels = BrokerChannels(
            self.node_id, lambda: image, self.kraft.inter_broker_listener_name
        )
        state.transaction_markers = TransactionMarkerChannel(
            self.channels, leader_of, coordinator_epoch_of
        )
        state.transaction_verifier = TransactionVerifier(
            self.node_id, self.channels, coordinator_of
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.lifecycle.shut_down(SHUTDOWN_TIMEOUT_S)
        if self.state.controller_channel is not None:
            await self.state.controller_channel.close()
        if self.state.producer_id_blocks is not None:
            await self.state.producer_id_blocks.close()
        for proposal in list(self._proposals):
            proposal.cancel()
        if self.state.replicas is not None:
            await self.state.replicas.stop()
            self.state.replicas = None
        self.state.transaction_markers = self.state.transaction_verifier = None
        if self.channels is not None:
            await self.channels.close()
        await self.quorum.stop()

    def _check_topic(self, name: str, configs: Any) -> dict[str, str]:
        from ..state import validate_topic_name

        validate_topic_name(name)
        return self.state.validate_topic_configs(configs, {})

    # -- the quorum's callbacks --------------------------------------------------------------

    def _leader_changed(self, leader_id: int, epoch: int) -> None:
        self.image.controller_id = leader_id
        self.controller.leader_changed(leader_id, epoch)
        log.info("node %d: controller %d in epoch %d", self.node_id, leader_id, epoch)

    def _committed(self, records: list[CommittedRecord]) -> None:
        delta = self._pending
        for record in records:
            _merge(delta, self.image.apply(record.offset, [decode(record.value)]))
        if not self._caught_up:
            # Everything the log held at start-up must be in the image before the node's
            # topics follow it: a half-replayed image would delete topics it has not seen.
            self._caught_up = self.quorum.high_watermark >= self._caught_up_at
            if not self._caught_up:
                return
        self._pending = MetadataDelta()
        try:
            follow_image(self.state, self.image)
        except KafkaError as exc:  # the log directory is offline: the node cannot host them
            log.error("node %d cannot follow the metadata: %s", self.node_id, exc)
        if self.replica_manager is not None:
            self.replica_manager.apply(delta, self.image)
        self._serve_once_unfenced()
        self.watch.moved()

    def _serve_once_unfenced(self) -> None:
        """Let the broker answer requests (`state.serving`) once this node's own image shows
        this incarnation registered and unfenced, as Kafka's broker enables request
        processing once unfenced. The image, not the heartbeat's answer: that can say
        unfenced before the record reaches this node, whose Metadata would then leave this
        broker out (CI, 2026-12-07: brokers {0, 1} from node 2)."""
        serving = self.state.serving
        if serving is None or serving.is_set():
            return
        current = self.image.incarnations.get(self.node_id) == self.lifecycle.incarnation_id
        if current and self.image.is_active(self.node_id):
            serving.set()


def _merge(into: MetadataDelta, delta: MetadataDelta) -> None:
    for change in delta.partitions.values():
        into.note(change.topic, change.partition, change.old, change.new)
    into.created_topics.extend(delta.created_topics)
    into.removed_topics.extend(delta.removed_topics)
