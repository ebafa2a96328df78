"""Open and aborted transactions of one partition: the last stable offset and what
read_committed consumers must skip.

As Kafka's ProducerStateManager tracks them: a producer's first transactional batch opens
its transaction at that offset; its marker closes it, and an ABORT marker records the
aborted range (producer id, first offset, marker offset), which Fetch hands to
read_committed consumers so they drop that producer's records in the range. The first
offset of the oldest open transaction bounds the last stable offset.

Kafka keeps the aborted ranges in each segment's `.txnindex`; here they are kept in memory
and rebuilt at load from the batch headers (and the control batches' one record) of the
whole log, so they can never disagree with the log.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..records.batch import LOG_OVERHEAD, BatchHeader, crc_matches, peek_offsets, read_header
from ..records.control import ControlRecordType, marker_type


@dataclass(frozen=True, slots=True)
class AbortedTransaction:
    producer_id: int
    first_offset: int
    last_offset: int
    """The offset of the ABORT marker."""


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

    def ended(self, producer_id: int, marker_offset: int, commit: bool) -> None:
        """A marker was appended; a marker for no open transaction changes nothing (a marker
        written again after a restart)."""
        first = self.ongoing.pop(producer_id, None)
        if first is not None and not commit:
            self.aborted.append(AbortedTransaction(producer_id, first, marker_offset))
            self._last_offsets.append(marker_offset)

    def replay(self, batches: Iterable[tuple[BatchHeader, Callable[[], bytes]]]) -> None:
        """Rebuild from stored batches in offset order; each comes with a function reading
        its bytes, called for control batches only (one small record each)."""
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
