"""Which segments retention and DeleteRecords may delete, chosen from the oldest.

retention.ms counts from a segment's largest timestamp (its creation time when it holds no
timestamp), retention.bytes from the partition's total size, as in Kafka; segments wholly
below the log start offset go too. Nothing at or past the high watermark is ever deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from .errors import LogError
from .segment import NO_TIMESTAMP, Segment

if TYPE_CHECKING:
    from .partition import PartitionLog

Predicate = Callable[[Segment, int], bool]


def delete_records_before(log: PartitionLog, offset: int, now_ms: int) -> int:
    """DeleteRecords: move the log start offset to `offset` (-1 means the HW)."""
    high_watermark = log.high_watermark
    if offset == -1:
        offset = high_watermark
    if offset < 0 or offset > high_watermark:
        raise LogError(
            ErrorCode.offset_out_of_range,
            f"cannot delete records before offset {offset}: the high watermark of"
            f" {log.name} is {high_watermark}",
        )
    if offset > log.log_start_offset:
        log.log_start_offset = offset
        delete_segments(log, lambda s, nxt: nxt <= log.log_start_offset, now_ms)
        log.producers.remove_before(log.log_start_offset)
        log.transactions.remove_before(log.log_start_offset)
        log.epochs.truncate_from_start(log.log_start_offset)
    return log.log_start_offset


def enforce_retention(log: PartitionLog, now_ms: int) -> int:
    """Delete segments past retention.ms or beyond retention.bytes; returns how many."""
    config = log.config
    deleted = 0
    if config.deletes:
        if config.retention_ms >= 0:
            deadline = now_ms - config.retention_ms
            deleted += delete_segments(
                log,
                lambda s, nxt: (
                    s.max_timestamp < deadline
                    if s.max_timestamp != NO_TIMESTAMP
                    else s.created_ms < deadline
                ),
                now_ms,
            )
        if config.retention_bytes >= 0:
            excess = log.size_bytes - config.retention_bytes

            def over_size(segment: Segment, _next: int) -> bool:
                nonlocal excess
                if excess - segment.size < 0:
                    return False
                excess -= segment.size
                return True

            deleted += delete_segments(log, over_size, now_ms)
    deleted += delete_segments(log, lambda s, nxt: nxt <= log.log_start_offset, now_ms)
    return deleted


def delete_segments(log: PartitionLog, predicate: Predicate, now_ms: int) -> int:
    """Delete segments from the oldest while `predicate(segment, next offset)` holds,
    never past the HW; returns how many."""
    segments = log.segments
    high_watermark = log.high_watermark
    doomed: list[Segment] = []
    for i, segment in enumerate(segments):
        is_last = i + 1 == len(segments)
        next_offset = segment.next_offset if is_last else segments[i + 1].base_offset
        if next_offset > high_watermark and not is_last:
            break
        if is_last and (segment.size == 0 or high_watermark < log.log_end_offset):
            break
        if not predicate(segment, next_offset):
            break
        doomed.append(segment)
    return log.remove_segments(doomed, now_ms) if doomed else 0
