"""The controller quorum's Raft, sans-IO: requests and the clock in, decisions out.

KRaft's shape (org.apache.kafka.raft.KafkaRaftClient and QuorumState): a voter is
unattached (an epoch, maybe a vote, no leader), a candidate, a follower of a known leader,
the leader, or resigned (a leader stepping down). Followers pull the log with Fetch; there
is no AppendEntries. The driver (`MetadataQuorum`) owns sockets and timers and asks this
class what to do; the log it decides about is on local disk, reached through `RaftLog`.

Rules that keep the log safe, each as Kafka has it:
- an epoch, once seen, is saved before it is acted on, and a vote is saved before it is
  granted, so a restarted voter never votes twice in an epoch;
- a vote goes only to a candidate whose log is at least as up to date as ours (last
  epoch, then end offset);
- the leader's high watermark is the offset a majority of voters has fetched (its own
  flushed end offset counts), and moves only once it passes the epoch's start offset: the
  LeaderChangeMessage the leader writes first in its epoch. Entries of earlier epochs are
  thus committed only along with one of the current epoch, never by counting replicas;
- a follower whose fetch position is not on the leader's log is answered with the
  diverging epoch and its end offset, and truncates there.
Pre-vote (KIP-996) and dynamic voters (KIP-853) are not implemented: the voter set is the
static `controller.quorum.voters`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from kio.schema.errors import ErrorCode

from .election import NO_LEADER, NOT_VOTED, ElectionState, QuorumStateFile


class RaftLog(Protocol):
    """What the Raft rules read of the metadata log."""

    @property
    def end_offset(self) -> int: ...

    @property
    def last_epoch(self) -> int:
        """The epoch of the last entry; 0 for an empty log."""
        ...

    def end_offset_for(self, epoch: int) -> tuple[int, int]:
        """The largest epoch <= `epoch` the log has and the offset where it ends (Kafka's
        LeaderEpochFileCache.endOffsetFor); (-1, -1) when the log has no such epoch."""
        ...


class Role(enum.Enum):
    UNATTACHED = "Unattached"
    FOLLOWER = "Follower"
    CANDIDATE = "Candidate"
    LEADER = "Leader"
    RESIGNED = "Resigned"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """controller.quorum.election.timeout.ms, .fetch.timeout.ms, .election.backoff.max.ms."""

    election_ms: int = 1000
    fetch_ms: int = 2000
    election_backoff_max_ms: int = 1000


@dataclass(slots=True)
class ReplicaProgress:
    """What the leader knows of one voter: DescribeQuorum's ReplicaState."""

    end_offset: int = -1
    last_fetch_ms: int = -1
    last_caught_up_ms: int = -1


@dataclass(frozen=True, slots=True)
class FetchAnswer:
    error: ErrorCode = ErrorCode.none
    diverging: tuple[int, int] | None = None
    """(epoch, end offset) the follower must truncate to; no records then."""
    read_from: int | None = None
    """Where the records to send start, when the fetch is valid."""


@dataclass(slots=True)
class _Candidacy:
    granted: set[int] = field(default_factory=set)
    rejected: set[int] = field(default_factory=set)


class Raft:
    def __init__(
        self,
        node_id: int,
        voters: frozenset[int],
        log: RaftLog,
        store: QuorumStateFile,
        timeouts: Timeouts,
        now_ms: int,
        rng: random.Random | None = None,
    ) -> None:
        if node_id not in voters:
            raise ValueError(f"node {node_id} is not one of the voters {sorted(voters)}")
        self.node_id = node_id
        self.voters = voters
        self.log = log
        self.timeouts = timeouts
        self._store = store
        self._rng = rng or random.Random()
        self.state = store.load()
        self.high_watermark = 0
        self.epoch_start_offset = -1
        self.progress: dict[int, ReplicaProgress] = {}
        self._candidacy: _Candidacy | None = None
        self._deadline_ms = 0
        self._backing_off = False
        self._leader_resigned = False
        if self.state.leader_id == node_id:
            # A leader that restarts resigns; its old epoch's leadership cannot resume
            # without the followers' positions (Kafka: QuorumState.initialize).
            self.role = Role.RESIGNED
            self._deadline_ms = now_ms + self._election_timeout()
        elif self.state.voted_id == node_id and self.state.leader_id == NO_LEADER:
            self.role = Role.CANDIDATE
            self._candidacy = _Candidacy({node_id})
            self._deadline_ms = now_ms + self._election_timeout()
        elif self.state.leader_id != NO_LEADER:
            self.role = Role.FOLLOWER
            self._deadline_ms = now_ms + timeouts.fetch_ms
        else:
            self.role = Role.UNATTACHED
            self._deadline_ms = now_ms + self._election_timeout()

    # -- state ----------------------------------------------------------------------------

    @property
    def epoch(self) -> int:
        return self.state.epoch

    @property
    def leader_id(self) -> int:
        return self.state.leader_id

    @property
    def is_leader(self) -> bool:
        return self.role is Role.LEADER

    @property
    def majority(self) -> int:
        return len(self.voters) // 2 + 1

    def next_deadline(self) -> int:
        return self._deadline_ms

    def _election_timeout(self) -> int:
        """Randomized so that voters rarely time out together and split the vote."""
        election_ms = self.timeouts.election_ms
        return election_ms + self._rng.randrange(election_ms)

    def _save(self, state: ElectionState) -> None:
        self._store.save(state)
        self.state = state

    # -- transitions ----------------------------------------------------------------------

    def _become_unattached(self, epoch: int, now_ms: int) -> None:
        self._save(ElectionState(epoch))
        self.role, self._candidacy = Role.UNATTACHED, None
        self._deadline_ms = now_ms + self._election_timeout()

    def _become_follower(self, epoch: int, leader_id: int, now_ms: int) -> None:
        voted = self.state.voted_id if epoch == self.state.epoch else NOT_VOTED
        self._save(ElectionState(epoch, leader_id, voted))
        self.role, self._candidacy = Role.FOLLOWER, None
        self._leader_resigned = False
        self._deadline_ms = now_ms + self.timeouts.fetch_ms

    def start_election(self, now_ms: int) -> bool:
        """Become a candidate in a new epoch, voting for ourselves; True when that alone is a
        majority (a quorum of one), and the caller then calls `become_leader`."""
        self._save(ElectionState(self.state.epoch + 1, NO_LEADER, self.node_id))
        self.role, self._candidacy = Role.CANDIDATE, _Candidacy({self.node_id})
        self._backing_off = False
        self._deadline_ms = now_ms + self._election_timeout()
        return len(self._candidacy.granted) >= self.majority

    def become_leader(self, now_ms: int) -> None:
        """Take the leadership won in this epoch. The caller writes the LeaderChangeMessage
        at `epoch_start_offset` (the log end offset now) before anything else."""
        self._save(ElectionState(self.state.epoch, self.node_id, self.state.voted_id))
        self.role, self._candidacy = Role.LEADER, None
        self.epoch_start_offset = self.log.end_offset
        self.progress = {voter: ReplicaProgress() for voter in self.voters}
        self.progress[self.node_id].last_fetch_ms = now_ms
        self._deadline_ms = now_ms + self._check_quorum_ms

    def resign(self, now_ms: int) -> None:
        """Step down as leader (shutting down, or no longer fetched from by a majority)."""
        if self.role is Role.LEADER:
            self.role = Role.RESIGNED
            self._deadline_ms = now_ms + self._election_timeout()

    @property
    def _check_quorum_ms(self) -> int:
        return self.timeouts.fetch_ms * 3 // 2

    def poll(self, now_ms: int) -> bool:
        """Act on the clock; True when an election should start now."""
        if now_ms < self._deadline_ms:
            return False
        if self.role is Role.LEADER:
            recent = now_ms - self._check_quorum_ms
            # The leader counts itself, written lately or not (Kafka's LeaderState).
            fetched = sum(
                1
                for voter, p in self.progress.items()
                if voter == self.node_id or p.last_fetch_ms >= recent
            )
            if fetched < self.majority:
                self.resign(now_ms)
            else:
                self._deadline_ms = now_ms + self._check_quorum_ms
            return False
        if self.role is Role.CANDIDATE and not self._backing_off:
            # Lost or split: wait a random backoff, then stand again in a new epoch.
            self._backing_off = True
            backoff = self._rng.randrange(1, self.timeouts.election_backoff_max_ms + 1)
            self._deadline_ms = now_ms + backoff
            return False
        return True

    def observe(self, epoch: int, leader_id: int, now_ms: int) -> bool:
        """Adopt a newer epoch (or learn this epoch's leader) from any request or response;
        False when `epoch` is older than ours and the message is to be refused."""
        if epoch < self.state.epoch:
            return False
        if epoch > self.state.epoch:
            if leader_id not in (NO_LEADER, self.node_id):
                self._become_follower(epoch, leader_id, now_ms)
            else:
                self._become_unattached(epoch, now_ms)
        elif leader_id not in (NO_LEADER, self.node_id) and self.role is not Role.FOLLOWER:
            self._become_follower(epoch, leader_id, now_ms)
        return True

    # -- votes ----------------------------------------------------------------------------

    def vote_requested(
        self, candidate_id: int, epoch: int, last_epoch: int, end_offset: int, now_ms: int
    ) -> tuple[ErrorCode, bool]:
        if candidate_id not in self.voters:
            return ErrorCode.inconsistent_voter_set, False
        if not self.observe(epoch, NO_LEADER, now_ms):
            return ErrorCode.fenced_leader_epoch, False
        state = self.state
        if state.leader_id != NO_LEADER or state.voted_id not in (NOT_VOTED, candidate_id):
            return ErrorCode.none, False
        ours = (self.log.last_epoch, self.log.end_offset)
        if (last_epoch, end_offset) < ours:
            return ErrorCode.none, False
        if state.voted_id == NOT_VOTED:
            self._save(ElectionState(epoch, NO_LEADER, candidate_id))
            self._deadline_ms = now_ms + self._election_timeout()
        return ErrorCode.none, True

    def vote_answered(
        self, voter_id: int, epoch: int, leader_id: int, granted: bool, now_ms: int
    ) -> bool:
        """Count one answer; True when it makes us leader (the caller calls `become_leader`)."""
        if not self.observe(epoch, leader_id, now_ms) or epoch != self.state.epoch:
            return False
        candidacy = self._candidacy
        if self.role is not Role.CANDIDATE or candidacy is None:
            return False
        (candidacy.granted if granted else candidacy.rejected).add(voter_id)
        return len(candidacy.granted) >= self.majority

    # -- epochs announced and ended -------------------------------------------------------

    def begin_epoch(self, leader_id: int, epoch: int, now_ms: int) -> ErrorCode:
        if leader_id not in self.voters:
            return ErrorCode.inconsistent_voter_set
        if not self.observe(epoch, leader_id, now_ms):
            return ErrorCode.fenced_leader_epoch
        return ErrorCode.none

    def end_epoch(
        self, leader_id: int, epoch: int, successors: list[int], now_ms: int
    ) -> ErrorCode:
        """The leader resigned: stand sooner, the first preferred successor at once (Kafka's
        endEpochElectionBackoff), the others after a backoff growing with their place."""
        if not self.observe(epoch, leader_id, now_ms):
            return ErrorCode.fenced_leader_epoch
        if self.role is Role.FOLLOWER and self.state.leader_id == leader_id:
            self._leader_resigned = True
            place = successors.index(self.node_id) if self.node_id in successors else None
            if place == 0:
                self._deadline_ms = now_ms
            else:
                backoff = self._rng.randrange(1, self.timeouts.election_backoff_max_ms + 1)
                self._deadline_ms = now_ms + backoff * (place or len(successors) + 1)
        return ErrorCode.none

    # -- the leader's side of Fetch -------------------------------------------------------

    def fetch_requested(
        self,
        replica_id: int,
        fetch_offset: int,
        last_fetched_epoch: int,
        leader_epoch: int,
        now_ms: int,
    ) -> FetchAnswer:
        if leader_epoch != -1 and leader_epoch < self.state.epoch:
            return FetchAnswer(ErrorCode.fenced_leader_epoch)
        if leader_epoch > self.state.epoch:
            return FetchAnswer(ErrorCode.unknown_leader_epoch)
        if self.role is not Role.LEADER:
            return FetchAnswer(ErrorCode.not_leader_or_follower)
        if fetch_offset > 0:
            epoch, end_offset = self.log.end_offset_for(last_fetched_epoch)
            if epoch != last_fetched_epoch or end_offset < fetch_offset:
                return FetchAnswer(diverging=(epoch, end_offset))
        progress = self.progress.get(replica_id)
        if progress is not None:
            progress.end_offset = fetch_offset
            progress.last_fetch_ms = now_ms
            if fetch_offset >= self.high_watermark:
                progress.last_caught_up_ms = now_ms
            self._update_high_watermark()
        return FetchAnswer(read_from=fetch_offset)

    def leader_flushed(self, end_offset: int, now_ms: int) -> None:
        """The leader's own log is durable up to `end_offset` (it counts as a replica)."""
        progress = self.progress[self.node_id]
        progress.end_offset = end_offset
        progress.last_fetch_ms = progress.last_caught_up_ms = now_ms
        self._update_high_watermark()

    def _update_high_watermark(self) -> None:
        offsets = sorted((p.end_offset for p in self.progress.values()), reverse=True)
        committed = offsets[self.majority - 1]
        if committed > self.epoch_start_offset and committed > self.high_watermark:
            self.high_watermark = committed

    # -- the follower's side of Fetch -----------------------------------------------------

    def fetched(self, now_ms: int) -> None:
        """A fetch from the leader succeeded: it is alive, no election for now (unless it
        has resigned: a fetch answered before EndQuorumEpoch may arrive after it)."""
        if self.role is Role.FOLLOWER and not self._leader_resigned:
            self._deadline_ms = now_ms + self.timeouts.fetch_ms

    def truncation_offset(self, diverging_epoch: int, diverging_end: int) -> int:
        """Where to cut our log, told the leader's log ends `diverging_epoch` at
        `diverging_end` (Kafka's truncateToEndOffset: our own end of that epoch if smaller)."""
        _, end_offset = self.log.end_offset_for(diverging_epoch)
        return max(0, min(end_offset, diverging_end))

    def follower_high_watermark(self, leader_high_watermark: int) -> None:
        """The leader's high watermark, as far as our log goes."""
        offset = min(leader_high_watermark, self.log.end_offset)
        if offset > self.high_watermark:
            self.high_watermark = offset

    def describe(self, now_ms: int) -> Mapping[int, ReplicaProgress]:
        """The voters' progress as the leader sees it (empty elsewhere). The leader is
        caught up with itself now, as Kafka's LeaderState.describeQuorum reports it, so the
        followers' lag in time is measured against now."""
        if self.role is not Role.LEADER:
            return {}
        own = self.progress[self.node_id]
        own.last_fetch_ms = own.last_caught_up_ms = now_ms
        return self.progress
