"""Producer-state snapshot files (`<offset>.snapshot`) in Kafka's format, bytes only.

Kafka's ProducerStateManager writes the message ProducerSnapshot (version 1, not flexible):
Version int16, Crc uint32 (CRC32C of every byte after it), then an array (int32 count) of
ProducerEntry {ProducerId int64, Epoch int16, LastSequence int32, LastOffset int64,
OffsetDelta int32, Timestamp int64, CoordinatorEpoch int32, CurrentTxnFirstOffset int64}: one
entry per producer, holding its last batch only. Writing the same bytes lets Kafka's tools
(`kafka-dump-log.sh --files 00000000000000000042.snapshot`) read them, and readers refuse
what Kafka's readSnapshot refuses, with its messages.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from crc32c import crc32c

VERSION = 1
NO_OFFSET = -1
_HEADER = struct.Struct(">hI")
_COUNT = struct.Struct(">i")
_ENTRY = struct.Struct(">qhiqiqiq")


class CorruptSnapshot(ValueError):
    """A snapshot Kafka's readSnapshot would refuse (CorruptSnapshotException)."""


@dataclass(frozen=True, slots=True)
class SnapshotEntry:
    """One producer as Kafka snapshots it; `last_offset` is -1 when it has no batch."""

    producer_id: int
    epoch: int
    last_sequence: int
    last_offset: int
    offset_delta: int
    timestamp: int
    coordinator_epoch: int = -1
    current_txn_first_offset: int = NO_OFFSET


def encode(entries: Sequence[SnapshotEntry]) -> bytes:
    body = _COUNT.pack(len(entries)) + b"".join(
        _ENTRY.pack(
            e.producer_id,
            e.epoch,
            e.last_sequence,
            e.last_offset,
            e.offset_delta,
            e.timestamp,
            e.coordinator_epoch,
            e.current_txn_first_offset,
        )
        for e in entries
    )
    return _HEADER.pack(VERSION, crc32c(body)) + body


def decode(data: bytes) -> list[SnapshotEntry]:
    """The entries of a snapshot file; CorruptSnapshot (Kafka's message) when it is not one."""
    try:
        version, stored_crc = _HEADER.unpack_from(data)
        if version != VERSION:
            raise CorruptSnapshot(f"Snapshot contained an unknown file version {version}")
        (count,) = _COUNT.unpack_from(data, _HEADER.size)
        start = _HEADER.size + _COUNT.size
        if count < 0:
            raise CorruptSnapshot("non-nullable field producerEntries was serialized as null")
        if count > len(data) - start:
            raise CorruptSnapshot(
                f"Tried to allocate a collection of size {count}, but there are only"
                f" {len(data) - start} bytes remaining."
            )
        entries = [
            SnapshotEntry(*_ENTRY.unpack_from(data, start + n * _ENTRY.size)) for n in range(count)
        ]
    except (struct.error, CorruptSnapshot) as exc:
        raise CorruptSnapshot(f"Snapshot failed schema validation: {exc}") from None
    computed_crc = crc32c(data[_HEADER.size :])
    if stored_crc != computed_crc:
        raise CorruptSnapshot(
            "Snapshot is corrupt (CRC is no longer valid). Stored crc: "
            f"{stored_crc}. Computed crc: {computed_crc}"
        )
    return entries
