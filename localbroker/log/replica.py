"""What a follower does to its log: append its leader's batches unchanged, and cut the log
back where it diverged from the leader's.

`append_as_follower` is Kafka's UnifiedLog.appendAsFollower: the batches keep the leader's
offsets, partition leader epochs, producer ids and sequences; each is checked (magic,
length, CRC), offsets must not go back (the first batch not below the log end offset:
UnexpectedAppendOffset; gaps are a compacted leader's), and producer state, transactions,
their index and the leader-epoch cache are updated as for a leader's append. The bytes on
disk are the leader's bytes.

`truncate_to` is Kafka's UnifiedLog.truncateTo. It must survive a kill -9 at any step as a
log that opens to a prefix of the old one, with no offset given out twice and none reported
lost: so whatever could make the loader believe the log once went further (producer
snapshots past the cut, index files without their segment) goes first, then segments from
the last one back, each index before its log file, then the cut segment is shortened.
The recovery point comes down with the cut, so the next checkpoint does not claim offsets
the log no longer has; until it is written, the loader finds nothing past the log end and
takes the log end for the recovery point.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from ..records.batch import HEADER_SIZE, LOG_OVERHEAD, BatchHeader, crc_matches, read_header
from ..records.control import ControlRecordType, marker_type
from .append_result import AppendResult
from .errors import LogError
from .producer_state import ProducerState
from .segment import Segment
from .transactions import PartitionTransactions

if TYPE_CHECKING:
    from .partition import PartitionLog

log = logging.getLogger(__name__)


class UnexpectedAppendOffset(LogError):
    """A follower's append whose first offset is below the log end offset (Kafka's
    UnexpectedAppendOffsetException): the fetch and the log disagree, the fetcher must
    truncate or fetch again from the log end offset."""

    def __init__(self, message: str, first_offset: int, last_offset: int) -> None:
        super().__init__(ErrorCode.unknown_server_error, message)
        self.first_offset = first_offset
        self.last_offset = last_offset


def parse_batches(log: PartitionLog, data: bytes) -> list[BatchHeader]:
    """The whole batches of a fetched record set, checked; a partial batch at the end (a
    fetch may end inside one) is left out, as Kafka's batch iterator does."""
    headers: list[BatchHeader] = []
    position = 0
    expected = log.log_end_offset
    while position + HEADER_SIZE <= len(data):
        header = read_header(data, position)
        if header.magic != 2:
            raise LogError(
                ErrorCode.corrupt_message,
                f"Record batch with magic {header.magic} in append to {log.name}:"
                " only magic 2 is stored",
            )
        if header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
            raise LogError(
                ErrorCode.corrupt_message,
                f"Record batch of {log.name} at offset {header.base_offset} has a length"
                f" {header.batch_length} smaller than its header",
            )
        if position + header.size > len(data):
            break
        if not crc_matches(data, header):
            raise LogError(
                ErrorCode.corrupt_message,
                f"Record is corrupt (stored crc = {header.crc}) in topic partition {log.name}.",
            )
        if header.last_offset_delta < 0 or header.base_offset < expected:
            if not headers:
                raise UnexpectedAppendOffset(
                    f"Unexpected offset in append to {log.name}. First offset"
                    f" {header.base_offset} is less than the next offset {expected}."
                    f" Log start offset = {log.log_start_offset}",
                    header.base_offset,
                    header.last_offset,
                )
            raise LogError(
                ErrorCode.corrupt_message,
                f"Out of order offsets found in append to {log.name}: batch at"
                f" {header.base_offset} after offset {expected - 1}",
            )
        headers.append(header)
        expected = header.next_offset
        position += header.size
    return headers


def append_as_follower(log: PartitionLog, data: bytes, now_ms: int) -> AppendResult:
    if log.status.offline:
        raise log.status.refusal(f"Partition {log.name}")
    headers = parse_batches(log, data)
    if not headers:
        return AppendResult(log.log_end_offset, log.log_end_offset - 1, -1)
    view = memoryview(data)
    for header in headers:
        batch = view[header.position : header.position + header.size]
        log.store(header, [batch], header.base_offset, now_ms, header.partition_leader_epoch)
        if not header.has_producer_id:
            continue
        log.producers.replay([(header, batch.tobytes)])
        if not header.is_transactional:
            continue
        if not header.is_control:
            log.transactions.appended(header, header.base_offset)
            continue
        kind = marker_type(batch.tobytes())
        if kind is not None:
            log.marker_written(
                header.producer_id, header.base_offset, kind == ControlRecordType.COMMIT
            )
    return AppendResult(headers[0].base_offset, headers[-1].last_offset, -1)


def truncate_to(log: PartitionLog, offset: int) -> bool:
    if offset < 0:
        raise ValueError(f"Cannot truncate partition {log.name} to a negative offset ({offset}).")
    if offset >= log.log_end_offset:
        # An epoch entry may name an offset nothing was written at (a leader that wrote
        # nothing before losing leadership): Kafka drops it here too.
        log.epochs.truncate_from_end(log.log_end_offset)
        return False
    _drop(log, offset, [s for s in log.segments if s.base_offset >= offset], fully=False)
    return True


def truncate_fully_and_start_at(log: PartitionLog, offset: int) -> None:
    """Kafka's truncateFullyAndStartAt: every segment goes and the log starts again, empty,
    at `offset`, which may be past its end (a follower behind its leader's log start).
    Killed midway, the log opens as a prefix of the old one, or empty: the follower then
    finds itself out of range again and starts over."""
    _drop(log, offset, list(log.segments), fully=True)
    log.log_start_offset = log.recovery_point = offset


def _drop(log: PartitionLog, offset: int, doomed: list[Segment], *, fully: bool) -> None:
    """Drop the producer snapshots and epochs past `offset` (all of them if `fully`), then
    `doomed` (the last segments), and cut the log at `offset`, or start it again there if
    no segment is left."""
    log.producers.delete_snapshots_after(-1 if fully else offset)
    for segment in reversed(doomed):
        log.segments.remove(segment)
        _delete_index_first(segment)
    if not log.segments:  # the log starts again at `offset`
        fresh = Segment(log.directory, offset, log.config.index_interval_bytes)
        fresh.next_offset = offset
        log.segments.append(fresh)
    else:
        _cut(log.active, offset)
    log.log_start_offset = min(log.log_start_offset, log.log_end_offset)
    log.recovery_point = min(log.recovery_point, log.log_end_offset)
    log.epochs.truncate_from_end(0 if fully else log.log_end_offset)
    log.producers = ProducerState(log.directory)
    log.transactions = PartitionTransactions()
    log.load_producer_state()
    log.truncated()


def _cut(segment: Segment, offset: int) -> None:
    """Cut `segment` before the batch holding `offset`, its indexes rebuilt and rewritten."""
    header = segment.find_batch(offset, segment.size)
    if header is None:
        return
    segment.truncate(header.position)
    segment.rebuild()
    segment.write_indexes()


def _delete_index_first(segment: Segment) -> None:
    """Delete a segment's files, its indexes before its log, so that a crash in between
    leaves a whole segment whose indexes the loader rebuilds, never an index of nothing."""
    segment.close()
    segment.index.delete()
    segment.time_index.delete()
    segment.txn_index.delete()
    segment.path.unlink(missing_ok=True)
