"""`LeaderReplica`: a partition this broker leads, its log kept in step with its followers.

`LeaderPartition` decides (sans-IO) and `DelayedProduces` waits; this joins them to the
`PartitionLog` on the event loop, as Kafka's Partition joins its replica states, its
UnifiedLog and the produce purgatory: every change that may move the high watermark (an
append, a follower's fetch, a new registration) moves the log's too (`set_high_watermark`,
so consumers see only what the ISR holds) and completes the acks=all produces it passed.
The Produce and Fetch handlers call it; AlterPartition proposals go to `propose`, which
sends them to the controller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from kio.schema.errors import ErrorCode

from ...log.partition import PartitionLog
from ..partitions import BrokerRegistration, PartitionRegistration
from .delayed import DelayedProduces
from .leader import IsrProposal, LeaderPartition


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


class LeaderReplica:
    def __init__(
        self,
        broker_id: int,
        partition_log: PartitionLog,
        registration: PartitionRegistration,
        *,
        min_insync_replicas: int,
        replica_lag_time_max_ms: int,
        brokers: Mapping[int, BrokerRegistration],
        propose: Callable[[IsrProposal], None],
        now_ms: Callable[[], int] = _wall_clock_ms,
    ) -> None:
        self.log = partition_log
        self.propose = propose
        self.now_ms = now_ms
        self.state = LeaderPartition(
            broker_id,
            registration,
            log_end_offset=partition_log.log_end_offset,
            high_watermark=partition_log.high_watermark,
            min_insync_replicas=min_insync_replicas,
            brokers=brokers,
            now_ms=now_ms(),
            replica_lag_time_max_ms=replica_lag_time_max_ms,
        )
        self.delayed = DelayedProduces(self.state)
        # what its ISR already allows (all of the log, when it is the ISR alone): a log
        # reopened at its checkpointed high watermark moves up at once (Kafka's makeLeader)
        self.state.appended(partition_log.log_end_offset, now_ms())
        # from here on the log's HW is the ISR's, no longer its own log end offset
        partition_log.set_high_watermark(self.state.high_watermark)

    @property
    def leader_epoch(self) -> int:
        return self.state.registration.leader_epoch

    def appended(self) -> None:
        """The leader appended to its log (a produce, a transaction marker)."""
        self._moved(self.state.appended(self.log.log_end_offset, self.now_ms()))

    def follower_fetched(
        self, broker_id: int, fetch_offset: int, log_start_offset: int, broker_epoch: int
    ) -> None:
        """A follower fetched from `fetch_offset`: it holds everything below. Raises
        NOT_LEADER_OR_FOLLOWER for a broker with no replica here or a stale broker epoch."""
        moved, proposal = self.state.follower_fetched(
            broker_id, fetch_offset, log_start_offset, self.now_ms(), broker_epoch
        )
        self._moved(moved)
        if proposal is not None:
            self.propose(proposal)

    def update(self, registration: PartitionRegistration) -> None:
        """The controller's newer registration; NOT_LEADER_OR_FOLLOWER when it names
        another leader (then call `resign`)."""
        self._moved(self.state.update(registration, self.now_ms()))

    def check_isr(self) -> None:
        """Propose dropping lagging followers (Kafka checks every
        replica.lag.time.max.ms / 2)."""
        proposal = self.state.maybe_shrink_isr(self.now_ms())
        if proposal is not None:
            self.propose(proposal)

    def resign(self) -> None:
        """Leadership moved elsewhere: every waiting produce fails."""
        self.delayed.leadership_lost()

    async def acks_all(self, last_offset: int, timeout_ms: int) -> ErrorCode:
        """Wait until the ISR holds everything up to `last_offset` (just appended); the
        error code for the produce response, REQUEST_TIMED_OUT after `timeout_ms`."""
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[ErrorCode] = loop.create_future()

        def answer(error: ErrorCode) -> None:
            if not answered.done():
                answered.set_result(error)

        deadline_ms = self.now_ms() + timeout_ms
        self.delayed.add(last_offset, deadline_ms, answer)
        timer = loop.call_later(timeout_ms / 1000, self.delayed.expire, deadline_ms)
        try:
            return await answered
        finally:
            timer.cancel()

    def _moved(self, moved: bool) -> None:
        if moved:
            self.log.set_high_watermark(self.state.high_watermark)
            self.delayed.try_complete()
