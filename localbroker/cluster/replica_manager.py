"""`ReplicaManager`: this broker's part in each partition, as the committed metadata says.

Kafka's ReplicaManager.applyDelta: every committed metadata batch comes with the partitions
it changed (`MetadataDelta`), and for each this broker becomes its leader, one of its
followers, or neither:

- leader: its log starts the new leader epoch at the log end offset (`become_leader`, which
  stamps the epoch on every later append) and a `LeaderReplica` keeps the high watermark at
  what the ISR holds; the Fetch and Produce handlers find it with `leader_replica`. A newer
  registration with the same leader (an ISR change, often our own AlterPartition) only
  updates it.
- follower: the leader's fetcher for this broker (`ReplicaFetchers`) pulls the log from the
  leader, truncating first where the logs diverged; waiting acks=all produces of a leader
  that lost leadership fail with NOT_LEADER_OR_FOLLOWER.
- neither (the partition or its topic went): its log is deleted.

The coordinators move with their topics' partitions (`__consumer_offsets`,
`__transaction_state`): a broker that comes to lead one loads its groups or transactional
ids from its replica of the log, and forgets them when it stops leading
(`BrokerState.coordinator_elected` / `coordinator_resigned`, Kafka's onElection and
onResignation); `replicated` makes a coordinator's writes wait for the ISR.

A broker creates the log of a partition when it becomes one of its replicas. A log a
follower has never written is marked replicated at once, so its high watermark is the
leader's from the start, not its own log end offset.

ISR shrinks are checked every `replica.lag.time.max.ms` / 2, as Kafka's isr-expiration task
does; proposals go to `propose` (the node sends them to the controller as AlterPartition and
calls `proposal_failed` if the controller refuses; an accepted one comes back as a committed
PartitionChangeRecord, through `apply`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from ..config.topic import resolve_topic_value
from ..errors import KafkaError
from ..log.partition import PartitionLog
from .image import MetadataDelta, MetadataImage
from .partitions import NO_LEADER, PartitionRegistration
from .peer import PeerClient
from .replication.fetcher import ReplicaFetcher
from .replication.fetchers import ReplicaFetchers
from .replication.leader import NO_BROKER_EPOCH, IsrProposal
from .replication.leading import LeaderReplica, _wall_clock_ms

if TYPE_CHECKING:
    from ..state import BrokerState

log = logging.getLogger(__name__)

Propose = Callable[[uuid.UUID, int, IsrProposal], None]
"""Send an AlterPartition for (topic id, partition) to the active controller."""


class ReplicaManager:
    def __init__(
        self,
        state: BrokerState,
        node_id: int,
        peer_for_broker: Callable[[int], PeerClient],
        propose: Propose,
        now_ms: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        """`peer_for_broker(id)` connects to a broker's inter-broker listener (a new
        PeerClient, closed when its fetcher stops)."""
        self.state = state
        self.node_id = node_id
        self.propose = propose
        self.now_ms = now_ms
        self.leaders: dict[tuple[str, int], LeaderReplica] = {}
        self.fetchers = ReplicaFetchers(self._connect)
        self._peer_for_broker = peer_for_broker
        self._image = MetadataImage()
        self._isr_checks: asyncio.Task[None] | None = None

    @property
    def _lag_max_ms(self) -> int:
        return self.state.config.int_value("replica.lag.time.max.ms")

    # -- what the handlers ask ----------------------------------------------------------

    def leader_replica(self, topic: str, partition: int) -> LeaderReplica | None:
        """The partition's leader replica if this broker leads it."""
        return self.leaders.get((topic, partition))

    async def replicated(self, writes: list[tuple[PartitionLog, int]], timeout_ms: int) -> None:
        """Wait until the ISR holds a coordinator's writes (each log up to an offset), as
        Kafka's coordinators append with acks=all; the error a coordinator answers with
        otherwise (CoordinatorRuntime's normalization): NOT_COORDINATOR once leadership
        moved, COORDINATOR_NOT_AVAILABLE when the ISR is short or slow."""
        errors = await asyncio.gather(
            *(self._acks_all(log_, upto, timeout_ms) for log_, upto in writes)
        )
        error = next((e for e in errors if e != ErrorCode.none), None)
        if error in (ErrorCode.not_leader_or_follower, ErrorCode.kafka_storage_error):
            raise KafkaError(ErrorCode.not_coordinator, "This broker no longer leads the partition")
        if error is not None:
            raise KafkaError(
                ErrorCode.coordinator_not_available, f"The write was not replicated: {error.name}"
            )

    async def _acks_all(self, partition_log: PartitionLog, upto: int, timeout_ms: int) -> ErrorCode:
        leader = self.leader_replica(partition_log.topic, partition_log.partition)
        if leader is None or leader.log is not partition_log:
            return ErrorCode.not_leader_or_follower
        return await leader.acks_all(upto - 1, timeout_ms)

    # -- what the metadata says ---------------------------------------------------------

    def apply(self, delta: MetadataDelta, image: MetadataImage) -> None:
        """Take on the role `image` gives this broker in every partition `delta` changed."""
        self._image = image
        for leader in self.leaders.values():
            leader.state.brokers = image.brokers
        # leaders refuse fetches in an older broker epoch: fetch in the one registered now
        epoch = self._broker_epoch()
        for fetcher in self.fetchers.fetchers.values():
            fetcher.replica_epoch = epoch
        for (topic, partition), change in delta.partitions.items():
            if change.new is None or self.node_id not in change.new.replicas:
                self._stop_replica(topic, partition)
            elif change.new.leader == self.node_id:
                self._lead(topic, partition, change.new)
            else:
                self._follow(topic, partition, change.new)
        if self._isr_checks is None and self.leaders:
            self._isr_checks = asyncio.create_task(self._check_isrs(), name="isr expiration")

    def _lead(self, topic: str, partition: int, registration: PartitionRegistration) -> None:
        current = self.leaders.get((topic, partition))
        if current is not None:  # an ISR change, or a newer epoch of our own leadership
            if registration.leader_epoch != current.leader_epoch:
                current.log.become_leader(registration.leader_epoch)
            current.update(registration)
            return
        self.fetchers.unfollow(topic, partition)
        partition_log = self._log(topic, partition)
        partition_log.become_leader(registration.leader_epoch)
        leader = LeaderReplica(
            self.node_id,
            partition_log,
            registration,
            min_insync_replicas=self._min_insync_replicas(topic),
            replica_lag_time_max_ms=self._lag_max_ms,
            brokers=self._image.brokers,
            propose=lambda proposal: self._propose(topic, partition, proposal),
            now_ms=self.now_ms,
        )
        partition_log.add_listener(leader.appended, appends=True)
        self.leaders[topic, partition] = leader
        self.state.coordinator_elected(topic, partition)
        log.info(
            "%s: leader in epoch %d, ISR %s",
            partition_log.name,
            registration.leader_epoch,
            registration.isr,
        )

    def _follow(self, topic: str, partition: int, registration: PartitionRegistration) -> None:
        self._resign(topic, partition)
        partition_log = self._log(topic, partition)
        if registration.leader == NO_LEADER:
            self.fetchers.unfollow(topic, partition)
            return
        topic_id = self._image.topics[topic].topic_id
        self.fetchers.follow(
            partition_log, topic_id, registration.leader, registration.leader_epoch
        )

    def _stop_replica(self, topic: str, partition: int) -> None:
        """No replica here any more (the topic went, or a reassignment moved it away)."""
        self._resign(topic, partition)
        self.fetchers.unfollow(topic, partition)
        if self.state.logs.get(topic, partition) is not None:
            self.state.logs.delete(topic, [partition], lambda: None)

    def _resign(self, topic: str, partition: int) -> None:
        """Not the leader (perhaps never was: a start-up's coordinator state is dropped too)."""
        leader = self.leaders.pop((topic, partition), None)
        if leader is not None:
            leader.log.remove_listener(leader.appended)
            leader.resign()
        self.state.coordinator_resigned(topic, partition)

    def _log(self, topic: str, partition: int) -> PartitionLog:
        """The partition's log, created empty if this broker has none yet; replicated from
        the start (its high watermark set by replication, not by its own appends)."""
        partition_log = self.state.logs.get(topic, partition)
        if partition_log is None:
            config = self.state.config.log_config(self._image.topic_config(topic))
            self.state.logs.create(topic, [partition], config, self.now_ms(), lambda: None)
            partition_log = self.state.logs.get(topic, partition)
            assert partition_log is not None
        partition_log.set_high_watermark(partition_log.high_watermark)
        return partition_log

    def _min_insync_replicas(self, topic: str) -> int:
        value, _ = resolve_topic_value(
            self.state.config, "min.insync.replicas", self._image.topic_config(topic)
        )
        return int(value or 1)

    # -- ISR changes --------------------------------------------------------------------

    def _propose(self, topic: str, partition: int, proposal: IsrProposal) -> None:
        image = self._image.topics.get(topic)
        if image is None:
            self.proposal_failed(topic, partition)
            return
        self.propose(image.topic_id, partition, proposal)

    def proposal_failed(self, topic: str, partition: int) -> None:
        """The controller refused (or never answered) an AlterPartition: propose anew later."""
        leader = self.leaders.get((topic, partition))
        if leader is not None:
            leader.state.proposal_failed()

    async def _check_isrs(self) -> None:
        while True:
            await asyncio.sleep(self._lag_max_ms / 2000)
            for leader in list(self.leaders.values()):
                leader.check_isr()
            await self.fetchers.shutdown_idle()

    # -- fetchers -----------------------------------------------------------------------

    def _connect(self, leader_id: int) -> ReplicaFetcher:
        config = self.state.config
        return ReplicaFetcher(
            self._peer_for_broker(leader_id),
            replica_id=self.node_id,
            replica_epoch=self._broker_epoch(),
            backoff_ms=config.int_value("replica.fetch.backoff.ms"),
            wait_max_ms=config.int_value("replica.fetch.wait.max.ms"),
            partition_max_bytes=config.int_value("replica.fetch.max.bytes"),
            now_ms=self.now_ms,
        )

    def _broker_epoch(self) -> int:
        own = self._image.brokers.get(self.node_id)
        return NO_BROKER_EPOCH if own is None else own.broker_epoch

    async def stop(self) -> None:
        """Stop fetching and checking; waiting acks=all produces fail."""
        task, self._isr_checks = self._isr_checks, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for topic, partition in list(self.leaders):
            self._resign(topic, partition)
        await self.fetchers.close()
