"""The quorum's Raft rules without a socket: elections, epochs, divergence and commits.

The log here is the epochs of its entries, one per offset: the Raft rules read nothing
else of it, and the real `__cluster_metadata` log is exercised by test_metadata_quorum.py.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from kio.schema.errors import ErrorCode

from localbroker.cluster.quorum.election import QuorumStateFile
from localbroker.cluster.quorum.raft import Raft, Role, Timeouts

VOTERS = frozenset({0, 1, 2})
TIMEOUTS = Timeouts(election_ms=1000, fetch_ms=2000, election_backoff_max_ms=1000)


class EpochLog:
    """A log reduced to the epoch of each entry."""

    def __init__(self, epochs: list[int] | None = None) -> None:
        self.epochs = list(epochs or [])

    @property
    def end_offset(self) -> int:
        return len(self.epochs)

    @property
    def last_epoch(self) -> int:
        return self.epochs[-1] if self.epochs else 0

    def end_offset_for(self, epoch: int) -> tuple[int, int]:
        older = [e for e in self.epochs if e <= epoch]
        if not older:
            return -1, -1
        found = max(older)
        if found == self.last_epoch:
            return found, self.end_offset
        return found, max(i for i, e in enumerate(self.epochs) if e == found) + 1

    def truncate_to(self, offset: int) -> None:
        del self.epochs[offset:]


def voter(tmp_path: Path, node_id: int, epochs: list[int] | None = None, seed: int = 0) -> Raft:
    directory = tmp_path / f"node-{node_id}"
    directory.mkdir(exist_ok=True)
    store = QuorumStateFile(directory, VOTERS)
    return Raft(node_id, VOTERS, EpochLog(epochs), store, TIMEOUTS, 0, random.Random(seed))


def elect(candidate: Raft, *others: Raft, now_ms: int = 0) -> bool:
    """Run one election by hand: the candidate asks `others`, counts their answers."""
    assert not candidate.start_election(now_ms)
    won = False
    for other in others:
        error, granted = other.vote_requested(
            candidate.node_id,
            candidate.epoch,
            candidate.log.last_epoch,
            candidate.log.end_offset,
            now_ms,
        )
        assert error == ErrorCode.none
        won = candidate.vote_answered(other.node_id, other.epoch, other.leader_id, granted, now_ms)
        if won:
            candidate.become_leader(now_ms)
            return True
    return won


def test_a_candidate_granted_a_majority_leads_and_the_others_follow(tmp_path: Path) -> None:
    a, b, c = (voter(tmp_path, n) for n in range(3))
    assert a.poll(5000)  # an unattached voter's election timeout has passed
    assert elect(a, b)
    assert (a.role, a.epoch, a.leader_id) == (Role.LEADER, 1, 0)
    assert b.begin_epoch(0, 1, 0) == ErrorCode.none
    assert c.begin_epoch(0, 1, 0) == ErrorCode.none
    assert (b.role, b.leader_id, c.role, c.leader_id) == (Role.FOLLOWER, 0, Role.FOLLOWER, 0)


def test_a_split_vote_is_followed_by_a_new_election_in_a_later_epoch(tmp_path: Path) -> None:
    a, b, _ = (voter(tmp_path, n, seed=n) for n in range(3))
    assert not a.start_election(0) and not b.start_election(0)
    # Both stand in epoch 1; each has voted for itself, so each refuses the other.
    assert b.vote_requested(0, 1, 0, 0, 0) == (ErrorCode.none, False)
    assert a.vote_requested(1, 1, 0, 0, 0) == (ErrorCode.none, False)
    assert not a.vote_answered(1, 1, -1, False, 0)
    assert a.role is Role.CANDIDATE
    # The election timeout passes, then a random backoff, then a stands again.
    assert not a.poll(a.next_deadline())
    assert a.poll(a.next_deadline())
    assert elect(a, b, now_ms=a.next_deadline())
    assert (a.epoch, a.role, b.epoch, b.state.voted_id) == (2, Role.LEADER, 2, 0)


def test_requests_of_an_older_epoch_are_refused(tmp_path: Path) -> None:
    a, b, _ = (voter(tmp_path, n) for n in range(3))
    a.start_election(0)
    a.start_election(0)  # epoch 2
    assert a.vote_requested(1, 1, 0, 0, 0) == (ErrorCode.fenced_leader_epoch, False)
    assert a.begin_epoch(1, 1, 0) == ErrorCode.fenced_leader_epoch
    assert a.end_epoch(1, 1, [], 0) == ErrorCode.fenced_leader_epoch
    assert b.fetch_requested(0, 0, 0, 3, 0).error == ErrorCode.unknown_leader_epoch
    b.observe(5, -1, 0)
    assert b.fetch_requested(0, 0, 0, 3, 0).error == ErrorCode.fenced_leader_epoch


def test_a_vote_goes_only_to_a_log_at_least_as_up_to_date(tmp_path: Path) -> None:
    behind = voter(tmp_path, 0, [1, 1])
    ahead = voter(tmp_path, 1, [1, 1, 2])
    assert ahead.vote_requested(0, 3, 1, 2, 0) == (ErrorCode.none, False)
    assert ahead.vote_requested(0, 3, 2, 2, 0) == (ErrorCode.none, False)  # shorter
    assert ahead.vote_requested(2, 3, 3, 1, 0) == (ErrorCode.none, True)  # later epoch
    assert behind.epoch == 0


def test_a_vote_is_saved_before_it_is_granted_and_outlives_a_restart(tmp_path: Path) -> None:
    b = voter(tmp_path, 1)
    assert b.vote_requested(0, 1, 0, 0, 0) == (ErrorCode.none, True)
    saved = json.loads((tmp_path / "node-1" / "quorum-state").read_text())
    assert (saved["leaderEpoch"], saved["votedId"], saved["data_version"]) == (1, 0, 0)
    restarted = voter(tmp_path, 1)
    assert restarted.vote_requested(2, 1, 5, 5, 0) == (ErrorCode.none, False)
    assert restarted.vote_requested(0, 1, 0, 0, 0) == (ErrorCode.none, True)  # same again


def test_a_diverged_follower_is_told_where_to_truncate(tmp_path: Path) -> None:
    # The follower kept two entries of epoch 2 that the epoch-3 leader never had.
    leader = voter(tmp_path, 0, [1, 1, 3, 3])
    follower = voter(tmp_path, 1, [1, 1, 2, 2])
    leader.observe(3, -1, 0)
    leader.start_election(0)
    leader.become_leader(0)
    answer = leader.fetch_requested(1, 4, 2, leader.epoch, 0)
    assert answer.diverging == (1, 2) and answer.read_from is None
    offset = follower.truncation_offset(*answer.diverging)
    assert offset == 2
    follower.log.truncate_to(offset)  # type: ignore[attr-defined]
    answer = leader.fetch_requested(1, 2, 1, leader.epoch, 0)
    assert answer.diverging is None and answer.read_from == 2


def test_a_follower_truncates_to_its_own_end_of_the_diverging_epoch(tmp_path: Path) -> None:
    # The leader's epoch 1 ends at 3; the follower's ends at 1, followed by epoch 2.
    leader = voter(tmp_path, 0, [1, 1, 1, 3])
    follower = voter(tmp_path, 1, [1, 2, 2])
    leader.observe(3, -1, 0)
    leader.start_election(0)
    leader.become_leader(0)
    answer = leader.fetch_requested(1, 3, 2, leader.epoch, 0)
    assert answer.diverging == (1, 3)
    assert follower.truncation_offset(*answer.diverging) == 1


def test_the_high_watermark_moves_only_past_the_epoch_start(tmp_path: Path) -> None:
    # Entries of epoch 1 sit on two of three voters; a new leader in epoch 2 must not
    # count them as committed until its own LeaderChangeMessage (offset 3) is.
    leader = voter(tmp_path, 0, [1, 1, 1])
    leader.observe(1, -1, 0)
    assert elect(leader, voter(tmp_path, 1, [1, 1, 1]))
    assert leader.epoch_start_offset == 3
    leader.fetch_requested(1, 3, 1, leader.epoch, 0)
    leader.leader_flushed(3, 0)
    assert leader.high_watermark == 0
    leader.log.epochs.append(leader.epoch)  # type: ignore[attr-defined]
    leader.leader_flushed(4, 0)
    assert leader.high_watermark == 0  # the leader alone is no majority
    leader.fetch_requested(1, 4, leader.epoch, leader.epoch, 0)
    assert leader.high_watermark == 4


def test_a_leader_no_majority_fetches_from_resigns(tmp_path: Path) -> None:
    leader = voter(tmp_path, 0)
    assert elect(leader, voter(tmp_path, 1))
    assert not leader.poll(leader.next_deadline())
    assert leader.role is Role.RESIGNED


def test_a_leader_one_of_two_followers_fetches_from_stays_though_it_appends_nothing(
    tmp_path: Path,
) -> None:
    """The leader counts itself in the majority whether or not it wrote lately (Kafka's
    LeaderState: a majority of the *other* voters is voters / 2): a three-voter quorum
    with one voter down keeps its leader while nothing is appended."""
    leader = voter(tmp_path, 0)
    assert elect(leader, voter(tmp_path, 1))
    for _ in range(3):
        now = leader.next_deadline()
        leader.fetch_requested(1, 0, 0, leader.epoch, now - 1)
        assert not leader.poll(now)
        assert leader.role is Role.LEADER


def test_a_resigned_leaders_late_fetch_answer_does_not_hold_back_the_election(
    tmp_path: Path,
) -> None:
    follower = voter(tmp_path, 1)
    assert follower.begin_epoch(0, 1, 0) == ErrorCode.none
    assert follower.end_epoch(0, 1, [1, 2], 100) == ErrorCode.none
    follower.fetched(100)  # answered by the leader just before it resigned
    assert follower.poll(100)


def test_describe_reports_the_leader_caught_up_now_and_nothing_elsewhere(tmp_path: Path) -> None:
    leader, follower = voter(tmp_path, 0), voter(tmp_path, 1)
    assert elect(leader, follower)
    leader.fetch_requested(1, 0, 0, leader.epoch, 40)
    progress = leader.describe(50)
    assert (progress[0].last_fetch_ms, progress[0].last_caught_up_ms) == (50, 50)
    assert (progress[1].last_fetch_ms, progress[2].last_fetch_ms) == (40, -1)
    assert follower.describe(50) == {}


def test_a_follower_that_hears_nothing_for_the_fetch_timeout_stands(tmp_path: Path) -> None:
    follower = voter(tmp_path, 1)
    assert follower.begin_epoch(0, 1, 0) == ErrorCode.none
    follower.fetched(500)
    assert not follower.poll(500 + TIMEOUTS.fetch_ms - 1)
    assert follower.poll(500 + TIMEOUTS.fetch_ms)
    assert not follower.start_election(500 + TIMEOUTS.fetch_ms)
    assert (follower.role, follower.epoch, follower.state.voted_id) == (Role.CANDIDATE, 2, 1)
