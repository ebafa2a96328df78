"""The active controller's decisions about brokers and partition leadership (sans-IO).

`ControllerLogic` reads the metadata image and answers BrokerRegistration, BrokerHeartbeat,
AlterPartition and ElectLeaders, fences brokers whose sessions expire (`poll(now_ms)`), and
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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import KafkaError
from ..protocol.names import ErrorCode
from ..security.listeners import Endpoint
from .image import MetadataImage
from .partition_change import Election, build_change, merge
from .partitions import NO_LEADER, BrokerRegistration, PartitionRegistration
from .records import (
    BrokerRegistrationChangeRecord,
    FencingChange,
    MetadataRecord,
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


@dataclass(frozen=True, slots=True)
class ControllerResult(Generic[_R]):
    records: list[MetadataRecord]
    response: _R


@dataclass(frozen=True, slots=True)
class BrokerRegistrationRequest:
    broker_id: int
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


@dataclass(frozen=True, slots=True)
class IsrUpdate:
    """One partition of an AlterPartition request, from its leader."""

    topic_id: uuid.UUID
    partition: int
    leader_epoch: int
    partition_epoch: int
    new_isr: tuple[int, ...]
    broker_epochs: tuple[int, ...] = ()
    """Each new ISR member's broker epoch (AlterPartition v3+), -1 or none for unknown."""


@dataclass(frozen=True, slots=True)
class PartitionResult:
    topic_id: uuid.UUID
    partition: int
    error: ErrorCode = ErrorCode.none
    registration: PartitionRegistration | None = None
    """The registration once the records commit (None on error)."""


class ControllerLogic:
    def __init__(
        self,
        image: MetadataImage,
        now_ms: int,
        session_timeout_ms: int = 9000,
        unclean_leader_election: bool = False,
        topic_defaults: TopicDefaults | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.image = image
        self.topic_defaults = topic_defaults or TopicDefaults()
        self.session_timeout_ms = session_timeout_ms
        """broker.session.timeout.ms"""
        self.unclean_leader_election = unclean_leader_election
        """The broker's unclean.leader.election.enable, which a topic's own setting overrides."""
        self.rng = rng or random.Random()
        self._activated_ms = now_ms
        self._last_contact: dict[int, int] = {}
        """Each broker's last heartbeat; one not heard from since this controller became
        active is given a whole session from then, as Kafka's new active controller does."""

    # -- brokers ------------------------------------------------------------------------

    def register_broker(
        self, request: BrokerRegistrationRequest, next_offset: int, now_ms: int
    ) -> ControllerResult[int]:
        """The records registering a broker (fenced) and its broker epoch.

        `next_offset` is where the quorum will write the first record; the broker epoch
        is the offset of the RegisterBrokerRecord. A registration from another process
        while the registered one still heartbeats is refused; a new registration of a
        broker that was unfenced fences its old incarnation first.
        """
        existing = self.image.brokers.get(request.broker_id)
        records: list[MetadataRecord] = []
        if existing is not None:
            same_process = self.image.incarnations[request.broker_id] == request.incarnation_id
            if self._has_valid_session(request.broker_id, now_ms) and not same_process:
                raise KafkaError(
                    ErrorCode.duplicate_broker_registration,
                    "Another broker is registered with that broker id.",
                )
            if not existing.fenced:
                records.extend(self._fence(request.broker_id))
        broker_epoch = next_offset + len(records)
        records.append(
            RegisterBrokerRecord(
                broker_id=request.broker_id,
                incarnation_id=request.incarnation_id,
                broker_epoch=broker_epoch,
                end_points=request.listeners,
                rack=request.rack,
            )
        )
        self._last_contact[request.broker_id] = now_ms
        return ControllerResult(records, broker_epoch)

    def heartbeat(
        self, request: BrokerHeartbeatRequest, now_ms: int
    ) -> ControllerResult[BrokerHeartbeatReply]:
        """BrokerHeartbeatManager.calculateNextBrokerState without controlled shutdown.

        A fenced broker is unfenced once its metadata offset reaches its own registration
        record (the broker epoch): from then on its image has everything the controller
        decided about it.
        """
        broker = self._check_broker_epoch(request.broker_id, request.broker_epoch)
        self._last_contact[broker.broker_id] = now_ms
        caught_up = request.current_metadata_offset >= broker.broker_epoch
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
        """When `poll` next has a session to expire (ms), None with no unfenced broker."""
        contacts = [self._contact(b.broker_id) for b in self.image.live_brokers()]
        return min(contacts) + self.session_timeout_ms + 1 if contacts else None

    def _contact(self, broker_id: int) -> int:
        return self._last_contact.get(broker_id, self._activated_ms)

    def _has_valid_session(self, broker_id: int, now_ms: int) -> bool:
        return now_ms <= self._contact(broker_id) + self.session_timeout_ms

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

    # -- leadership -----------------------------------------------------------------------

    def _fence(self, broker_id: int) -> list[MetadataRecord]:
        """handleBrokerFenced: out of every ISR, new leaders where it led, then the fence."""
        records: list[MetadataRecord] = list(
            self._changes(
                lambda p: broker_id in p.isr,
                lambda r: r != broker_id and self._is_active(r),
                lambda p: tuple(r for r in p.isr if r != broker_id),
            )
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
            self._changes(
                lambda p: p.leader == NO_LEADER,
                lambda r: r == broker_id or self._is_active(r),
            )
        )
        return records

    def _changes(
        self,
        which: Callable[[PartitionRegistration], bool],
        is_acceptable_leader: Callable[[int], bool],
        target_isr: Callable[[PartitionRegistration], tuple[int, ...]] | None = None,
    ) -> Iterable[MetadataRecord]:
        """ReplicationControlManager.generateLeaderAndIsrUpdates over the chosen partitions."""
        for topic, index, registration in self.image.partitions_of():
            if not which(registration):
                continue
            change = build_change(
                topic.topic_id,
                index,
                registration,
                is_acceptable_leader,
                target_isr=None if target_isr is None else target_isr(registration),
                election=self._election(topic.name),
            )
            if change is not None:
                yield change

    def _election(self, topic: str) -> Election:
        setting = self.image.topic_config(topic).get("unclean.leader.election.enable")
        unclean = self.unclean_leader_election if setting is None else setting == "true"
        return Election.UNCLEAN if unclean else Election.ONLINE

    def _is_active(self, broker_id: int) -> bool:
        broker = self.image.brokers.get(broker_id)
        return broker is not None and not broker.fenced

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

    # -- AlterPartition and ElectLeaders -----------------------------------------------

    def alter_partition(
        self, broker_id: int, broker_epoch: int, updates: Sequence[IsrUpdate]
    ) -> ControllerResult[list[PartitionResult]]:
        """ReplicationControlManager.alterPartition: an ISR change proposed by the leader."""
        self._check_broker_epoch(broker_id, broker_epoch)
        records: list[MetadataRecord] = []
        results: list[PartitionResult] = []
        for update in updates:
            error = self._check_isr_update(broker_id, update)
            if error is not ErrorCode.none:
                results.append(PartitionResult(update.topic_id, update.partition, error))
                continue
            current = self.image.topics_by_id[update.topic_id].partitions[update.partition]
            change = build_change(
                update.topic_id,
                update.partition,
                current,
                self._is_active,
                target_isr=update.new_isr,
                election=self._election(self.image.topics_by_id[update.topic_id].name),
            )
            if change is not None:
                records.append(change)
                current = merge(current, change)
            results.append(PartitionResult(update.topic_id, update.partition, registration=current))
        return ControllerResult(records, results)

    def _check_isr_update(self, broker_id: int, update: IsrUpdate) -> ErrorCode:
        """validateAlterPartitionData, in Kafka's order of checks."""
        topic = self.image.topics_by_id.get(update.topic_id)
        if topic is None:
            return ErrorCode.unknown_topic_id
        current = topic.partitions.get(update.partition)
        if current is None:
            return ErrorCode.unknown_topic_or_partition
        if (
            update.leader_epoch > current.leader_epoch
            or update.partition_epoch > current.partition_epoch
        ):
            return ErrorCode.not_controller  # the leader has seen a newer controller's work
        if update.leader_epoch < current.leader_epoch:
            return ErrorCode.fenced_leader_epoch
        if broker_id != current.leader:
            return ErrorCode.invalid_request
        if update.partition_epoch < current.partition_epoch:
            return ErrorCode.invalid_update_version
        new_isr = update.new_isr
        if len(set(new_isr)) != len(new_isr) or not set(new_isr) <= set(current.replicas):
            return ErrorCode.invalid_request
        if current.leader not in new_isr:
            return ErrorCode.invalid_request
        epochs = update.broker_epochs or (-1,) * len(new_isr)
        for member, epoch in zip(new_isr, epochs, strict=True):
            broker = self.image.brokers.get(member)
            if broker is None or broker.fenced or epoch not in (-1, broker.broker_epoch):
                return ErrorCode.ineligible_replica
        return ErrorCode.none

    def elect_leaders(
        self, election: Election, partitions: Iterable[tuple[str, int]]
    ) -> ControllerResult[dict[tuple[str, int], KafkaError | None]]:
        """ElectLeaders, PREFERRED or UNCLEAN (ReplicationControlManager.electLeader).

        Each partition's answer is None on success. As Kafka, a PREFERRED election that
        changes the leader to another ISR member than the preferred one (the current
        leader being gone) succeeds too.
        """
        records: list[MetadataRecord] = []
        results: dict[tuple[str, int], KafkaError | None] = {}
        for name, index in partitions:
            topic = self.image.topics.get(name)
            current = None if topic is None else topic.partitions.get(index)
            if topic is None or current is None:
                missing = f"topic as {name}" if topic is None else f"partition as {name}-{index}"
                results[name, index] = KafkaError(
                    ErrorCode.unknown_topic_or_partition, f"No such {missing}"
                )
                continue
            preferred = election is Election.PREFERRED
            if (preferred and current.leader == current.replicas[0]) or (
                not preferred and current.leader != NO_LEADER
            ):
                results[name, index] = KafkaError(ErrorCode.election_not_needed)
                continue
            change = build_change(
                topic.topic_id, index, current, self._is_active, election=election
            )
            if change is None:
                results[name, index] = KafkaError(
                    ErrorCode.preferred_leader_not_available
                    if preferred
                    else ErrorCode.eligible_leaders_not_available
                )
                continue
            records.append(change)
            results[name, index] = None
        return ControllerResult(records, results)
