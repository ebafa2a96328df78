"""A partition's high watermark: where consumers' reads stop.

Kept as an offset with the segment and file position where the batch at that offset starts
(Kafka's LogOffsetMetadata), so that a read up to it needs no index lookup. Two things hold
it below the log end offset: the flush policy (with `flush.messages`, nothing is visible
before its fsync) and, once the log is replicated, the limit replication sets (the leader's
HW a follower was told, or the minimum a leader computed over its in-sync replicas).
"""

from __future__ import annotations

from collections.abc import Callable

from .segment import Segment
from .segments import LogSegments


class HighWatermark:
    def __init__(self, segments: LogSegments, moved: Callable[[], None]) -> None:
        """At the log end offset of `segments` (a log just opened); `moved` is called
        whenever the high watermark moves."""
        self._segments = segments
        self._moved = moved
        active = segments[-1]
        self.offset, self.segment, self.position = active.next_offset, active, active.size
        self.limit: int | None = None
        """What replication allows (`replicate`); None on a single broker, where the HW
        follows the log end offset."""

    def read_limit(self, segment: Segment) -> int:
        """Where reads of `segment` stop."""
        return self.position if segment is self.segment else segment.size

    def move(self, offset: int, segment: Segment, position: int) -> None:
        """Move to `offset` at `position` in `segment`: forward, or to the same offset in a
        new segment (the log rolled)."""
        if offset > self.offset or segment is not self.segment:
            self.offset, self.segment, self.position = offset, segment, position
            self._moved()

    def advance(self, durable: int, segment: Segment, position: int) -> None:
        """Move up to `durable` (at `position` in `segment`): data the flush policy lets
        consumers see, or less, where replication set a lower limit."""
        if self.limit is not None and self.limit < durable:
            durable = self.limit
            segment, position = self._position_of(durable)
        if durable >= self.offset:
            self.move(durable, segment, position)

    def replicate(self, offset: int, durable: int) -> None:
        """See PartitionLog.set_high_watermark; `durable` is what the flush policy allows."""
        first = self.limit is None
        if self.limit is not None and offset <= self.limit:
            return
        self.limit = offset
        target = min(offset, durable)
        if first and target < self.offset:
            self.offset = -1  # set exactly, once
        segment, position = self._position_of(target)
        self.move(target, segment, position)

    def truncated(self) -> None:
        """The log was cut: the HW and the limit come down to its end if past it."""
        end = self._segments[-1].next_offset
        if self.limit is not None:
            self.limit = min(self.limit, end)
        if self.offset >= end or self.segment not in self._segments:
            active = self._segments[-1]
            self.offset, self.segment, self.position = end, active, active.size
        self._moved()

    def _position_of(self, offset: int) -> tuple[Segment, int]:
        """The segment and file position where the batch holding `offset` starts."""
        active = self._segments[-1]
        if offset >= active.next_offset:
            return active, active.size
        segment = self._segments[self._segments.floor(offset)]
        header = segment.find_batch(offset, segment.size)
        return segment, segment.size if header is None else header.position
