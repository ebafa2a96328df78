"""ListOffsets by time: the first record at or after a timestamp, and the record with the
largest timestamp, found through the time and offset indexes and then the records of one
batch (each batch checked before its records are read)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from ..records.batch import BatchHeader
from ..records.reader import iter_records
from .segment import NO_TIMESTAMP, CorruptSegment, Segment

if TYPE_CHECKING:
    from .partition import PartitionLog


@dataclass(frozen=True, slots=True)
class TimestampAndOffset:
    timestamp: int
    offset: int


def offset_for_timestamp(log: PartitionLog, timestamp: int) -> TimestampAndOffset | None:
    for segment in log.readable_segments():
        if segment.max_timestamp < timestamp:
            continue
        found = log.segments.checked(segment, partial(_first_at, log, segment, timestamp))
        if found is not None:
            return found
    return None


def _first_at(log: PartitionLog, segment: Segment, timestamp: int) -> TimestampAndOffset | None:
    start_offset = max(segment.time_index.lookup(timestamp), log.log_start_offset)
    position = segment.index.lookup(start_offset)
    for header in segment.headers(position, log.read_limit(segment)):
        if header.max_timestamp < timestamp or header.last_offset < log.log_start_offset:
            continue
        found = _record_at_or_after(log, segment, header, timestamp)
        if found is not None:
            return found
    return None


def max_timestamp(log: PartitionLog) -> TimestampAndOffset | None:
    best: Segment | None = None
    for segment in log.segments:
        if best is None or segment.max_timestamp > best.max_timestamp:
            best = segment
    if best is None or best.max_timestamp == NO_TIMESTAMP:
        return None
    return log.segments.checked(best, partial(_max_in, log, best))


def _max_in(log: PartitionLog, segment: Segment) -> TimestampAndOffset | None:
    header = segment.find_batch(segment.offset_of_max_timestamp, segment.size)
    if header is None:
        return None
    return _record_at_or_after(log, segment, header, segment.max_timestamp)


def _record_at_or_after(
    log: PartitionLog, segment: Segment, header: BatchHeader, timestamp: int
) -> TimestampAndOffset | None:
    data = segment.read(header.position, header.size)
    if segment.check_read(data, header.position) < len(data):
        raise CorruptSegment(header.position, "CRC mismatch")
    for record in iter_records(data):
        if record.offset >= log.log_start_offset and record.timestamp >= timestamp:
            return TimestampAndOffset(record.timestamp, record.offset)
    return None
