"""Idempotent-producer state of one partition: who wrote what, with which sequence numbers.

The rules are Kafka's (ProducerStateManager / ProducerAppendInfo): a batch equal to one of
the producer's last five is a duplicate and is acknowledged with its original offsets; a
sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH.
The state is snapshotted next to the segments (`<offset>.snapshot`) at segment roll and
clean shutdown, and rebuilt from batch headers written after the snapshot, so idempotent
clients keep working across a broker restart.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crc32c import crc32c
from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..files import write_atomically
from ..records.batch import NO_SEQUENCE, BatchHeader

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

    def update(self, header: BatchHeader, first_offset: int) -> None:
        entry = self.entries.get(header.producer_id)
        if entry is None:
            entry = self.entries[header.producer_id] = ProducerEntry(header.producer_id)
        if header.producer_epoch != entry.epoch:
            entry.epoch = header.producer_epoch
            entry.batches.clear()
        entry.batches.append(
            BatchMetadata(
                header.base_sequence,
                header.last_sequence,
                first_offset,
                first_offset + header.last_offset_delta,
                header.max_timestamp,
            )
        )
        entry.last_timestamp = header.max_timestamp

    def replay(self, headers: Iterable[BatchHeader]) -> None:
        """Rebuild state from batches already in the log (recovery), without checks."""
        for header in headers:
            if header.has_producer_id:
                self.update(header, header.base_offset)

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

    def write_snapshot(self, offset: int) -> None:
        entries = [
            [
                e.producer_id,
                e.epoch,
                e.last_timestamp,
                [
                    [b.first_sequence, b.last_sequence, b.first_offset, b.last_offset, b.timestamp]
                    for b in e.batches
                ],
            ]
            for e in self.entries.values()
        ]
        document = {"version": 2, "crc": _crc(entries), "producers": entries}
        write_atomically(self._path(offset), json.dumps(document).encode())
        for old in self.snapshot_offsets()[:-2]:
            self._path(old).unlink(missing_ok=True)

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
                entries = _read_snapshot(path)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("deleting unreadable producer state snapshot %s: %s", path, exc)
                path.unlink(missing_ok=True)
                continue
            self.entries = entries
            return offset
        self.entries = {}
        return None

    def delete_snapshots(self) -> None:
        for offset in self.snapshot_offsets():
            self._path(offset).unlink(missing_ok=True)


def _crc(entries: Any) -> int:
    return int(crc32c(json.dumps(entries, separators=(",", ":")).encode()))


def _read_snapshot(path: Path) -> dict[int, ProducerEntry]:
    document = json.loads(path.read_bytes().decode("utf-8"))
    producers = document["producers"]
    if document.get("version") != 1 and document["crc"] != _crc(producers):
        raise ValueError("its CRC does not match its contents")
    entries = {}
    for producer_id, epoch, last_timestamp, batches in producers:
        entry = ProducerEntry(producer_id, epoch, last_timestamp=last_timestamp)
        entry.batches.extend(BatchMetadata(*b) for b in batches)
        entries[producer_id] = entry
    return entries
