"""Where a follower's log must be cut to agree with its leader's, without I/O.

A follower may hold records its leader never had: it led an earlier epoch and wrote a tail
nobody replicated, or it fetched from a leader that lost its leadership before the tail was
committed. The leader tells where each of its epochs ends (OffsetForLeaderEpoch, or Fetch's
DivergingEpoch); the follower keeps everything below the end of the largest epoch both
logs have, as Kafka's AbstractFetcherThread.getOffsetTruncationState decides it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


@dataclass(frozen=True, slots=True)
class Truncation:
    offset: int
    """Drop everything from here."""
    complete: bool
    """False when the leader named an epoch this log does not have: cut to the end of the
    largest earlier epoch, then ask the leader again about that one."""


def truncation_point(
    leader_epoch: int,
    leader_end_offset: int,
    *,
    end_offset_for: Callable[[int], tuple[int, int]],
    log_end_offset: int,
    fetch_offset: int,
) -> Truncation:
    """Where to truncate, given the leader's (epoch, end offset) answer for the follower's
    latest epoch. `end_offset_for` is the follower's own epoch cache lookup: it never
    answers past the log end, and answers (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET) for an
    epoch below everything it knows (UNDEFINED_EPOCH itself among them)."""
    if leader_end_offset == UNDEFINED_EPOCH_OFFSET:
        return Truncation(fetch_offset, complete=True)  # the leader knows no such epoch
    follower_epoch, follower_end_offset = end_offset_for(leader_epoch)
    if follower_epoch == UNDEFINED_EPOCH:
        return Truncation(min(leader_end_offset, log_end_offset), complete=True)
    if follower_epoch != leader_epoch:
        return Truncation(follower_end_offset, complete=False)
    return Truncation(min(follower_end_offset, leader_end_offset), complete=True)
