"""Open and aborted transactions of one partition: the last stable offset and what
read_committed consumers must skip.

As Kafka's ProducerStateManager tracks them: a producer's first transactional batch opens
its transaction at that offset; its marker closes it, and an ABORT marker records the
aborted range (producer id, first offset, marker offset), which Fetch hands to
read_committed consumers so they drop that producer's records in the range. The first
offset of the oldest open transaction bounds the last stable offset.

Aborted ranges are kept in memory and in each segment's `.txnindex` (txn_index.py), the one
the marker is in; open transactions in the producer state snapshot (its
CurrentTxnFirstOffset). Opening a log reads both and replays only the batches after the
snapshot, as Kafka's recovery does. Without a usable snapshot, or with an index missing or
damaged, or a snapshot past what was fsynced before an unclean stop, everything is rebuilt
from the batch headers (and the control batches' one record) of the whole log, and the
indexes rewritten.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from ..records.batch import LOG_OVERHEAD, BatchHeader, crc_matches, peek_offsets, read_header
from ..records.control import ControlRecordType, marker_type
from .txn_index import AbortedTransaction

if TYPE_CHECKING:
    from .segment import Segment

log = logging.getLogger(__name__)

Batches = Iterable[tuple[BatchHeader, Callable[[], bytes]]]
"""Stored batches in offset order, each with a function reading its bytes."""


class PartitionTransactions:
    def __init__(self) -> None:
        self.ongoing: dict[int, int] = {}
        """The first offset of each producer's open transaction."""
        self.aborted: list[AbortedTransaction] = []
        """In marker (so `last_offset`) order."""
        self._last_offsets: list[int] = []

    def appended(self, header: BatchHeader, base_offset: int) -> None:
        """A data batch was appended at `base_offset`."""
        if header.is_transactional and not header.is_control:
            self.ongoing.setdefault(header.producer_id, base_offset)

    def ended(
        self, producer_id: int, marker_offset: int, commit: bool
    ) -> AbortedTransaction | None:
        """A marker was appended: the transaction it aborted, for the segment's index. A
        marker for no open transaction changes nothing (a marker written again after a
        restart)."""
        first = self.ongoing.pop(producer_id, None)
        if first is None or commit:
            return None
        # Kafka's ProducerStateManager.lastStableOffset(completedTxn)
        stable = min(self.ongoing.values(), default=marker_offset + 1)
        aborted = AbortedTransaction(producer_id, first, marker_offset, stable)
        self._add(aborted)
        return aborted

    def _add(self, aborted: AbortedTransaction) -> None:
        self.aborted.append(aborted)
        self._last_offsets.append(aborted.last_offset)

    def load(
        self,
        segments: Sequence[Segment],
        batches_from: Callable[[int], Batches],
        snapshot: tuple[int, Mapping[int, int]] | None,
        log_start_offset: int,
    ) -> None:
        """Open: `snapshot` is the offset of a producer state snapshot that may be trusted
        and the open transactions it holds (producer id: first offset), or None."""
        indexed = None if snapshot is None else _read_indexes(segments)
        if snapshot is None or indexed is None:
            self.replay(batches_from(log_start_offset))
            rewrite_from = -1
        else:
            rewrite_from, ongoing = snapshot
            self.ongoing = dict(ongoing)
            for aborted in indexed:
                if aborted.last_offset < rewrite_from:
                    self._add(aborted)
            self.replay(batches_from(rewrite_from))
        self._write_indexes(segments, rewrite_from)
        self.remove_before(log_start_offset)

    def _write_indexes(self, segments: Sequence[Segment], after: int) -> None:
        """Rewrite the indexes of segments ending after offset `after` that do not hold
        exactly the aborted transactions whose markers are in them."""
        for i, segment in enumerate(segments):
            end = segments[i + 1].base_offset if i + 1 < len(segments) else segment.next_offset
            if end <= after:
                continue
            low = bisect_left(self._last_offsets, segment.base_offset)
            high = bisect_left(self._last_offsets, end)
            entries = self.aborted[low:high]
            if segment.txn_index.read(segment.base_offset, end) != entries:
                segment.txn_index.rewrite(entries)

    def replay(self, batches: Batches) -> None:
        """Rebuild from stored batches in offset order; the bytes of control batches only are
        read (one small record each)."""
        for header, read in batches:
            if not header.is_transactional or not header.has_producer_id:
                continue
            if not header.is_control:
                self.appended(header, header.base_offset)
                continue
            data = read()
            if not crc_matches(data, read_header(data)):
                continue  # damaged: reported when read, as every damaged batch is
            kind = marker_type(data)
            if kind is not None:
                self.ended(header.producer_id, header.base_offset, kind == ControlRecordType.COMMIT)

    def first_unstable_offset(self) -> int | None:
        return min(self.ongoing.values(), default=None)

    def aborted_between(self, start: int, end: int) -> list[AbortedTransaction]:
        """Aborted transactions a read of offsets [start, end) may meet."""
        index = bisect_left(self._last_offsets, start)
        return [txn for txn in self.aborted[index:] if txn.first_offset < end]

    def remove_before(self, log_start_offset: int) -> None:
        """Forget aborted transactions entirely deleted (retention, DeleteRecords)."""
        index = bisect_left(self._last_offsets, log_start_offset)
        del self.aborted[:index]
        del self._last_offsets[:index]


def batches_below(data: bytes, limit: int) -> bytes:
    """The batches of a read that start below `limit` (the last stable offset, which always
    falls on a batch boundary: a transaction's first batch, or the high watermark)."""
    position = 0
    while position + LOG_OVERHEAD <= len(data):
        base_offset, size = peek_offsets(data, position)
        if base_offset >= limit:
            return data[:position]
        position += size
    return data


def _read_indexes(segments: Sequence[Segment]) -> list[AbortedTransaction] | None:
    """Every segment's index entries in order; None if one is missing or damaged."""
    entries: list[AbortedTransaction] = []
    for i, segment in enumerate(segments):
        end = segments[i + 1].base_offset if i + 1 < len(segments) else segment.next_offset
        indexed = segment.txn_index.read(segment.base_offset, end)
        if indexed is None:
            log.warning("%s is missing or damaged: rebuilding it", segment.txn_index.path)
            return None
        entries += indexed
    return entries
