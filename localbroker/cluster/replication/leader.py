"""`LeaderPartition`: what a partition's leader knows about its followers, without I/O.

Kafka's leader learns each follower's log end offset from the offset the follower fetches
from (a follower asks for offset N once it holds everything below N), and from that alone
decides three things, here as in Kafka's Partition.scala:

- the high watermark: the smallest log end offset over the (maximal) ISR and over followers
  that are caught up and about to join it; it never moves backwards, and it does not move at
  all while the ISR is smaller than min.insync.replicas (KIP-966);
- which followers fell out of sync: not caught up for `replica.lag.time.max.ms`, where a
  follower is caught up when it fetched from the leader's log end offset, or from the log end
  offset the leader had at its previous fetch (Replica.updateFetchStateOrThrow);
- which followers may rejoin: a log end offset at or past the high watermark and past the
  start of the current leader epoch, so a follower never joins holding less than a leader
  of this epoch may already have acknowledged; and, as KRaft adds, a registered unfenced
  broker whose fetches carry its current broker epoch, so a broker that restarted (with
  whatever its disk kept) rejoins only as its new registration.

ISR changes are proposals (Kafka's AlterPartition to the controller): one at a time, and the
ISR counts as its union with the proposal until the controller answers with a new
`PartitionRegistration` (Kafka's "maximal ISR", KIP-497), which only makes the high watermark
more careful.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from ...errors import KafkaError
from ..partitions import BrokerRegistration, PartitionRegistration

REPLICA_LAG_TIME_MAX_MS = 30_000
"""The default of Kafka's `replica.lag.time.max.ms`."""
UNKNOWN_OFFSET = -1
NO_BROKER_EPOCH = -1
"""A fetch that carries no broker epoch: not checked (Kafka's replica_state default)."""
ACKS_ALL = -1


@dataclass(slots=True)
class FollowerState:
    """The leader's record of one follower (Kafka's ReplicaState)."""

    broker_id: int
    log_start_offset: int = UNKNOWN_OFFSET
    log_end_offset: int = UNKNOWN_OFFSET
    last_fetch_leader_log_end_offset: int = UNKNOWN_OFFSET
    last_fetch_time_ms: int = 0
    last_caught_up_time_ms: int = 0
    broker_epoch: int | None = None
    """The broker epoch its last fetch carried; None before it fetched in this epoch."""

    def caught_up(self, leader_end_offset: int, now_ms: int, max_lag_ms: int) -> bool:
        return (
            self.log_end_offset == leader_end_offset
            or now_ms - self.last_caught_up_time_ms <= max_lag_ms
        )


@dataclass(frozen=True, slots=True)
class IsrProposal:
    """An AlterPartition to send: the new ISR, on top of the registration it changes (the
    controller refuses it if the leader or partition epoch moved meanwhile)."""

    isr: tuple[int, ...]
    leader_epoch: int
    partition_epoch: int


class LeaderPartition:
    def __init__(
        self,
        broker_id: int,
        registration: PartitionRegistration,
        *,
        log_end_offset: int,
        high_watermark: int,
        min_insync_replicas: int,
        brokers: Mapping[int, BrokerRegistration],
        now_ms: int,
        replica_lag_time_max_ms: int = REPLICA_LAG_TIME_MAX_MS,
    ) -> None:
        self.broker_id = broker_id
        self.min_insync_replicas = min_insync_replicas
        self.replica_lag_time_max_ms = replica_lag_time_max_ms
        self.high_watermark = high_watermark
        self.log_end_offset = log_end_offset
        self.brokers = brokers
        """The registered brokers, as the metadata image has them: replace it when it
        changes. Only their unfenced followers may join the ISR."""
        self.pending: IsrProposal | None = None
        self.registration = registration
        self.followers: dict[int, FollowerState] = {}
        self.epoch_start_offset = log_end_offset
        self._become_leader(registration, now_ms, new_leader=True)

    # -- what the controller says --------------------------------------------------------

    def update(self, registration: PartitionRegistration, now_ms: int) -> bool:
        """Take the controller's newer registration for this partition (an answer to our
        AlterPartition, or its own change); whether the high watermark moved.

        Raises NOT_LEADER_OR_FOLLOWER when it names another leader: the caller then turns
        this partition into a follower and fails everything waiting on it."""
        if registration.leader != self.broker_id:
            raise KafkaError(
                ErrorCode.not_leader_or_follower,
                f"Broker {registration.leader} leads in epoch {registration.leader_epoch}",
            )
        if registration.partition_epoch < self.registration.partition_epoch:
            return False  # a stale answer that crossed a newer change
        self.pending = None
        if registration.leader_epoch != self.registration.leader_epoch:
            self.epoch_start_offset = self.log_end_offset
            self._become_leader(registration, now_ms, new_leader=False)
        else:
            self.registration = registration
            self._track(registration.replicas)
        return self._maybe_increment_high_watermark(now_ms)

    def proposal_failed(self) -> None:
        """The controller refused or never answered our AlterPartition: propose again later."""
        self.pending = None

    def _become_leader(
        self, registration: PartitionRegistration, now_ms: int, *, new_leader: bool
    ) -> None:
        """Kafka's makeLeader: each follower starts its lag clock now if it is in the ISR, and
        as long ago as possible if not, so a follower outside the ISR never holds the high
        watermark back before it proves itself caught up."""
        self.registration = registration
        self._track(registration.replicas)
        for follower in self.followers.values():
            in_sync = follower.broker_id in registration.isr
            since = now_ms if in_sync else 0
            if new_leader:
                self.followers[follower.broker_id] = FollowerState(
                    follower.broker_id, last_caught_up_time_ms=since
                )
            else:
                follower.last_fetch_leader_log_end_offset = self.epoch_start_offset
                follower.last_fetch_time_ms = since
                follower.last_caught_up_time_ms = since

    def _track(self, replicas: tuple[int, ...]) -> None:
        wanted = [r for r in replicas if r != self.broker_id]
        self.followers = {r: self.followers.get(r) or FollowerState(r) for r in wanted}

    # -- the ISR --------------------------------------------------------------------------

    @property
    def isr(self) -> tuple[int, ...]:
        return self.registration.isr

    @property
    def maximal_isr(self) -> frozenset[int]:
        """The ISR with the pending proposal's additions: every replica the HW waits for."""
        pending = self.pending.isr if self.pending is not None else ()
        return frozenset(self.registration.isr) | frozenset(pending)

    @property
    def effective_min_isr(self) -> int:
        """min.insync.replicas, capped at the replication factor as Kafka caps it."""
        return min(self.min_insync_replicas, len(self.followers) + 1)

    @property
    def under_min_isr(self) -> bool:
        return len(self.registration.isr) < self.effective_min_isr

    def check_append(self, required_acks: int) -> None:
        """NOT_ENOUGH_REPLICAS for an acks=all produce while the ISR is too small: refused
        before anything is written (Partition.appendRecordsToLeader)."""
        if required_acks == ACKS_ALL and self.under_min_isr:
            raise KafkaError(
                ErrorCode.not_enough_replicas,
                f"The size of the current ISR {set(self.isr)} is insufficient to satisfy the"
                f" min.isr requirement of {self.effective_min_isr} for partition",
            )

    def acks_reached(self, required_offset: int) -> ErrorCode | None:
        """Kafka's checkEnoughReplicasReachOffset: None while the HW is below
        `required_offset`; then NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR
        shrank below min.insync.replicas after the append."""
        if self.high_watermark < required_offset:
            return None
        if len(self.maximal_isr) >= self.effective_min_isr:
            return ErrorCode.none
        return ErrorCode.not_enough_replicas_after_append

    def _propose(self, isr: tuple[int, ...]) -> IsrProposal:
        self.pending = IsrProposal(
            isr, self.registration.leader_epoch, self.registration.partition_epoch
        )
        return self.pending

    def out_of_sync(self, now_ms: int) -> frozenset[int]:
        """ISR followers not caught up for longer than replica.lag.time.max.ms."""
        if self.pending is not None:
            return frozenset()
        return frozenset(
            r
            for r in self.registration.isr
            if r != self.broker_id
            and not self._follower(r).caught_up(
                self.log_end_offset, now_ms, self.replica_lag_time_max_ms
            )
        )

    def maybe_shrink_isr(self, now_ms: int) -> IsrProposal | None:
        """The AlterPartition dropping lagging followers, if any lag (Kafka runs this every
        replica.lag.time.max.ms / 2)."""
        lagging = self.out_of_sync(now_ms)
        if not lagging:
            return None
        return self._propose(tuple(r for r in self.registration.isr if r not in lagging))

    def _maybe_expand_isr(self, follower: FollowerState) -> IsrProposal | None:
        if (
            self.pending is not None
            or follower.broker_id in self.registration.isr
            or not self._eligible(follower)
            or follower.log_end_offset < self.high_watermark
            or follower.log_end_offset < self.epoch_start_offset
        ):
            return None
        return self._propose((*self.registration.isr, follower.broker_id))

    def _eligible(self, follower: FollowerState) -> bool:
        """Kafka's isReplicaIsrEligible under KRaft: registered, unfenced, and fetching with
        its current broker epoch (or none)."""
        registration = self.brokers.get(follower.broker_id)
        return (
            registration is not None
            and not registration.fenced
            and follower.broker_epoch in (NO_BROKER_EPOCH, registration.broker_epoch)
        )

    def _follower(self, broker_id: int) -> FollowerState:
        return self.followers.get(broker_id) or FollowerState(broker_id)

    # -- fetches and appends --------------------------------------------------------------

    def follower_fetched(
        self,
        broker_id: int,
        fetch_offset: int,
        log_start_offset: int,
        now_ms: int,
        broker_epoch: int = NO_BROKER_EPOCH,
    ) -> tuple[bool, IsrProposal | None]:
        """Record a follower's fetch from `fetch_offset` (its log end offset); whether the
        high watermark moved, and the AlterPartition adding it to the ISR if it may join.

        Raises NOT_LEADER_OR_FOLLOWER for a broker that holds no replica here, or whose
        fetch carries a broker epoch older than its registration's."""
        follower = self.followers.get(broker_id)
        if follower is None:
            raise KafkaError(
                ErrorCode.not_leader_or_follower,
                f"Broker {broker_id} is not a replica of this partition",
            )
        registration = self.brokers.get(broker_id)
        if (
            registration is not None
            and broker_epoch != NO_BROKER_EPOCH
            and broker_epoch < registration.broker_epoch
        ):
            raise KafkaError(
                ErrorCode.not_leader_or_follower,
                f"Received stale fetch state update. broker epoch={broker_epoch}"
                f" vs expected={registration.broker_epoch}",
            )
        previous_end = follower.log_end_offset
        if fetch_offset >= self.log_end_offset:
            follower.last_caught_up_time_ms = max(follower.last_caught_up_time_ms, now_ms)
        elif fetch_offset >= follower.last_fetch_leader_log_end_offset:
            follower.last_caught_up_time_ms = max(
                follower.last_caught_up_time_ms, follower.last_fetch_time_ms
            )
        follower.log_start_offset = log_start_offset
        follower.log_end_offset = fetch_offset
        follower.last_fetch_leader_log_end_offset = max(
            self.log_end_offset, follower.last_fetch_leader_log_end_offset
        )
        follower.last_fetch_time_ms = now_ms
        follower.broker_epoch = broker_epoch
        proposal = self._maybe_expand_isr(follower)
        moved = previous_end != fetch_offset and self._maybe_increment_high_watermark(now_ms)
        return moved, proposal

    def appended(self, log_end_offset: int, now_ms: int) -> bool:
        """The leader's own log grew (or a follower-less ISR lets the HW follow it)."""
        self.log_end_offset = log_end_offset
        return self._maybe_increment_high_watermark(now_ms)

    def _maybe_increment_high_watermark(self, now_ms: int) -> bool:
        if self.under_min_isr:
            return False
        maximal = self.maximal_isr
        candidate = self.log_end_offset
        for follower in self.followers.values():
            if follower.log_end_offset < candidate and (
                follower.broker_id in maximal
                or (
                    follower.caught_up(self.log_end_offset, now_ms, self.replica_lag_time_max_ms)
                    and self._eligible(follower)
                )
            ):
                candidate = follower.log_end_offset
        if candidate <= self.high_watermark:
            return False
        self.high_watermark = candidate
        return True
