"""The log of one partition: ordered segments, offsets, appends, reads, retention and recovery.

All methods run on the broker's event loop and do plain file I/O; the only work handed to
a thread is `Segment.flush` (fsync), through `FlushJob`. Offsets follow Kafka's vocabulary:
`log_start_offset` <= `high_watermark` <= `log_end_offset`.
"""

from __future__ import annotations

import contextlib
import logging
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..records.batch import BatchHeader, set_log_append_time, stamp_prefix
from ..records.reader import iter_records
from .log_config import LogConfig
from .producer_state import ProducerState
from .segment import NO_TIMESTAMP, Segment

log = logging.getLogger(__name__)

LEADER_EPOCH = 0
_MAX_RELATIVE_OFFSET = 2**31 - 1
_LEFTOVER_SUFFIXES = (".deleted", ".cleaned", ".swap", ".tmp")


class LogError(KafkaError):
    """A request the log refuses."""


@dataclass(slots=True)
class AppendResult:
    base_offset: int
    last_offset: int
    log_append_time: int
    duplicate: bool = False


@dataclass(slots=True)
class FlushJob:
    """What one fsync round covers: done off the loop, then `PartitionLog.flushed`."""

    log: PartitionLog
    offset: int
    segment: Segment
    position: int
    messages: int
    segments: list[Segment] = field(default_factory=list)

    def run(self) -> None:
        for segment in self.segments:
            try:
                segment.flush()
            except OSError as exc:  # a segment deleted by retention meanwhile needs no fsync
                if segment.fd >= 0:
                    raise
                log.debug("skipped flushing deleted segment %s: %s", segment.path, exc)


@dataclass(frozen=True, slots=True)
class TimestampAndOffset:
    timestamp: int
    offset: int


class PartitionLog:
    def __init__(
        self,
        directory: Path,
        topic: str,
        partition: int,
        config: LogConfig,
        *,
        log_start_offset: int = 0,
        recovery_point: int = 0,
        clean_shutdown: bool = True,
        now_ms: int = 0,
    ) -> None:
        self.directory = directory
        self.topic = topic
        self.partition = partition
        self.config = config
        directory.mkdir(parents=True, exist_ok=True)
        self.producers = ProducerState(directory)
        self.segments: list[Segment] = []
        self._bases: list[int] = []
        self._listeners: list[Callable[[], None]] = []
        self.unflushed_messages = 0
        self.last_flush_ms = now_ms
        self.flush_pending = False
        self._flushing = False
        self._load(log_start_offset, recovery_point, clean_shutdown)

    # -- state --------------------------------------------------------------------------

    @property
    def active(self) -> Segment:
        return self.segments[-1]

    @property
    def log_end_offset(self) -> int:
        return self.active.next_offset

    @property
    def size_bytes(self) -> int:
        return sum(segment.size for segment in self.segments)

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the loop) whenever the high watermark moves."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    # -- loading and recovery -----------------------------------------------------------

    def _load(self, log_start_offset: int, recovery_point: int, clean_shutdown: bool) -> None:
        for path in self.directory.iterdir():
            if path.name.endswith(_LEFTOVER_SUFFIXES):
                path.unlink(missing_ok=True)
        bases = sorted(
            int(path.stem) for path in self.directory.glob("*.log") if path.stem.isdigit()
        )
        if not bases:
            self._add_segment(
                Segment(self.directory, log_start_offset, self.config.index_interval_bytes)
            )
        for i, base in enumerate(bases):
            segment = Segment(self.directory, base, self.config.index_interval_bytes)
            next_base = bases[i + 1] if i + 1 < len(bases) else None
            needs_recovery = not clean_shutdown and (
                next_base is None or next_base > recovery_point
            )
            if needs_recovery or not segment.load_indexes(next_base):
                valid = segment.rebuild()
                if valid < segment.size:
                    log.warning(
                        "%s-%d: truncating %s at byte %d of %d (torn or corrupt batch)",
                        self.topic,
                        self.partition,
                        segment.path.name,
                        valid,
                        segment.size,
                    )
                    segment.truncate(valid)
                    self._add_segment(segment)
                    for later in bases[i + 1 :]:
                        Segment(self.directory, later, self.config.index_interval_bytes).delete()
                    break
                segment.write_indexes()
            first = segment.first_batch_timestamp
            if first is not None and first >= 0:
                segment.created_ms = min(segment.created_ms, first)
            self._add_segment(segment)
        self.log_start_offset = min(
            max(log_start_offset, self.segments[0].base_offset), self.log_end_offset
        )
        self.recovery_point = self.log_end_offset
        self._hw_offset = self.log_end_offset
        self._hw_segment = self.active
        self._hw_position = self.active.size
        self._load_producer_state()

    def _load_producer_state(self) -> None:
        snapshot = self.producers.load_latest_snapshot(self.log_end_offset)
        start = self.log_start_offset if snapshot is None else snapshot
        if start < self.log_end_offset:
            self.producers.replay(self._headers_from(start))
        self.producers.remove_before(self.log_start_offset)

    def _headers_from(self, offset: int) -> Iterator[BatchHeader]:
        slot = max(bisect_right(self._bases, offset) - 1, 0)
        for segment in self.segments[slot:]:
            start = segment.index.lookup(offset) if segment.base_offset <= offset else 0
            for header in segment.headers(start):
                if header.last_offset >= offset:
                    yield header

    def _add_segment(self, segment: Segment) -> None:
        self.segments.append(segment)
        self._bases.append(segment.base_offset)

    # -- appending ----------------------------------------------------------------------

    def append(self, header: BatchHeader, records: bytes, now_ms: int) -> AppendResult:
        """Append one validated batch as received, stamped with its offset and epoch."""
        config = self.config
        log_append_time = -1
        if config.message_timestamp_type == "LogAppendTime":
            log_append_time = now_ms
        else:
            self._check_timestamps(header, now_ms)
        if header.has_producer_id:
            duplicate = self.producers.check(header, self.log_end_offset)
            if duplicate is not None:
                return AppendResult(
                    duplicate.first_offset, duplicate.last_offset, log_append_time, duplicate=True
                )
        segment = self._maybe_roll(header, now_ms)
        base_offset = self.log_end_offset
        prefix = stamp_prefix(header, base_offset, LEADER_EPOCH)
        if log_append_time >= 0:
            header.max_timestamp = log_append_time
            stamped = bytearray(prefix) + memoryview(records)[len(prefix) :]
            set_log_append_time(stamped, log_append_time)
            chunks: list[bytes | bytearray | memoryview] = [stamped]
        else:
            chunks = [prefix, memoryview(records)[len(prefix) :]]
        segment.append(chunks, header, base_offset, header.size)
        if header.has_producer_id:
            self.producers.update(header, base_offset)
        self.unflushed_messages += header.record_count
        if self.unflushed_messages >= config.flush_messages:
            self.flush_pending = True
        if not self.flush_pending:
            self._set_high_watermark(self.log_end_offset, segment, segment.size)
        return AppendResult(base_offset, base_offset + header.last_offset_delta, log_append_time)

    def _check_timestamps(self, header: BatchHeader, now_ms: int) -> None:
        config = self.config
        for timestamp in (header.base_timestamp, header.max_timestamp):
            if timestamp < 0:
                continue
            if now_ms - timestamp > config.message_timestamp_before_max_ms:
                raise LogError(
                    ErrorCode.invalid_timestamp,
                    f"timestamp {timestamp} is more than message.timestamp.before.max.ms="
                    f"{config.message_timestamp_before_max_ms} before the broker's time {now_ms}",
                )
            if timestamp - now_ms > config.message_timestamp_after_max_ms:
                raise LogError(
                    ErrorCode.invalid_timestamp,
                    f"timestamp {timestamp} is more than message.timestamp.after.max.ms="
                    f"{config.message_timestamp_after_max_ms} after the broker's time {now_ms}",
                )

    def _maybe_roll(self, header: BatchHeader, now_ms: int) -> Segment:
        segment = self.active
        if segment.size == 0:
            return segment
        config = self.config
        if (
            segment.size + header.size > config.segment_bytes
            or now_ms - segment.created_ms > config.segment_ms
            or len(segment.index) >= config.max_index_entries
            or self.log_end_offset + header.last_offset_delta - segment.base_offset
            > _MAX_RELATIVE_OFFSET
        ):
            return self.roll(now_ms)
        return segment

    def roll(self, now_ms: int) -> Segment:
        """Start a new segment at the log end offset (the old one keeps its indexes on disk)."""
        old = self.active
        if old.size == 0:
            return old
        old.write_indexes()
        segment = Segment(self.directory, self.log_end_offset, self.config.index_interval_bytes)
        segment.created_ms = now_ms
        segment.next_offset = self.log_end_offset
        self._add_segment(segment)
        self.producers.write_snapshot(segment.base_offset)
        return segment

    def _set_high_watermark(self, offset: int, segment: Segment, position: int) -> None:
        if offset > self._hw_offset or segment is not self._hw_segment:
            self._hw_offset = offset
            self._hw_segment = segment
            self._hw_position = position
            self._notify()

    @property
    def high_watermark(self) -> int:
        return self._hw_offset

    # -- flushing -----------------------------------------------------------------------

    def flush_job(self) -> FlushJob | None:
        """A job covering all appended data; None if one is running or nothing is new."""
        if self._flushing or (self.unflushed_messages == 0 and not self.flush_pending):
            return None
        self._flushing = True
        slot = max(bisect_right(self._bases, self.recovery_point) - 1, 0)
        return FlushJob(
            self,
            self.log_end_offset,
            self.active,
            self.active.size,
            self.unflushed_messages,
            list(self.segments[slot:]),
        )

    def flushed(self, job: FlushJob, now_ms: int) -> None:
        """Record that `job` completed: data up to `job.offset` is durable and may be read."""
        self._flushing = False
        self.unflushed_messages -= job.messages
        self.recovery_point = max(self.recovery_point, job.offset)
        self.last_flush_ms = now_ms
        self.flush_pending = self.unflushed_messages >= self.config.flush_messages
        if job.offset > self._hw_offset and job.segment in self.segments:
            self._set_high_watermark(job.offset, job.segment, job.position)
        if not self.flush_pending:
            self._set_high_watermark(self.log_end_offset, self.active, self.active.size)

    def flush_failed(self) -> None:
        self._flushing = False

    # -- reading ------------------------------------------------------------------------

    def read(self, offset: int, max_bytes: int, min_one_batch: bool = True) -> bytes:
        """Bytes of whole batches starting with the one containing `offset`, up to the HW.

        At most `max_bytes`, except that the first batch is returned whole when
        `min_one_batch` is set (KIP-74), so a consumer always makes progress. The last batch
        may be cut short, as Kafka does; clients drop a partial trailing batch.
        """
        if offset < self.log_start_offset or offset > self.log_end_offset:
            raise LogError(
                ErrorCode.offset_out_of_range,
                f"offset {offset} is outside {self.log_start_offset}..{self.log_end_offset}"
                f" of {self.topic}-{self.partition}",
            )
        if offset >= self._hw_offset:
            return b""
        slot = max(bisect_right(self._bases, offset) - 1, 0)
        for segment in self.segments[slot:]:
            limit = self._hw_position if segment is self._hw_segment else segment.size
            header = segment.find_batch(offset, limit)
            if header is not None:
                available = limit - header.position
                if min_one_batch:
                    return segment.read(
                        header.position, min(available, max(max_bytes, header.size))
                    )
                if max_bytes < header.size:
                    return b""
                return segment.read(header.position, min(available, max_bytes))
            if segment is self._hw_segment:
                break
        return b""

    def offset_for_timestamp(self, timestamp: int) -> TimestampAndOffset | None:
        """The first record with a timestamp >= `timestamp`, as ListOffsets defines it."""
        for segment in self.segments:
            if segment.max_timestamp < timestamp:
                continue
            start_offset = max(segment.time_index.lookup(timestamp), self.log_start_offset)
            position = segment.index.lookup(start_offset)
            limit = self._hw_position if segment is self._hw_segment else segment.size
            for header in segment.headers(position, limit):
                if header.max_timestamp < timestamp or header.last_offset < self.log_start_offset:
                    continue
                found = self._record_at_or_after(segment, header, timestamp)
                if found is not None:
                    return found
            if segment is self._hw_segment:
                break
        return None

    def max_timestamp(self) -> TimestampAndOffset | None:
        """The record with the largest timestamp (ListOffsets MAX_TIMESTAMP)."""
        best: Segment | None = None
        for segment in self.segments:
            if best is None or segment.max_timestamp > best.max_timestamp:
                best = segment
        if best is None or best.max_timestamp == NO_TIMESTAMP:
            return None
        header = best.find_batch(best.offset_of_max_timestamp, best.size)
        if header is None:
            return None
        return self._record_at_or_after(best, header, best.max_timestamp)

    def _record_at_or_after(
        self, segment: Segment, header: BatchHeader, timestamp: int
    ) -> TimestampAndOffset | None:
        data = segment.read(header.position, header.size)
        for record in iter_records(data):
            if record.offset >= self.log_start_offset and record.timestamp >= timestamp:
                return TimestampAndOffset(record.timestamp, record.offset)
        return None

    # -- deleting -----------------------------------------------------------------------

    def delete_records_before(self, offset: int, now_ms: int) -> int:
        """DeleteRecords: move the log start offset to `offset` (-1 means the HW)."""
        if offset == -1:
            offset = self._hw_offset
        if offset < 0 or offset > self._hw_offset:
            raise LogError(
                ErrorCode.offset_out_of_range,
                f"cannot delete records before offset {offset}: the high watermark of"
                f" {self.topic}-{self.partition} is {self._hw_offset}",
            )
        if offset > self.log_start_offset:
            self.log_start_offset = offset
            self._delete_segments(lambda s, nxt: nxt <= self.log_start_offset, now_ms)
            self.producers.remove_before(self.log_start_offset)
        return self.log_start_offset

    def enforce_retention(self, now_ms: int) -> int:
        """Delete segments past retention.ms or beyond retention.bytes; returns how many."""
        config = self.config
        deleted = 0
        if config.deletes:
            if config.retention_ms >= 0:
                deadline = now_ms - config.retention_ms
                deleted += self._delete_segments(
                    lambda s, nxt: (
                        s.max_timestamp < deadline
                        if s.max_timestamp != NO_TIMESTAMP
                        else s.created_ms < deadline
                    ),
                    now_ms,
                )
            if config.retention_bytes >= 0:
                excess = self.size_bytes - config.retention_bytes

                def over_size(segment: Segment, _next: int) -> bool:
                    nonlocal excess
                    if excess - segment.size < 0:
                        return False
                    excess -= segment.size
                    return True

                deleted += self._delete_segments(over_size, now_ms)
        deleted += self._delete_segments(lambda s, nxt: nxt <= self.log_start_offset, now_ms)
        return deleted

    def _delete_segments(self, predicate: Callable[[Segment, int], bool], now_ms: int) -> int:
        """Delete segments from the oldest while `predicate` holds, never past the HW."""
        doomed: list[Segment] = []
        for i, segment in enumerate(self.segments):
            next_offset = (
                self.segments[i + 1].base_offset
                if i + 1 < len(self.segments)
                else segment.next_offset
            )
            is_last = i + 1 == len(self.segments)
            if next_offset > self._hw_offset and not is_last:
                break
            if is_last and (segment.size == 0 or self._hw_offset < self.log_end_offset):
                break
            if not predicate(segment, next_offset):
                break
            doomed.append(segment)
        if not doomed:
            return 0
        if len(doomed) == len(self.segments):
            self.roll(now_ms)
            self._set_high_watermark(self.log_end_offset, self.active, self.active.size)
        for segment in doomed:
            self.segments.remove(segment)
            self._bases.remove(segment.base_offset)
            segment.delete()
        self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
        self.producers.remove_before(self.log_start_offset)
        log.info(
            "%s-%d: deleted %d segment(s), log start offset now %d",
            self.topic,
            self.partition,
            len(doomed),
            self.log_start_offset,
        )
        return len(doomed)

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Flush data and indexes, snapshot producer state at the log end, close files.

        Everything is durable afterwards, so the recovery point becomes the log end.
        """
        for segment in self.segments:
            segment.flush()
        self.producers.write_snapshot(self.log_end_offset)
        self.recovery_point = self.log_end_offset
        for segment in self.segments:
            segment.close()
