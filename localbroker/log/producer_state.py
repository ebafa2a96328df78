"""Idempotent-producer state of one partition: who wrote what, with which sequence numbers.

The rules are Kafka's (ProducerStateManager / ProducerAppendInfo): a batch equal to one of
the producer's last five is a duplicate and is acknowledged with its original offsets; a
sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH.
The state is snapshotted next to the segments (`<offset>.snapshot`, Kafka's format: see
producer_snapshot.py) at segment roll and clean shutdown, and rebuilt from batch headers
written after the snapshot, so idempotent clients keep working across a broker restart. As in
Kafka, a snapshot keeps each producer's last batch only, so after a restart a retry is
recognised as a duplicate if it repeats that batch or one written after the snapshot.
A snapshot that cannot be read (damaged, or the JSON that localbroker wrote before it wrote
Kafka's format) is deleted and the state rebuilt from the log instead, as Kafka does.
Snapshots also carry each producer's open transaction (its first offset, Kafka's
CurrentTxnFirstOffset), so the last stable offset is right at once after a restart.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..files import write_atomically
from ..records.batch import NO_SEQUENCE, BatchHeader
from ..records.control import NO_COORDINATOR_EPOCH, marker_coordinator_epoch
from .producer_snapshot import NO_OFFSET, CorruptSnapshot, SnapshotEntry, decode, encode

MAX_CACHED_BATCHES = 5
NO_PRODUCER_EPOCH = -1
_MAX_SEQUENCE = 2**31 - 1
SNAPSHOT_SUFFIX = ".snapshot"

log = logging.getLogger(__name__)


class ProducerStateError(KafkaError):
    """A batch whose producer epoch or sequence breaks the idempotence rules."""


@dataclass(slots=True)
class BatchMetadata:
    first_sequence: int
    last_sequence: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass(slots=True)
class ProducerEntry:
    producer_id: int
    epoch: int = NO_PRODUCER_EPOCH
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=MAX_CACHED_BATCHES))
    last_timestamp: int = -1
    coordinator_epoch: int = NO_COORDINATOR_EPOCH
    """The coordinator epoch of the producer's last marker here (-1 before any), as
    DescribeProducers reports it and as a marker's is checked against."""

    @property
    def last_sequence(self) -> int:
        return self.batches[-1].last_sequence if self.batches else NO_SEQUENCE

    @property
    def last_offset(self) -> int:
        return self.batches[-1].last_offset if self.batches else -1

    def find_duplicate(self, header: BatchHeader) -> BatchMetadata | None:
        if header.producer_epoch != self.epoch:
            return None
        for batch in self.batches:
            if (
                batch.first_sequence == header.base_sequence
                and batch.last_sequence == header.last_sequence
            ):
                return batch
        return None


def _in_sequence(last_sequence: int, next_sequence: int) -> bool:
    return next_sequence == last_sequence + 1 or (
        next_sequence == 0 and last_sequence == _MAX_SEQUENCE
    )


class ProducerState:
    """Producer entries of one partition, checked before and updated after each append."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.entries: dict[int, ProducerEntry] = {}
        self.snapshot_transactions: dict[int, int] = {}
        """The open transactions of the snapshot loaded last: producer id, first offset."""

    def check(self, header: BatchHeader, offset_hint: int) -> BatchMetadata | None:
        """The original batch if `header` repeats one, None if it may be appended; raises if not."""
        entry = self.entries.get(header.producer_id)
        if entry is None:
            return None
        duplicate = entry.find_duplicate(header)
        if duplicate is not None:
            return duplicate
        epoch = header.producer_epoch
        where = f"producer {header.producer_id} at offset {offset_hint}"
        if epoch < entry.epoch:
            raise ProducerStateError(
                ErrorCode.invalid_producer_epoch,
                f"epoch of {where} is {epoch}, smaller than the last seen epoch {entry.epoch}",
            )
        if epoch != entry.epoch:
            if header.base_sequence != 0 and entry.epoch != NO_PRODUCER_EPOCH:
                raise ProducerStateError(
                    ErrorCode.out_of_order_sequence_number,
                    f"invalid sequence number {header.base_sequence} for new epoch {epoch}"
                    f" of {where}: expected 0",
                )
        elif entry.batches and not _in_sequence(entry.last_sequence, header.base_sequence):
            raise ProducerStateError(
                ErrorCode.out_of_order_sequence_number,
                f"out of order sequence number for {where}: {header.base_sequence}"
                f" (incoming) after {entry.last_sequence} (last written)",
            )
        return None

    def check_marker(
        self, producer_id: int, epoch: int, coordinator_epoch: int, offset_hint: int
    ) -> None:
        """Kafka's checks of a marker (ProducerAppendInfo.appendEndTxnMarker): not from an
        older producer epoch, nor from a coordinator older than the last marker's."""
        entry = self.entries.get(producer_id)
        if entry is None:
            return
        where = f"producer {producer_id} at offset {offset_hint}"
        if epoch < entry.epoch:
            raise ProducerStateError(
                ErrorCode.invalid_producer_epoch,
                f"epoch of {where} is {epoch}, smaller than the last seen epoch {entry.epoch}",
            )
        if coordinator_epoch < entry.coordinator_epoch:
            raise ProducerStateError(
                ErrorCode.transaction_coordinator_fenced,
                f"invalid coordinator epoch for {where}: {coordinator_epoch} (zombie),"
                f" {entry.coordinator_epoch} (current)",
            )

    def update(
        self, header: BatchHeader, first_offset: int, coordinator_epoch: int = NO_COORDINATOR_EPOCH
    ) -> None:
        """Record an appended batch; a marker's `coordinator_epoch` with it."""
        entry = self.entries.get(header.producer_id)
        if entry is None:
            entry = self.entries[header.producer_id] = ProducerEntry(header.producer_id)
        if header.producer_epoch != entry.epoch:
            entry.epoch = header.producer_epoch
            entry.batches.clear()
        entry.last_timestamp = header.max_timestamp
        if header.is_control:  # a transaction marker (appendEndTxnMarker)
            entry.coordinator_epoch = coordinator_epoch
            return
        entry.batches.append(
            BatchMetadata(
                header.base_sequence,
                header.last_sequence,
                first_offset,
                first_offset + header.last_offset_delta,
                header.max_timestamp,
            )
        )

    def replay(self, batches: Iterable[tuple[BatchHeader, Callable[[], bytes]]]) -> None:
        """Rebuild state from batches already in the log (recovery), without checks; the
        bytes of markers only are read, for their coordinator epoch."""
        for header, read in batches:
            if not header.has_producer_id:
                continue
            epoch = NO_COORDINATOR_EPOCH
            if header.is_control:
                epoch = marker_coordinator_epoch(read())
            self.update(header, header.base_offset, epoch)

    def remove_before(self, log_start_offset: int) -> None:
        """Forget producers whose last write was deleted by retention or DeleteRecords."""
        stale = [pid for pid, e in self.entries.items() if e.last_offset < log_start_offset]
        for pid in stale:
            del self.entries[pid]

    def expire(self, now_ms: int, expiration_ms: int) -> None:
        stale = [
            pid for pid, e in self.entries.items() if now_ms - e.last_timestamp >= expiration_ms
        ]
        for pid in stale:
            del self.entries[pid]

    # -- snapshots ----------------------------------------------------------------------

    def snapshot_offsets(self) -> list[int]:
        offsets = []
        for path in self.directory.glob(f"*{SNAPSHOT_SUFFIX}"):
            try:
                offsets.append(int(path.name[: -len(SNAPSHOT_SUFFIX)]))
            except ValueError:
                continue
        return sorted(offsets)

    def _path(self, offset: int) -> Path:
        return self.directory / f"{offset:020d}{SNAPSHOT_SUFFIX}"

    def write_snapshot(self, offset: int, transactions: Mapping[int, int] | None = None) -> None:
        """Snapshot at `offset`, with `transactions` open (producer id: first offset)."""
        transactions = transactions or {}
        entries = [
            _snapshot_entry(entry, transactions.get(pid, NO_OFFSET))
            for pid, entry in self.entries.items()
        ]
        entries += [  # producers whose last write went, their transaction still open
            SnapshotEntry(pid, NO_PRODUCER_EPOCH, NO_SEQUENCE, NO_OFFSET, 0, -1, -1, first)
            for pid, first in transactions.items()
            if pid not in self.entries
        ]
        write_atomically(self._path(offset), encode(entries))
        for old in self.snapshot_offsets()[:-2]:
            self._path(old).unlink(missing_ok=True)

    def delete_snapshots_after(self, offset: int) -> None:
        """Delete snapshots past `offset` (the log is being cut there)."""
        for snapshot in self.snapshot_offsets():
            if snapshot > offset:
                self._path(snapshot).unlink(missing_ok=True)

    def load_latest_snapshot(self, log_end_offset: int) -> int | None:
        """Load the newest readable snapshot at or below the log end; its offset, or None.

        Snapshots beyond the log end, and unreadable ones (cut, garbage, a CRC that does not
        match, as Kafka checks its own), are deleted: the batches rebuild what they held.
        """
        for offset in reversed(self.snapshot_offsets()):
            path = self._path(offset)
            if offset > log_end_offset:
                path.unlink(missing_ok=True)
                continue
            try:
                entries = decode(path.read_bytes())
            except (OSError, CorruptSnapshot) as exc:
                log.warning("deleting unreadable producer state snapshot %s: %s", path, exc)
                path.unlink(missing_ok=True)
                continue
            self.entries = {e.producer_id: _producer_entry(e) for e in entries}
            self.snapshot_transactions = {
                e.producer_id: e.current_txn_first_offset
                for e in entries
                if e.current_txn_first_offset != NO_OFFSET
            }
            return offset
        self.entries = {}
        self.snapshot_transactions = {}
        return None

    def delete_snapshots(self) -> None:
        for offset in self.snapshot_offsets():
            self._path(offset).unlink(missing_ok=True)


def _snapshot_entry(entry: ProducerEntry, current_txn_first_offset: int) -> SnapshotEntry:
    last = entry.batches[-1] if entry.batches else None
    return SnapshotEntry(
        entry.producer_id,
        entry.epoch,
        entry.last_sequence,
        entry.last_offset,
        0 if last is None else last.last_offset - last.first_offset,
        entry.last_timestamp,
        entry.coordinator_epoch,
        current_txn_first_offset,
    )


def _producer_entry(stored: SnapshotEntry) -> ProducerEntry:
    """A producer as a snapshot restores it: its last batch, if it has one (as Kafka's
    readSnapshot restores a ProducerStateEntry)."""
    entry = ProducerEntry(
        stored.producer_id,
        stored.epoch,
        last_timestamp=stored.timestamp,
        coordinator_epoch=stored.coordinator_epoch,
    )
    if stored.last_offset != NO_OFFSET:
        first_sequence = stored.last_sequence - stored.offset_delta
        if first_sequence < 0:  # the batch spans the wrap after 2**31-1
            first_sequence += _MAX_SEQUENCE + 1
        entry.batches.append(
            BatchMetadata(
                first_sequence,
                stored.last_sequence,
                stored.last_offset - stored.offset_delta,
                stored.last_offset,
                stored.timestamp,
            )
        )
    return entry
