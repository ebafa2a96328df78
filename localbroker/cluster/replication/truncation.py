"""Where a follower's log diverges from its leader's, and where it must be cut; no I/O.

A follower may hold records its leader never had: it led an earlier epoch and wrote a tail
nobody replicated, or it fetched from a leader that lost its leadership before the tail was
committed. The leader tells where each of its epochs ends (OffsetForLeaderEpoch, or Fetch's
DivergingEpoch); the follower keeps everything below the end of the largest epoch both
logs have, as Kafka's AbstractFetcherThread.getOffsetTruncationState decides it.

The leader's half is `diverging_epoch`: what a leader answers a follower's Fetch with when
the follower's last fetched epoch ends earlier in the leader's log than the follower's
fetch offset (Partition.readRecords).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from ...errors import KafkaError

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


def diverging_epoch(
    last_fetched_epoch: int,
    fetch_offset: int,
    *,
    end_offset_for: Callable[[int], tuple[int, int]],
    log_start_offset: int,
    log_end_offset: int,
    partition: str,
) -> tuple[int, int] | None:
    """The (epoch, end offset) a leader puts in Fetch's DivergingEpoch for a follower that
    fetches from `fetch_offset` having last fetched `last_fetched_epoch`, or None when the
    follower's log agrees with this one (or it sent no epoch). `end_offset_for` is the
    leader's epoch cache lookup. OFFSET_OUT_OF_RANGE as Kafka raises it: for an epoch the
    leader cannot place, or a fetch offset below its log start."""
    if last_fetched_epoch == UNDEFINED_EPOCH:
        return None
    epoch, end_offset = end_offset_for(last_fetched_epoch)
    if end_offset == UNDEFINED_EPOCH_OFFSET or epoch == UNDEFINED_EPOCH:
        raise KafkaError(
            ErrorCode.offset_out_of_range,
            "Could not determine the end offset of the last fetched epoch"
            f" {last_fetched_epoch} from the request",
        )
    if fetch_offset < log_start_offset:
        raise KafkaError(
            ErrorCode.offset_out_of_range,
            f"Received request for offset {fetch_offset} for partition {partition}, but we"
            f" only have log segments in the range {log_start_offset} to {log_end_offset}.",
        )
    if epoch < last_fetched_epoch or end_offset < fetch_offset:
        return epoch, end_offset
    return None
