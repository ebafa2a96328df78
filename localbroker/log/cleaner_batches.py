"""What the log cleaner keeps of each batch: Kafka's offset map, its transaction bookkeeping
(CleanedTransactionMetadata) and its record filter (LogCleaner's RecordFilter applied by
MemoryRecords.filterTo), on bytes only, so every rule can be tested without files.

A record survives when it holds the latest offset of its key in the dirty section (or lies
past it); a tombstone survives until the delete horizon written into its batch; records of
aborted transactions go, their ABORT marker stays until no batch of the transaction is
left, and a COMMIT marker stays while batches of its transaction remain. A batch that keeps
every record is copied as it is; one that loses some is rewritten with the same base offset
and last offset delta (so producer sequences survive), the same producer fields, codec and
timestamp type; an emptied batch that carries an active producer's last sequence, or ends
the cleaning round, is kept as an empty header, as Kafka keeps it.
"""

from __future__ import annotations

import heapq
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from crc32c import crc32c

from ..records.batch import (
    COMPRESSION_MASK,
    CRC_START,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    read_header,
)
from ..records.builder import NewRecord, encode_record
from ..records.codecs import compress
from ..records.control import ControlRecordType, marker_type
from ..records.reader import Record, iter_records
from .txn_index import AbortedTransaction

DELETE_HORIZON_BIT = 0x40
"""DefaultRecordBatch's DELETE_HORIZON_FLAG_MASK: the base timestamp is the delete horizon."""
OFFSET_MAP_ENTRY_BYTES = 24
"""What one key takes in Kafka's SkimpyOffsetMap (an MD5 hash and an offset)."""


class OffsetMap:
    """The latest offset of each key of the dirty section, bounded as Kafka's map is bounded
    by log.cleaner.dedupe.buffer.size and its load factor."""

    def __init__(self, buffer_bytes: int, load_factor: float = 0.9) -> None:
        self.capacity = max(int(buffer_bytes // OFFSET_MAP_ENTRY_BYTES * load_factor), 1)
        self.offsets: dict[bytes, int] = {}
        self.latest_offset = -1

    @property
    def full(self) -> bool:
        return len(self.offsets) >= self.capacity

    def put(self, key: bytes, offset: int) -> None:
        self.offsets[key] = offset
        self.latest_offset = offset

    def get(self, key: bytes) -> int:
        return self.offsets.get(key, -1)


class CleanedTransactions:
    """Kafka's CleanedTransactionMetadata: which transactions a walk in offset order is
    inside, given the aborted ranges of the partition."""

    def __init__(self, aborted: Iterable[AbortedTransaction]) -> None:
        self._aborted = [(txn.first_offset, txn.producer_id, txn) for txn in aborted]
        heapq.heapify(self._aborted)
        self._ongoing_committed: set[int] = set()
        self._ongoing_aborted: dict[int, tuple[AbortedTransaction, int | None]] = {}
        """Producer id -> its aborted transaction and the last offset of a batch seen of it."""
        self.retained: list[AbortedTransaction] = []
        """Aborted transactions whose ABORT marker stays (batches of theirs remain): the
        cleaned segment's `.txnindex` lists them, as Kafka's cleanedIndex does."""

    def _consume_up_to(self, offset: int) -> None:
        while self._aborted and self._aborted[0][0] <= offset:
            _, producer_id, txn = heapq.heappop(self._aborted)
            self._ongoing_aborted.setdefault(producer_id, (txn, None))

    def on_control(self, header: BatchHeader, data: bytes) -> bool:
        """A control batch was read; True if it may be discarded."""
        self._consume_up_to(header.last_offset)
        if header.record_count == 0:
            return True  # an empty control batch was cleaned before
        kind = marker_type(data)
        if kind is ControlRecordType.ABORT:
            txn, last_seen = self._ongoing_aborted.pop(header.producer_id, (None, None))
            if txn is not None and last_seen is not None:
                self.retained.append(txn)
            return last_seen is None
        if kind is ControlRecordType.COMMIT:
            if header.producer_id in self._ongoing_committed:
                self._ongoing_committed.discard(header.producer_id)
                return False
            return True
        return False

    def on_data(self, header: BatchHeader) -> bool:
        """A data batch was read; True if it belongs to an aborted transaction."""
        self._consume_up_to(header.last_offset)
        if not header.is_transactional:
            return False
        ongoing = self._ongoing_aborted.get(header.producer_id)
        if ongoing is not None:
            self._ongoing_aborted[header.producer_id] = (ongoing[0], header.last_offset)
            return True
        self._ongoing_committed.add(header.producer_id)
        return False


def map_batch(offset_map: OffsetMap, data: bytes, start: int, txns: CleanedTransactions) -> bool:
    """Add the keys of one stored batch at or after `start` to the map (buildOffsetMapForSegment);
    True when the map filled up before the batch was done."""
    header = read_header(data)
    if header.is_control:
        txns.on_control(header, data)
        return False
    if txns.on_data(header):
        return False
    for record in iter_records(data):
        if record.key is not None and record.offset >= start:
            if offset_map.full:
                return True
            offset_map.put(record.key, record.offset)
    return False


@dataclass(frozen=True, slots=True)
class LastRecord:
    """What an active producer's state needs kept (UnifiedLog.lastRecordsOfActiveProducers)."""

    last_data_offset: int | None
    producer_epoch: int


@dataclass(slots=True)
class BatchFilter:
    """The cleaner's RecordFilter for one cleaning round."""

    offset_map: OffsetMap
    now_ms: int
    delete_retention_ms: int
    txns: CleanedTransactions
    active_producers: dict[int, LastRecord]
    upper_bound: int
    """The first offset the round does not clean."""

    def filter(self, data: bytes) -> bytes | None:
        """What of the stored batch `data` stays: the same bytes, a rewritten batch, an empty
        header, or None."""
        header = read_header(data)
        horizon = header.base_timestamp if header.attributes & DELETE_HORIZON_BIT else None
        if header.is_control:
            can_discard = self.txns.on_control(header, data)
            discard_records = can_discard and horizon is not None and horizon <= self.now_ms
        else:
            can_discard = self.txns.on_data(header)
            discard_records = can_discard
        # Kafka's BatchRetention: RETAIN_EMPTY for an active producer's last batch and for
        # the round's last batch (its offsets must stay known), DELETE when every record may
        # go, DELETE_EMPTY otherwise.
        retain_empty = (
            header.has_producer_id and self._last_of_producer(header)
        ) or header.next_offset == self.upper_bound
        if discard_records and not retain_empty:
            return None
        records = list(iter_records(data))
        kept = [
            r
            for r in records
            if not discard_records and (header.is_control or self._keeps(r, horizon))
        ]
        if kept:
            tombstones = any(r.value is None for r in kept)
            needs_horizon = (tombstones or (can_discard and header.is_control)) and horizon is None
            if len(kept) == len(records) and not needs_horizon:
                return data
            if needs_horizon:
                horizon = self.now_ms + self.delete_retention_ms
            return rewrite(header, data, kept, horizon)
        return empty_batch(header) if retain_empty else None

    def _last_of_producer(self, header: BatchHeader) -> bool:
        last = self.active_producers.get(header.producer_id)
        if last is None:
            return False
        if last.last_data_offset is not None:
            return header.last_offset == last.last_data_offset
        return header.is_control and header.producer_epoch == last.producer_epoch

    def _keeps(self, record: Record, horizon: int | None) -> bool:
        if record.offset > self.offset_map.latest_offset:
            return True
        if record.key is None:
            return False
        if record.offset < self.offset_map.get(record.key):
            return False
        return record.value is not None or horizon is None or self.now_ms < horizon


def rewrite(header: BatchHeader, data: bytes, kept: list[Record], horizon: int | None) -> bytes:
    """A batch of the `kept` records as MemoryRecordsBuilder writes it for the cleaner: same
    base offset and last offset delta, producer fields, codec and timestamp type; the base
    timestamp is the delete horizon when there is one."""
    base_timestamp = kept[0].timestamp if horizon is None else horizon
    body = b"".join(
        encode_record(
            NewRecord(r.value, r.key, r.headers),
            r.offset - header.base_offset,
            r.timestamp - base_timestamp,
        )
        for r in kept
    )
    payload = compress(header.compression, body)
    attributes = header.attributes & ~DELETE_HORIZON_BIT
    if horizon is not None:
        attributes |= DELETE_HORIZON_BIT
    max_timestamp = (
        header.max_timestamp if header.log_append_time else max(r.timestamp for r in kept)
    )
    batch = bytearray(
        HEADER.pack(
            header.base_offset,
            HEADER_SIZE - LOG_OVERHEAD + len(payload),
            header.partition_leader_epoch,
            2,
            0,
            attributes,
            header.last_offset_delta,
            base_timestamp,
            max_timestamp,
            header.producer_id,
            header.producer_epoch,
            header.base_sequence,
            len(kept),
        )
    )
    batch += payload
    struct.pack_into(">I", batch, 17, crc32c(memoryview(batch)[CRC_START:]))
    return bytes(batch)


def empty_batch(header: BatchHeader) -> bytes:
    """DefaultRecordBatch.writeEmptyHeader: no records, the offsets and producer fields kept."""
    attributes = header.attributes & ~(COMPRESSION_MASK | DELETE_HORIZON_BIT)
    batch = bytearray(
        HEADER.pack(
            header.base_offset,
            HEADER_SIZE - LOG_OVERHEAD,
            header.partition_leader_epoch,
            2,
            0,
            attributes,
            header.last_offset_delta,
            header.max_timestamp,
            header.max_timestamp,
            header.producer_id,
            header.producer_epoch,
            header.base_sequence,
            0,
        )
    )
    struct.pack_into(">I", batch, 17, crc32c(memoryview(batch)[CRC_START:]))
    return bytes(batch)
