"""The active controller's decisions about brokers and partition leadership (sans-IO).

`ControllerLogic` reads the metadata image and answers BrokerRegistration, BrokerHeartbeat,
AlterPartition and ElectLeaders, fences brokers whose sessions expire (`poll(now_ms)`),
moves leadership back to preferred replicas (`balance_leaders(now_ms)`), and
creates and deletes topics through topic_control. It writes nothing itself: each decision
is the records to append to the metadata log plus the answer to send once they commit, and
only applying the records to the image makes a decision true. The caller applies a
decision's records to the image before asking for the next one (Kafka's controller replays
its records as it writes them for the same reason), so that two decisions never build on
the same old state.

What it follows: ClusterControlManager.registerBroker and checkBrokerEpoch,
BrokerHeartbeatManager.calculateNextBrokerState, ReplicationControlManager's
handleBrokerFenced / handleBrokerUnfenced / alterPartition / electLeaders. Controlled
shutdown is not modelled: a broker that asks to shut down is fenced at once, as Kafka
does for one that leads nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import KafkaError
from ..metadata.store import PRODUCER_ID_BLOCK
from ..protocol.names import ErrorCode
from ..security.listeners import Endpoint
from .elections import ElectionResults, RequestedPartitions
from .image import MetadataImage
from .partition_change import Election
from .partition_control import (
    IsrUpdate,
    PartitionResult,
    alter_partition,
    balance_partition_leaders,
    elect_leaders,
    imbalanced,
    leader_and_isr_updates,
)
from .partitions import NO_LEADER, BrokerRegistration
from .records import (
    BrokerRegistrationChangeRecord,
    FencingChange,
    MetadataRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
)
from .topic_control import (
    NewTopic,
    TopicDefaults,
    TopicResult,
    create_partitions,
    create_topics,
    delete_topics,
)

_R = TypeVar("_R")
MAX_ELECTIONS_PER_IMBALANCE = 1000
"""Kafka's ReplicationControlManager.MAX_ELECTIONS_PER_IMBALANCE."""
BALANCE_AGAIN_MS = 10
"""How soon QuorumController balances again after a round that hit the maximum."""


@dataclass(frozen=True, slots=True)
class ControllerResult(Generic[_R]):
    records: list[MetadataRecord]
    response: _R


@dataclass(frozen=True, slots=True)
class BrokerRegistrationRequest:
    broker_id: int
    cluster_id: str
    incarnation_id: uuid.UUID
    listeners: tuple[Endpoint, ...]
    rack: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerHeartbeatRequest:
    broker_id: int
    broker_epoch: int
    current_metadata_offset: int
    want_fence: bool = False
    want_shut_down: bool = False


@dataclass(frozen=True, slots=True)
class BrokerHeartbeatReply:
    is_caught_up: bool
    is_fenced: bool
    should_shut_down: bool


class ControllerLogic:
    def __init__(
        self,
        image: MetadataImage,
        cluster_id: str,
        now_ms: int,
        session_timeout_ms: int = 9000,
        unclean_leader_election: bool = False,
        topic_defaults: TopicDefaults | None = None,
        rng: random.Random | None = None,
        leader_imbalance_check_interval_ms: int | None = None,
    ) -> None:
        self.image = image
        self.cluster_id = cluster_id
        self.topic_defaults = topic_defaults or TopicDefaults()
        self.session_timeout_ms = session_timeout_ms
        """broker.session.timeout.ms"""
        self.unclean_leader_election = unclean_leader_election
        """The broker's unclean.leader.election.enable, which a topic's own setting overrides."""
        self.rng = rng or random.Random()
        self.leader_imbalance_check_interval_ms = leader_imbalance_check_interval_ms
        """leader.imbalance.check.interval.seconds in ms; None when
        auto.leader.rebalance.enable is false."""
        self._balance_at: int | None = None
        self._balance_more = False
        self._activated_ms = now_ms
        self._last_contact: dict[int, int] = {}
        """Each broker's last heartbeat; one not heard from since this controller became
        active is given a whole session from then, as Kafka's new active controller does."""

    # -- brokers ------------------------------------------------------------------------

    def register_broker(
        self, request: BrokerRegistrationRequest, next_offset: int, now_ms: int
    ) -> ControllerResult[int]:
        """The records registering a broker and its broker epoch.

        `next_offset` is where the quorum will write the first record. As Kafka's
        ClusterControlManager.registerBroker: a broker of another cluster is refused
        (INCONSISTENT_CLUSTER_ID), and so is another process while the registered one has a
        valid session (DUPLICATE_BROKER_REGISTRATION); the same process registering again
        (a retry) amends its registration and keeps its epoch and fencing; a new process
        registers fenced, in the epoch of its RegisterBrokerRecord's offset.

        Where a new process replaces one still unfenced (its session ran out but `poll`
        has not fenced it yet), the old one is fenced first: out of every ISR, its
        partitions led by others. Kafka 4.1 does the like only with eligible leader
        replicas (handleBrokerUncleanShutdown); without them a restarted broker could lead
        records it lost.
        """
        if request.cluster_id != self.cluster_id:
            raise KafkaError(
                ErrorCode.inconsistent_cluster_id,
                f"Expected cluster ID {self.cluster_id}, but got cluster ID {request.cluster_id}",
            )
        existing = self.image.brokers.get(request.broker_id)
        records: list[MetadataRecord] = []
        same_process = existing is not None and (
            self.image.incarnations[request.broker_id] == request.incarnation_id
        )
        if existing is not None and not same_process:
            if self._has_valid_session(request.broker_id, now_ms):
                raise KafkaError(
                    ErrorCode.duplicate_broker_registration,
                    "Another broker is registered with that broker id.",
                )
            if not existing.fenced:
                records.extend(self._fence(request.broker_id))
        if existing is not None and same_process:
            broker_epoch, fenced = existing.broker_epoch, existing.fenced
        else:
            broker_epoch, fenced = next_offset + len(records), True
        records.append(
            RegisterBrokerRecord(
                broker_id=request.broker_id,
                incarnation_id=request.incarnation_id,
                broker_epoch=broker_epoch,
                end_points=request.listeners,
                rack=request.rack,
                fenced=fenced,
            )
        )
        self._last_contact[request.broker_id] = now_ms
        return ControllerResult(records, broker_epoch)

    def heartbeat(
        self, request: BrokerHeartbeatRequest, now_ms: int
    ) -> ControllerResult[BrokerHeartbeatReply]:
        """BrokerHeartbeatManager.calculateNextBrokerState without controlled shutdown.

        A fenced broker is unfenced once its metadata offset reaches its latest
        RegisterBrokerRecord: from then on its image has everything the controller decided
        about it.
        """
        broker = self._check_broker_epoch(request.broker_id, request.broker_epoch)
        self._last_contact[broker.broker_id] = now_ms
        caught_up = (
            request.current_metadata_offset >= self.image.registration_offsets[broker.broker_id]
        )
        records: list[MetadataRecord] = []
        fenced = broker.fenced
        if request.want_shut_down or request.want_fence:
            if not fenced:
                records = self._fence(broker.broker_id)
                fenced = True
        elif fenced and caught_up:
            records = self._unfence(broker.broker_id)
            fenced = False
        return ControllerResult(
            records, BrokerHeartbeatReply(caught_up, fenced, request.want_shut_down)
        )

    def poll(self, now_ms: int) -> ControllerResult[int | None]:
        """Fence the broker whose session expired first; the response is its id.

        One at a time, as Kafka's maybeFenceOneStaleBroker, so that each fencing's new
        leaders are chosen on an image where the previous one is applied: call again
        while `next_deadline()` has passed.
        """
        stale = [
            (self._contact(b.broker_id), b.broker_id)
            for b in self.image.live_brokers()
            if not self._has_valid_session(b.broker_id, now_ms)
        ]
        if not stale:
            return ControllerResult([], None)
        _, broker_id = min(stale)
        return ControllerResult(self._fence(broker_id), broker_id)

    def next_deadline(self) -> int | None:
        """When `poll` next has a session to expire or `balance_leaders` elections to make
        (ms); None with neither."""
        contacts = [self._contact(b.broker_id) for b in self.image.live_brokers()]
        deadlines = [min(contacts) + self.session_timeout_ms + 1] if contacts else []
        if self._balance_at is not None:
            deadlines.append(self._balance_at)
        return min(deadlines, default=None)

    def _contact(self, broker_id: int) -> int:
        return self._last_contact.get(broker_id, self._activated_ms)

    def _has_valid_session(self, broker_id: int, now_ms: int) -> bool:
        """BrokerHeartbeatManager.hasValidSession: a fenced broker has none."""
        return self.image.is_active(broker_id) and (
            now_ms <= self._contact(broker_id) + self.session_timeout_ms
        )

    def _check_broker_epoch(self, broker_id: int, broker_epoch: int) -> BrokerRegistration:
        broker = self.image.brokers.get(broker_id)
        if broker is None:
            raise KafkaError(
                ErrorCode.stale_broker_epoch,
                f"No broker registration found for broker id {broker_id}",
            )
        if broker.broker_epoch != broker_epoch:
            raise KafkaError(
                ErrorCode.stale_broker_epoch,
                f"Expected broker epoch {broker.broker_epoch}, but got broker epoch {broker_epoch}",
            )
        return broker

    def allocate_producer_ids(
        self, broker_id: int, broker_epoch: int
    ) -> ControllerResult[tuple[int, int]]:
        """AllocateProducerIds: the next block of producer ids, as (first id, length)
        (ProducerIdControlManager.generateNextProducerId)."""
        self._check_broker_epoch(broker_id, broker_epoch)
        first = self.image.next_producer_id
        if first > 2**63 - 1 - PRODUCER_ID_BLOCK:
            raise KafkaError(
                ErrorCode.unknown_server_error,
                "Exhausted all producerIds as the next block's end producerId has exceeded "
                "the int64 type limit",
            )
        record = ProducerIdsRecord(broker_id, broker_epoch, first + PRODUCER_ID_BLOCK)
        return ControllerResult([record], (first, PRODUCER_ID_BLOCK))

    # -- fencing ---------------------------------------------------------------------------

    def _fence(self, broker_id: int) -> list[MetadataRecord]:
        """handleBrokerFenced: out of every ISR, new leaders where it led, then the fence."""
        records = leader_and_isr_updates(
            self.image,
            lambda p: broker_id in p.isr,
            lambda r: r != broker_id and self.image.is_active(r),
            self.unclean_leader_election,
            target_isr=lambda p: tuple(r for r in p.isr if r != broker_id),
        )
        epoch = self.image.brokers[broker_id].broker_epoch
        records.append(BrokerRegistrationChangeRecord(broker_id, epoch, FencingChange.FENCE))
        return records

    def _unfence(self, broker_id: int) -> list[MetadataRecord]:
        """handleBrokerUnfenced: the unfence, then leaders for leaderless partitions."""
        epoch = self.image.brokers[broker_id].broker_epoch
        records: list[MetadataRecord] = [
            BrokerRegistrationChangeRecord(broker_id, epoch, FencingChange.UNFENCE)
        ]
        records.extend(
            leader_and_isr_updates(
                self.image,
                lambda p: p.leader == NO_LEADER,
                lambda r: r == broker_id or self.image.is_active(r),
                self.unclean_leader_election,
            )
        )
        return records

    # -- topics ---------------------------------------------------------------------------

    def create_topics(self, topics: Sequence[NewTopic]) -> ControllerResult[list[TopicResult]]:
        records, results = create_topics(self.image, topics, self.topic_defaults, self.rng)
        return ControllerResult(records, results)

    def create_partitions(
        self, topic: str, count: int, assignments: Sequence[tuple[int, ...]] | None = None
    ) -> ControllerResult[None]:
        """Raises KafkaError with Kafka's answer for a topic that cannot grow."""
        return ControllerResult(
            create_partitions(self.image, topic, count, assignments, self.rng), None
        )

    def delete_topics(self, names: Sequence[str]) -> ControllerResult[list[TopicResult]]:
        records, results = delete_topics(self.image, names)
        return ControllerResult(records, results)

    # -- leaders and ISRs ---------------------------------------------------------------

    def alter_partition(
        self, broker_id: int, broker_epoch: int, updates: Sequence[IsrUpdate]
    ) -> ControllerResult[list[PartitionResult]]:
        """AlterPartition: ISR changes proposed by their partitions' leader."""
        self._check_broker_epoch(broker_id, broker_epoch)
        records, results = alter_partition(
            self.image, broker_id, updates, self.unclean_leader_election
        )
        return ControllerResult(records, results)

    def elect_leaders(
        self, election: Election, requested: RequestedPartitions
    ) -> ControllerResult[ElectionResults]:
        """ElectLeaders: the partitions asked for (None: all of them)."""
        records, results = elect_leaders(self.image, election, requested)
        return ControllerResult(records, results)

    def balance_leaders(self, now_ms: int) -> ControllerResult[bool]:
        """auto.leader.rebalance.enable, as QuorumController's
        maybeScheduleNextBalancePartitionLeaders and maybeBalancePartitionLeaders: once the
        image shows a partition not led by its preferred replica, elect the preferred
        replicas leader.imbalance.check.interval.seconds later (a new active controller
        waits a whole interval too), at most MAX_ELECTIONS_PER_IMBALANCE at a time, again
        shortly after when there were more. There is no threshold: Kafka 4 removed
        leader.imbalance.per.broker.percentage with the ZooKeeper controller, the only one
        that read it. The response: whether it elected any (call again once the records
        are applied, to schedule the next round)."""
        interval = self.leader_imbalance_check_interval_ms
        if interval is None:
            return ControllerResult([], False)
        if self._balance_at is None:
            if imbalanced(self.image):
                self._balance_at = now_ms + (BALANCE_AGAIN_MS if self._balance_more else interval)
            return ControllerResult([], False)
        if now_ms < self._balance_at:
            return ControllerResult([], False)
        records = balance_partition_leaders(self.image, MAX_ELECTIONS_PER_IMBALANCE)
        self._balance_at = None
        self._balance_more = len(records) >= MAX_ELECTIONS_PER_IMBALANCE
        return ControllerResult(records, bool(records))
