"""Reading a partition log: whole batches from the one holding an offset, up to the high
watermark (a consumer) or the log end offset (a follower replicating it, as Kafka's
FetchIsolation.LOG_END), damage checked on the way (see damage.py and segments.py)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from .errors import LogError
from .segment import CorruptSegment, Segment

if TYPE_CHECKING:
    from .partition import PartitionLog


def read(
    log: PartitionLog, offset: int, max_bytes: int, min_one_batch: bool, to_log_end: bool
) -> bytes:
    if offset < log.log_start_offset or offset > log.log_end_offset:
        raise LogError(
            ErrorCode.offset_out_of_range,
            f"offset {offset} is outside {log.log_start_offset}..{log.log_end_offset}"
            f" of {log.name}",
        )
    end = log.log_end_offset if to_log_end else log.hw.offset
    if offset >= end:
        return b""
    last = log.active if to_log_end else log.hw.segment
    try:
        for segment in log.segments.from_offset(offset):
            try:
                data = _read_segment(log, segment, offset, max_bytes, min_one_batch, to_log_end)
            except CorruptSegment as exc:
                again = partial(
                    _read_segment, log, segment, offset, max_bytes, min_one_batch, to_log_end
                )
                data = log.segments.rescanned(segment, again, exc)
            if data is not None:
                return data
            if segment is last:
                break
    except OSError as exc:
        raise KafkaError(
            ErrorCode.kafka_storage_error, f"Error while reading {log.name}: {exc}"
        ) from exc
    return b""


def _read_segment(
    log: PartitionLog,
    segment: Segment,
    offset: int,
    max_bytes: int,
    min_one_batch: bool,
    to_log_end: bool,
) -> bytes | None:
    damaged = bool(segment.damages)
    if damaged:
        log.segments.check_damage(segment, offset)
    limit = segment.size if to_log_end else log.hw.read_limit(segment)
    header = segment.find_batch(offset, limit)
    if header is None:
        return None
    position = header.position
    if header.base_offset > offset and segment.unverified:
        raise CorruptSegment(position, f"no batch holds offset {offset}")
    available = (segment.readable_end(position, limit) if damaged else limit) - position
    if min_one_batch:
        size = min(available, max(max_bytes, header.size))
    elif max_bytes < header.size:
        return b""
    else:
        size = min(available, max_bytes)
    data = segment.read(position, size)
    if position < segment.unverified_end:  # bytes loaded unchecked: check them now
        good = segment.check_read(data, position)
        if good == 0:
            raise CorruptSegment(position, "CRC mismatch")
        return data if good == len(data) else data[:good]
    return data
