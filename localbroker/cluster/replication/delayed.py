"""`DelayedProduces`: acks=all produces of one leader partition, waiting for the ISR.

Kafka's DelayedProduce parks a produce whose batches are appended but not yet replicated to
every in-sync replica, and answers it when the partition's high watermark passes the last
appended offset, when its timeout passes (REQUEST_TIMED_OUT), or when leadership is lost
(NOT_LEADER_OR_FOLLOWER). Whether enough replicas hold it is checked at completion, not at
append: an ISR that shrank below min.insync.replicas meanwhile answers
NOT_ENOUGH_REPLICAS_AFTER_APPEND, the records being written all the same.

No I/O and no clock of its own, like the group coordinator: the caller says when the HW
moved (`try_complete`) and what time it is (`expire(now_ms)`, `next_deadline()`), and each
waiter's callback gets its error code once.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from kio.schema.errors import ErrorCode

from .leader import LeaderPartition

Callback = Callable[[ErrorCode], None]


@dataclass(order=True, slots=True)
class _Waiter:
    deadline_ms: int
    sequence: int
    required_offset: int = field(compare=False)
    callback: Callback = field(compare=False)
    done: bool = field(default=False, compare=False)


class DelayedProduces:
    def __init__(self, partition: LeaderPartition) -> None:
        self.partition = partition
        self._by_offset: list[tuple[int, int, _Waiter]] = []
        self._by_deadline: list[_Waiter] = []
        self._sequence = itertools.count()
        self._lost = False
        """Leadership moved away: a produce that starts waiting now fails at once."""

    def __len__(self) -> int:
        return sum(1 for _, _, waiter in self._by_offset if not waiter.done)

    def add(self, last_offset: int, deadline_ms: int, callback: Callback) -> None:
        """Wait until the HW passes `last_offset` (the produce's last appended offset); the
        callback gets NONE, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT or
        NOT_LEADER_OR_FOLLOWER. One whose offsets are already replicated completes now."""
        waiter = _Waiter(deadline_ms, next(self._sequence), last_offset + 1, callback)
        error = (
            ErrorCode.not_leader_or_follower
            if self._lost
            else self.partition.acks_reached(waiter.required_offset)
        )
        if error is not None:
            self._finish(waiter, error)
            return
        heapq.heappush(self._by_offset, (waiter.required_offset, waiter.sequence, waiter))
        heapq.heappush(self._by_deadline, waiter)

    def try_complete(self) -> None:
        """Answer every produce the high watermark has passed (call when it moved, or the
        ISR changed)."""
        while self._by_offset:
            required, _, waiter = self._by_offset[0]
            if waiter.done:
                heapq.heappop(self._by_offset)
                continue
            error = self.partition.acks_reached(required)
            if error is None:
                return
            heapq.heappop(self._by_offset)
            self._finish(waiter, error)

    def next_deadline(self) -> int | None:
        while self._by_deadline and self._by_deadline[0].done:
            heapq.heappop(self._by_deadline)
        return self._by_deadline[0].deadline_ms if self._by_deadline else None

    def expire(self, now_ms: int) -> None:
        """REQUEST_TIMED_OUT for every produce whose timeout has passed."""
        while self._by_deadline and self._by_deadline[0].deadline_ms <= now_ms:
            waiter = heapq.heappop(self._by_deadline)
            if not waiter.done:
                self._finish(waiter, ErrorCode.request_timed_out)

    def leadership_lost(self) -> None:
        """NOT_LEADER_OR_FOLLOWER for everything waiting: another replica leads now, and
        whether these records survive is up to what it holds. A produce appended while this
        broker led may reach `add` only afterwards (its handler awaited other appends): it
        fails there too, as Kafka's tryCompleteElseWatch finds no leader."""
        self._lost = True
        waiting = [waiter for _, _, waiter in self._by_offset]
        self._by_offset.clear()
        self._by_deadline.clear()
        for waiter in sorted(waiting):
            if not waiter.done:
                self._finish(waiter, ErrorCode.not_leader_or_follower)

    @staticmethod
    def _finish(waiter: _Waiter, error: ErrorCode) -> None:
        waiter.done = True
        waiter.callback(error)
