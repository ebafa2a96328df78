"""One cleaning round of a compacted log, as Kafka's Cleaner runs it.

`to_clean` decides on the event loop, from segment sizes and timestamps only, whether a log
is due and which offsets a round may clean (LogCleanerManager.cleanableOffsets): from the
first dirty offset (the cleaner checkpoint) up to the first uncleanable one, which is never
past the last stable offset, the active segment, or a segment with a record newer than
min.compaction.lag.ms. A log is due when its dirty share exceeds min.cleanable.dirty.ratio,
or when a dirty segment's first record is older than max.compaction.lag.ms.

`Round` then does the reading and writing in a worker thread, through file descriptors of
its own (a segment retention deletes meanwhile stays readable): the offset map over the dirty
section, then for each group of segments (grouped as Kafka groups them) a `.cleaned` segment,
written at the throttled rate and fsynced. The swap happens back on the loop
(cleaner_swap.replace_segments).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..records.batch import HEADER_SIZE, LOG_OVERHEAD, crc_matches, read_header
from .cleaner_batches import BatchFilter, CleanedTransactions, LastRecord, OffsetMap, map_batch
from .cleaner_swap import CLEANED_SUFFIX
from .damage import MAX_RELATIVE_OFFSET
from .segment import Segment
from .txn_index import AbortedTransaction

if TYPE_CHECKING:
    from .partition import PartitionLog

_IO_BUFFER = 1 << 20
_INDEX_ENTRY = 8
_TIME_INDEX_ENTRY = 12


class CleaningAborted(Exception):
    """The broker is stopping, or the log went away: the round ends without a swap."""


class CorruptForCleaning(Exception):
    """A batch the cleaner cannot read (Kafka marks such a partition uncleanable)."""


@dataclass(frozen=True, slots=True)
class ToClean:
    """Kafka's LogToClean: a log and the offsets a round of it may clean."""

    log: PartitionLog
    first_dirty: int
    first_uncleanable: int
    clean_bytes: int
    cleanable_bytes: int
    due_now: bool

    @property
    def ratio(self) -> float:
        total = self.clean_bytes + self.cleanable_bytes
        return self.cleanable_bytes / total if total else 0.0


def to_clean(log: PartitionLog, checkpoint: int | None, now_ms: int) -> ToClean | None:
    """The round `log` is due for, or None (see the module docstring)."""
    config = log.config
    first_dirty = checkpoint if checkpoint is not None else log.log_start_offset
    if first_dirty < log.log_start_offset or first_dirty > log.log_end_offset:
        first_dirty = log.log_start_offset
    segments = list(log.segments)
    active = segments[-1]
    dirty = [s for s in segments[log.segments.floor(first_dirty) :] if s is not active]
    uncleanable = min(log.last_stable_offset, active.base_offset)
    lag = max(config.min_compaction_lag_ms, 0)
    if lag > 0:
        recent = [s.base_offset for s in dirty if s.max_timestamp > now_ms - lag]
        uncleanable = min([uncleanable, *recent[:1]])
    uncleanable = max(first_dirty, uncleanable)
    # The round stops at a segment boundary (calculateCleanableBytes).
    first_uncleanable = segments[log.segments.floor(uncleanable)].base_offset
    bounds = [(s, s.base_offset, _next_base(segments, i)) for i, s in enumerate(segments)]
    low = min(first_dirty, first_uncleanable)
    cleanable = sum(s.size for s, b, n in bounds if b < first_uncleanable and n > low)
    clean = sum(s.size for s, b, _ in bounds if b < first_dirty)
    max_lag = max(config.max_compaction_lag_ms, 0)
    firsts = [s.first_batch_timestamp or 0 for s in dirty]
    earliest = min((first for first in firsts if first > 0), default=None)
    due_now = earliest is not None and earliest < now_ms - max_lag
    if clean + cleanable == 0:
        return None
    candidate = ToClean(log, first_dirty, first_uncleanable, clean, cleanable, due_now)
    if (due_now and cleanable > 0) or candidate.ratio > config.min_cleanable_dirty_ratio:
        return candidate
    return None


def _next_base(segments: list[Segment], index: int) -> int:
    if index + 1 < len(segments):
        return segments[index + 1].base_offset
    return segments[index].next_offset


def group_segments(
    segments: list[Segment], max_size: int, max_index_size: int, first_uncleanable: int
) -> list[list[Segment]]:
    """Cleaner.groupSegmentsBySize: consecutive segments whose sizes, index sizes and offset
    range fit in one segment."""
    groups: list[list[Segment]] = []
    rest = list(segments)
    while rest:
        group = [rest.pop(0)]
        size = group[0].size
        index_size = len(group[0].index) * _INDEX_ENTRY
        time_index_size = len(group[0].time_index) * _TIME_INDEX_ENTRY
        while rest:
            nxt = rest[0]
            last_offset = (rest[1].base_offset if len(rest) > 1 else first_uncleanable) - 1
            if not (
                size + nxt.size <= max_size
                and index_size + len(nxt.index) * _INDEX_ENTRY <= max_index_size
                and time_index_size + len(nxt.time_index) * _TIME_INDEX_ENTRY <= max_index_size
                and (nxt.size == 0 or last_offset - group[-1].base_offset <= MAX_RELATIVE_OFFSET)
            ):
                break
            group.append(rest.pop(0))
            size += nxt.size
            index_size += len(nxt.index) * _INDEX_ENTRY
            time_index_size += len(nxt.time_index) * _TIME_INDEX_ENTRY
        groups.append(group)
    return groups


class Throttler:
    """Kafka's Throttler: sleep so that the bytes read and written average at most `rate`."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.sleep = sleep
        self._start = clock()
        self._bytes = 0

    def throttle(self, count: int) -> None:
        self._bytes += count
        if self.rate <= 0 or self.rate >= 1e300:  # Kafka's default is Double.MAX_VALUE
            return
        elapsed = self.clock() - self._start
        wanted = self._bytes / self.rate
        if wanted > elapsed:
            self.sleep(wanted - elapsed)


@dataclass(slots=True)
class Source:
    """A segment to read in the worker thread, through a descriptor of the round's own."""

    segment: Segment
    fd: int
    size: int
    next_offset: int
    """The next segment's base offset (or the segment's next offset for the last)."""

    def batches(self, check: threading.Event, throttler: Throttler) -> Iterator[bytes]:
        """Each stored batch, checked whole (length, magic, CRC)."""
        position = 0
        while position < self.size:
            if check.is_set():
                raise CleaningAborted
            block = os.pread(self.fd, min(_IO_BUFFER, self.size - position), position)
            throttler.throttle(len(block))
            if len(block) < HEADER_SIZE:
                raise CorruptForCleaning(f"{self.segment.path} ends in a cut batch")
            offset = 0
            while offset + HEADER_SIZE <= len(block):
                header = read_header(block, offset)
                if header.magic != 2 or header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
                    raise CorruptForCleaning(f"{self.segment.path} at byte {position + offset}")
                if offset + header.size > len(block):
                    break
                if not crc_matches(block, header):
                    raise CorruptForCleaning(f"{self.segment.path} at byte {position + offset}")
                yield block[offset : offset + header.size]
                offset += header.size
            if offset == 0:  # one batch larger than the buffer
                header = read_header(block)
                data = os.pread(self.fd, header.size, position)
                header.position = 0
                if len(data) < header.size or not crc_matches(data, header):
                    raise CorruptForCleaning(f"{self.segment.path} at byte {position}")
                yield data
                offset = header.size
            position += offset


@dataclass(slots=True)
class Round:
    """What one cleaning round needs, taken on the loop; `run_*` methods run in a thread."""

    to_clean: ToClean
    offset_map: OffsetMap
    throttler: Throttler
    abort: threading.Event
    now_ms: int
    sources: list[Source] = field(default_factory=list)
    aborted: list[AbortedTransaction] = field(default_factory=list)
    bytes_read: int = 0
    bytes_written: int = 0

    @classmethod
    def open(
        cls, target: ToClean, dedupe_bytes: int, rate: float, abort: threading.Event, now_ms: int
    ) -> Round:
        cleaning = cls(target, OffsetMap(dedupe_bytes), Throttler(rate), abort, now_ms)
        segments = list(target.log.segments)
        cleaning.aborted = target.log.aborted_transactions(0, target.first_uncleanable)
        for i, segment in enumerate(segments):
            if segment.base_offset >= target.first_uncleanable:
                break
            fd = os.open(segment.path, os.O_RDONLY)
            source = Source(segment, fd, segment.size, _next_base(segments, i))
            cleaning.sources.append(source)
        return cleaning

    def close(self) -> None:
        for source in self.sources:
            os.close(source.fd)
        self.sources.clear()

    def build_offset_map(self) -> int:
        """Map the dirty section's keys; the offset after the last mapped one (the end of
        this round's cleaning, below the first uncleanable offset if the map filled)."""
        start, end = self.to_clean.first_dirty, self.to_clean.first_uncleanable
        txns = CleanedTransactions(t for t in self.aborted if t.last_offset >= start)
        for source in self.sources:
            if source.next_offset <= start:
                continue
            for data in source.batches(self.abort, self.throttler):
                header = read_header(data)
                if header.last_offset < start:
                    continue
                if header.base_offset >= end or map_batch(self.offset_map, data, start, txns):
                    return self.offset_map.latest_offset + 1
        if self.offset_map.latest_offset < 0:
            return end
        return self.offset_map.latest_offset + 1

    def batch_filter(self, active_producers: dict[int, LastRecord]) -> BatchFilter:
        log = self.to_clean.log
        return BatchFilter(
            self.offset_map,
            self.now_ms,
            log.config.delete_retention_ms,
            CleanedTransactions(self.aborted),
            active_producers,
            self.to_clean.first_uncleanable,
        )

    def clean_group(self, group: list[Source], batch_filter: BatchFilter) -> Segment:
        """Write the group's cleaned segment as `.cleaned` files, fsynced (cleanSegments)."""
        log = self.to_clean.log
        base = group[0].segment.base_offset
        interval = log.config.index_interval_bytes
        cleaned = Segment(log.directory, base, interval, CLEANED_SUFFIX)
        try:
            os.ftruncate(cleaned.fd, 0)
            cleaned.size = 0
            retained = batch_filter.txns.retained
            retained.clear()
            for source in group:
                for data in source.batches(self.abort, self.throttler):
                    self.bytes_read += len(data)
                    kept = batch_filter.filter(data)
                    if kept is None:
                        continue
                    header = read_header(kept)
                    chunks: list[bytes | bytearray | memoryview] = [kept]
                    cleaned.append(chunks, header, header.base_offset, len(kept))
                    self.bytes_written += len(kept)
                    self.throttler.throttle(len(kept))
            for txn in retained:
                cleaned.txn_index.append(txn)
            cleaned.flush()
            last = group[-1].segment
            cleaned.created_ms = last.created_ms
            mtime = os.stat(last.path).st_mtime if last.path.exists() else None
            if mtime is not None:
                os.utime(cleaned.path, (mtime, mtime))
        except BaseException:
            cleaned.delete()
            raise
        return cleaned
