"""The log of one partition: ordered segments, offsets, appends, reads, retention and recovery.

All methods run on the broker's event loop and do plain file I/O; the only work handed to
a thread is `Segment.flush` (fsync), through `FlushJob`. Offsets follow Kafka's vocabulary:
`log_start_offset` <= `high_watermark` <= `log_end_offset`.

A write that fails (a full disk) is undone and answered with KAFKA_STORAGE_ERROR, and takes
the log directory offline (`LogDirStatus`). A batch found damaged when read is reported, its
segment scanned again, and its offsets answered with CORRUPT_MESSAGE (see damage.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from ..errors import KafkaError
from ..files import fsync_path
from ..records.batch import BatchHeader, read_header, set_log_append_time, stamp_prefix
from ..records.control import COORDINATOR_EPOCH, NO_COORDINATOR_EPOCH, build_marker
from . import reads, replica, retention, timestamps
from .append_result import AppendResult
from .damage import MAX_RELATIVE_OFFSET
from .dir_status import LogDirStatus
from .high_watermark import HighWatermark
from .leader_epochs import LeaderEpochCache
from .loader import SegmentLoader
from .log_config import LogConfig
from .producer_state import ProducerState
from .segment import Segment
from .segments import LogSegments
from .timestamp_bounds import check_create_times, check_keys
from .timestamps import TimestampAndOffset
from .transactions import PartitionTransactions
from .txn_index import AbortedTransaction

log = logging.getLogger(__name__)

LEADER_EPOCH = 0
T = TypeVar("T")


@dataclass(slots=True)
class FlushJob:
    """What one fsync round covers: done off the loop, then `PartitionLog.flushed`."""

    log: PartitionLog
    offset: int
    segment: Segment
    position: int
    messages: int
    truncations: int
    segments: list[Segment] = field(default_factory=list)

    new_segments: bool = False

    def run(self) -> None:
        for segment in self.segments:
            try:
                segment.flush()
            except (OSError, ValueError) as exc:  # a segment deleted (by retention or the
                # cleaner's swap) meanwhile needs no fsync; fsync(-1) is a ValueError
                if segment.fd >= 0:
                    raise
                log.debug("skipped flushing deleted segment %s: %s", segment.path, exc)
        if self.new_segments:
            # New segment files must survive a power loss too (Kafka flushes the directory).
            with contextlib.suppress(FileNotFoundError):  # the topic was deleted meanwhile
                fsync_path(self.log.directory)


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
        status: LogDirStatus | None = None,
        leader_epoch: int | None = LEADER_EPOCH,
    ) -> None:
        """`leader_epoch` is the epoch this broker leads the partition in from the start: its
        start is the log end offset, as when Kafka makes a replica leader (a single broker
        leads every partition at epoch 0); None leaves that to the replica manager."""
        self.directory = directory
        self.topic = topic
        self.partition = partition
        self.config = config
        self.status = status or LogDirStatus(directory.parent)
        directory.mkdir(parents=True, exist_ok=True)
        self.producers = ProducerState(directory)
        self.transactions = PartitionTransactions()
        self.segments = LogSegments(self.name)
        self.epochs = LeaderEpochCache(directory, self.name, lambda: self.log_end_offset)
        self._listeners: list[Callable[[], None]] = []
        self._append_listeners: list[Callable[[], None]] = []
        self.unflushed_messages = 0
        self.last_flush_ms = now_ms
        self.flush_pending = False
        self._flushing = False
        self._truncations = 0
        """How many times `truncate_to` cut the log: a flush job from before covers bytes
        that may no longer be there."""
        self._load(log_start_offset, recovery_point, clean_shutdown)
        self.leader_epoch = LEADER_EPOCH
        """The epoch this broker's own appends are stamped with (`become_leader`)."""
        if leader_epoch is not None:
            # a log replicated in later epochs keeps them: leading it "in epoch 0" would
            # drop them from the cache (an epoch never goes back)
            latest = self.epochs.latest()
            self.become_leader(leader_epoch if latest is None else max(leader_epoch, latest[0]))

    def become_leader(self, leader_epoch: int) -> None:
        """Lead from here on in `leader_epoch`: it starts at the log end offset (Kafka's
        makeLeader), and every append and marker this broker writes is stamped with it."""
        self.leader_epoch = leader_epoch
        self.epochs.assign(leader_epoch, self.log_end_offset)

    # -- state --------------------------------------------------------------------------

    @property
    def active(self) -> Segment:
        return self.segments[-1]

    @property
    def log_end_offset(self) -> int:
        return self.active.next_offset

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.partition}"

    @property
    def size_bytes(self) -> int:
        return sum(segment.size for segment in self.segments)

    def add_listener(self, callback: Callable[[], None], *, appends: bool = False) -> None:
        """Call `callback` (on the loop) whenever the high watermark moves, or with
        `appends` whenever a batch is appended: what a leader and its followers' long polls
        wait for, where consumers wait for the high watermark."""
        (self._append_listeners if appends else self._listeners).append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        for listeners in (self._listeners, self._append_listeners):
            with contextlib.suppress(ValueError):
                listeners.remove(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    # -- loading and recovery -----------------------------------------------------------

    def _load(self, log_start_offset: int, recovery_point: int, clean_shutdown: bool) -> None:
        loader = SegmentLoader(
            self.directory, self.name, self.config.index_interval_bytes, self.config.compacts
        )
        loaded = loader.load(log_start_offset, recovery_point, clean_shutdown)
        for segment in loaded.segments:
            self.segments.append(segment)
        self.log_start_offset = loaded.log_start_offset
        self.recovery_point = loaded.recovery_point
        self.hw = HighWatermark(self.segments, self._notify)
        self.load_producer_state()
        self._load_epochs()

    def _load_epochs(self) -> None:
        """The leader-epoch cache, cut to the log as recovered (an epoch whose batches a
        crash lost, or that retention deleted, goes: Kafka's LogLoader does the same). Cut
        in memory only: every load cuts the file's extra entries again, and the next change
        writes the file whole (leader_epochs.py)."""
        self.epochs.load(
            lambda: (header for header, _ in self._batches_from(self.log_start_offset))
        )
        self.epochs.truncate_from_end(self.log_end_offset, write=False)
        self.epochs.truncate_from_start(self.log_start_offset, write=False)

    def load_producer_state(self) -> None:
        """Producers and transactions from the latest snapshot and the batches after it; a
        snapshot past the recovery point of an unclean stop is not trusted for transactions
        (the indexes of what it covers may have been lost)."""
        snapshot = self.producers.load_latest_snapshot(self.log_end_offset)
        start = self.log_start_offset if snapshot is None else snapshot
        if start < self.log_end_offset:
            self.producers.replay(self._batches_from(start))
        self.producers.remove_before(self.log_start_offset)
        trusted = snapshot is not None and snapshot <= self.recovery_point
        self.transactions.load(
            list(self.segments),
            self._batches_from,
            (start, self.producers.snapshot_transactions) if trusted else None,
            self.log_start_offset,
        )

    def _batches_from(self, offset: int) -> Iterator[tuple[BatchHeader, Callable[[], bytes]]]:
        """Stored batches from `offset`, each with a function reading its bytes."""
        for segment in self.segments.from_offset(offset):
            start = segment.index.lookup(offset) if segment.base_offset <= offset else 0
            for header, _ in self.segments.walk(segment, start):
                if header.last_offset >= offset:
                    yield header, partial(segment.read, header.position, header.size)

    # -- appending ----------------------------------------------------------------------

    def append(
        self, header: BatchHeader, records: bytes, now_ms: int, leader_epoch: int | None = None
    ) -> AppendResult:
        """Append one validated batch as received, stamped with its offset and the leader's
        epoch (this broker's `leader_epoch` unless given; a new epoch's start offset goes
        into the leader-epoch cache)."""
        config = self.config
        if self.status.offline:
            raise self.status.refusal(f"Partition {self.name}")
        log_append_time = -1
        if config.message_timestamp_type == "LogAppendTime":
            log_append_time = now_ms
        else:
            check_create_times(
                header,
                records,
                now_ms - config.message_timestamp_before_max_ms,
                now_ms + config.message_timestamp_after_max_ms,
            )
        if config.compacts:
            check_keys(records, self.name)
        if header.has_producer_id:
            duplicate = self.producers.check(header, self.log_end_offset)
            if duplicate is not None:
                # Kafka answers a duplicate with the original batch's timestamp as its
                # log append time, whatever the topic's timestamp type (UnifiedLog.append)
                return AppendResult(
                    duplicate.first_offset, duplicate.last_offset, duplicate.timestamp, True
                )
        return self._write(header, records, now_ms, log_append_time, leader_epoch)

    def append_marker(
        self,
        producer_id: int,
        producer_epoch: int,
        commit: bool,
        now_ms: int,
        coordinator_epoch: int = COORDINATOR_EPOCH,
        leader_epoch: int | None = None,
    ) -> AppendResult:
        """Write the COMMIT or ABORT marker that ends `producer_id`'s transaction here (if it
        has one open: a marker without one is written all the same and ends nothing, as in
        Kafka). Raises INVALID_PRODUCER_EPOCH or TRANSACTION_COORDINATOR_FENCED as Kafka's
        log does for a marker older than the producer's last write or marker."""
        if self.status.offline:
            raise self.status.refusal(f"Partition {self.name}")
        self.producers.check_marker(
            producer_id, producer_epoch, coordinator_epoch, self.log_end_offset
        )
        records = build_marker(producer_id, producer_epoch, commit, coordinator_epoch, now_ms)
        header = read_header(records)
        log_append_time = now_ms if self.config.message_timestamp_type == "LogAppendTime" else -1
        result = self._write(
            header, records, now_ms, log_append_time, leader_epoch, coordinator_epoch
        )
        self.marker_written(producer_id, result.base_offset, commit)
        return result

    def marker_written(self, producer_id: int, offset: int, commit: bool) -> None:
        """A marker now at `offset` ended `producer_id`'s transaction: index an abort."""
        aborted = self.transactions.ended(producer_id, offset, commit)
        if aborted is not None:
            try:
                self.active.txn_index.append(aborted)
            except OSError as exc:
                raise self.status.failed(f"Error while indexing {self.name}", exc) from exc
        self._notify()  # the last stable offset may have moved

    def append_as_follower(self, batches: bytes, now_ms: int) -> AppendResult:
        """Append batches exactly as the leader wrote them (offsets, epochs, producer
        state and markers kept), as Kafka's appendAsFollower: see replica.py."""
        return replica.append_as_follower(self, batches, now_ms)

    def truncate_to(self, offset: int) -> bool:
        """Drop every batch holding `offset` or later (a follower's log diverged from its
        leader's); True if anything went. See replica.py."""
        return replica.truncate_to(self, offset)

    def truncate_fully_and_start_at(self, offset: int) -> None:
        """Drop the whole log and start it again, empty, at `offset` (a follower behind its
        leader's log start offset). See replica.py."""
        replica.truncate_fully_and_start_at(self, offset)

    def truncated(self) -> None:
        """After `truncate_to`: the high watermark (and the limit replication set) come
        down to the new log end offset if they were past it."""
        self._truncations += 1
        self.unflushed_messages = 0
        self.flush_pending = False
        self.hw.truncated()

    def _write(
        self,
        header: BatchHeader,
        records: bytes,
        now_ms: int,
        log_append_time: int,
        leader_epoch: int | None,
        coordinator_epoch: int = NO_COORDINATOR_EPOCH,
    ) -> AppendResult:
        base_offset = self.log_end_offset
        if leader_epoch is None:
            leader_epoch = self.leader_epoch
        prefix = stamp_prefix(header, base_offset, leader_epoch)
        if log_append_time >= 0:
            header.max_timestamp = log_append_time
            stamped = bytearray(prefix) + memoryview(records)[len(prefix) :]
            set_log_append_time(stamped, log_append_time)
            chunks: list[bytes | bytearray | memoryview] = [stamped]
        else:
            chunks = [prefix, memoryview(records)[len(prefix) :]]
        self.store(header, chunks, base_offset, now_ms, leader_epoch)
        if header.has_producer_id:
            self.producers.update(header, base_offset, coordinator_epoch)
            self.transactions.appended(header, base_offset)
        return AppendResult(base_offset, base_offset + header.last_offset_delta, log_append_time)

    def store(
        self,
        header: BatchHeader,
        chunks: list[bytes | bytearray | memoryview],
        base_offset: int,
        now_ms: int,
        leader_epoch: int,
    ) -> None:
        """Write one stamped batch at `base_offset` (rolling first if due), its epoch into
        the cache first (so the checkpoint never lacks an epoch the log holds), and move the
        high watermark if nothing else holds it back."""
        if leader_epoch >= 0:
            self.epochs.assign(leader_epoch, base_offset)
        try:
            segment = self._maybe_roll(header, base_offset, now_ms)
            segment.append(chunks, header, base_offset, header.size)
        except OSError as exc:
            what = f"Error while appending records to {self.name} in dir {self.directory.parent}"
            raise self.status.failed(what, exc) from exc
        self.unflushed_messages += header.record_count
        if self.unflushed_messages >= self.config.flush_messages:
            self.flush_pending = True
        if not self.flush_pending:
            self.hw.advance(self.log_end_offset, segment, segment.size)
        for callback in list(self._append_listeners):
            callback()

    def _maybe_roll(self, header: BatchHeader, base_offset: int, now_ms: int) -> Segment:
        segment = self.active
        if segment.size == 0:
            return segment
        config = self.config
        if (
            segment.size + header.size > config.segment_bytes
            or now_ms - segment.created_ms > config.segment_ms
            or len(segment.index) >= config.max_index_entries
            or base_offset + header.last_offset_delta - segment.base_offset > MAX_RELATIVE_OFFSET
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
        self.segments.append(segment)
        try:
            self.producers.write_snapshot(segment.base_offset, self.transactions.ongoing)
        except OSError as exc:  # an optimisation only: recovery replays the batches instead
            log.warning(
                "%s: no producer state snapshot at %d: %s", self.name, segment.base_offset, exc
            )
        return segment

    def set_high_watermark(self, offset: int) -> None:
        """The high watermark replication allows: what a follower's leader told it, or what
        a leader computed from its in-sync replicas. The HW moves there, bounded by the log
        end offset and by what the flush policy has made durable, and never back (except by
        truncation). The first call makes the log replicated: the HW is set exactly (it was
        the log end offset since opening), and from then on only these calls raise it,
        where on a single broker it follows the log end offset."""
        durable = self.recovery_point if self.flush_pending else self.log_end_offset
        self.hw.replicate(offset, durable)

    @property
    def high_watermark(self) -> int:
        return self.hw.offset

    @property
    def last_stable_offset(self) -> int:
        """Where read_committed consumers stop: the first offset of the oldest open
        transaction (not below the log start offset, where retention or DeleteRecords may
        have moved it, as Kafka's updateFirstUnstableOffset does), or the high watermark."""
        first_unstable = self.transactions.first_unstable_offset()
        if first_unstable is None:
            return self.hw.offset
        return min(max(first_unstable, self.log_start_offset), self.hw.offset)

    def aborted_transactions(self, start: int, end: int) -> list[AbortedTransaction]:
        return self.transactions.aborted_between(start, end)

    # -- flushing -----------------------------------------------------------------------

    def flush_job(self) -> FlushJob | None:
        """A job covering all appended data; None if one is running or all is flushed."""
        if self._flushing or (
            self.recovery_point >= self.log_end_offset and not self.flush_pending
        ):
            return None
        self._flushing = True
        return FlushJob(
            self,
            self.log_end_offset,
            self.active,
            self.active.size,
            self.unflushed_messages,
            self._truncations,
            self.segments.from_offset(self.recovery_point),
            self.active.base_offset >= self.recovery_point,
        )

    @property
    def rolled_unflushed(self) -> bool:
        """Whether segments before the active one hold unflushed data: Kafka flushes a
        segment soon after rolling it, so that recovery need not read it again."""
        return self.recovery_point < self.active.base_offset

    def flushed(self, job: FlushJob, now_ms: int) -> None:
        """Record that `job` completed: data up to `job.offset` is durable and may be read."""
        self._flushing = False
        if job.truncations != self._truncations:
            return  # what it flushed was cut meanwhile: the next job covers the rest
        self.unflushed_messages -= job.messages
        self.recovery_point = max(self.recovery_point, job.offset)
        self.last_flush_ms = now_ms
        self.flush_pending = self.unflushed_messages >= self.config.flush_messages
        if job.offset > self.hw.offset and job.segment in self.segments:
            self.hw.advance(job.offset, job.segment, job.position)
        if not self.flush_pending:
            self.hw.advance(self.log_end_offset, self.active, self.active.size)

    def flush_failed(self, exc: Exception) -> KafkaError:
        """A flush job failed: the directory goes offline; the error to answer with."""
        self._flushing = False
        return self.status.failed(f"Error while flushing log for {self.name}", exc)

    # -- reading ------------------------------------------------------------------------

    def read(
        self, offset: int, max_bytes: int, min_one_batch: bool = True, to_log_end: bool = False
    ) -> bytes:
        """Bytes of whole batches starting with the one containing `offset`, up to the HW
        (up to the log end offset with `to_log_end`: what a follower fetches).

        At most `max_bytes`, except that the first batch is returned whole when
        `min_one_batch` is set (KIP-74), so a consumer always makes progress. The last batch
        may be cut short, as Kafka does; clients drop a partial trailing batch. A read
        stops before damaged bytes; an offset in a damaged range is CORRUPT_MESSAGE.
        """
        return reads.read(self, offset, max_bytes, min_one_batch, to_log_end)

    def stored_batches(self) -> Iterator[bytes]:
        """Every readable batch from the log start, each checked whole (length, magic, CRC):
        for replays that read a partition through (`__consumer_offsets` at start-up)."""
        for segment in list(self.segments):
            for header, data in self.segments.walk(segment, read=True):
                if header.last_offset >= self.log_start_offset:
                    yield data

    def offset_for_timestamp(self, timestamp: int) -> TimestampAndOffset | None:
        """The first record with a timestamp >= `timestamp`, as ListOffsets defines it."""
        return timestamps.offset_for_timestamp(self, timestamp)

    def max_timestamp(self) -> TimestampAndOffset | None:
        """The record with the largest timestamp (ListOffsets MAX_TIMESTAMP)."""
        return timestamps.max_timestamp(self)

    def readable_segments(self) -> list[Segment]:
        """The segments up to the one the high watermark is in."""
        return self.segments[: self.segments.index(self.hw.segment) + 1]

    def read_limit(self, segment: Segment) -> int:
        """Where reads of `segment` stop: the high watermark's position in its segment."""
        return self.hw.read_limit(segment)

    # -- deleting -----------------------------------------------------------------------

    def delete_records_before(self, offset: int, now_ms: int) -> int:
        """DeleteRecords: move the log start offset to `offset` (-1 means the HW)."""
        return retention.delete_records_before(self, offset, now_ms)

    def enforce_retention(self, now_ms: int) -> int:
        """Delete segments past retention.ms or beyond retention.bytes; returns how many."""
        return retention.enforce_retention(self, now_ms)

    def remove_segments(self, doomed: list[Segment], now_ms: int) -> int:
        """Delete the oldest segments, rolling first if that is all of them; how many went.

        If the roll fails (a full disk is when retention matters most), the active segment
        stays and the others are deleted, freeing what they held."""
        if len(doomed) == len(self.segments):
            try:
                self.roll(now_ms)
            except OSError as exc:
                log.warning("%s: keeping the active segment, rolling failed: %s", self.name, exc)
                doomed = doomed[:-1]
            else:
                self.hw.advance(self.log_end_offset, self.active, self.active.size)
        if not doomed:
            return 0
        for segment in doomed:
            self.segments.remove(segment)
            segment.delete()
        self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
        self.producers.remove_before(self.log_start_offset)
        self.transactions.remove_before(self.log_start_offset)
        self.epochs.truncate_from_start(self.log_start_offset)
        log.info(
            "%s: deleted %d segment(s), log start offset now %d",
            self.name,
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
        self.producers.write_snapshot(self.log_end_offset, self.transactions.ongoing)
        self.recovery_point = self.log_end_offset
        for segment in self.segments:
            segment.close()
