"""One log segment: a `.log` file of record batches plus its offset and time indexes.

Appends go straight to the file with `os.writev` (the stamped 16-byte prefix and the rest of
the batch as received, no copy); reads are `os.pread` of whole byte ranges. Files are named by
the segment's base offset, 20 digits, exactly as Kafka names them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..records.batch import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    crc_matches,
    read_header,
)
from .index import OffsetIndex, TimeIndex

_SCAN_BLOCK = 1 << 20
_FIND_BLOCK = 16 << 10
NO_TIMESTAMP = -1


def segment_name(base_offset: int) -> str:
    return f"{base_offset:020d}"


class CorruptSegment(Exception):
    """A batch in the segment does not parse or fails its CRC at `position`."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"{reason} at position {position}")
        self.position = position


class Segment:
    """A segment's file, its indexes and the facts about it the log needs without reading it."""

    def __init__(self, directory: Path, base_offset: int, index_interval_bytes: int) -> None:
        self.base_offset = base_offset
        self.path = directory / f"{segment_name(base_offset)}.log"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size
        self.index = OffsetIndex(directory / f"{segment_name(base_offset)}.index", base_offset)
        self.time_index = TimeIndex(
            directory / f"{segment_name(base_offset)}.timeindex", base_offset
        )
        self.index_interval_bytes = index_interval_bytes
        self.next_offset = base_offset
        self.max_timestamp = NO_TIMESTAMP
        self.offset_of_max_timestamp = base_offset
        self.first_batch_timestamp: int | None = None
        self.created_ms = int(os.fstat(self.fd).st_mtime * 1000)
        self._bytes_since_index_entry = 0

    # -- writing ------------------------------------------------------------------------

    def append(
        self,
        chunks: list[bytes | bytearray | memoryview],
        header: BatchHeader,
        base_offset: int,
        size: int,
    ) -> int:
        """Write one batch whose stamped bytes are `chunks` at the end; returns its position.

        Writes are positioned (pwritev at `self.size`), never relative to the descriptor's
        offset, so a segment reopened after a restart is appended to, not overwritten.
        """
        position = self.size
        written = os.pwritev(self.fd, chunks, position)
        if written != size:
            self._write_rest(chunks, written, position)
        self.size += size
        last_offset = base_offset + header.last_offset_delta
        self._track(header.max_timestamp, last_offset, position, size)
        self.next_offset = last_offset + 1
        return position

    def _write_rest(
        self, chunks: list[bytes | bytearray | memoryview], written: int, position: int
    ) -> None:
        data = memoryview(b"".join(chunks))[written:]
        position += written
        while data:
            count = os.pwrite(self.fd, data, position)
            data = data[count:]
            position += count

    def _track(self, max_timestamp: int, last_offset: int, position: int, size: int) -> None:
        if self.first_batch_timestamp is None:
            self.first_batch_timestamp = max_timestamp
        if max_timestamp > self.max_timestamp:
            self.max_timestamp = max_timestamp
            self.offset_of_max_timestamp = last_offset
        if self._bytes_since_index_entry > self.index_interval_bytes or not len(self.index):
            self.index.append(last_offset, position)
            self.time_index.maybe_append(self.max_timestamp, self.offset_of_max_timestamp)
            self._bytes_since_index_entry = 0
        self._bytes_since_index_entry += size

    def flush(self) -> None:
        """fsync the log file and write any new index entries (called off the event loop)."""
        os.fsync(self.fd)
        self.index.flush(fsync=True)
        self.time_index.flush(fsync=True)

    def write_indexes(self) -> None:
        self.index.flush()
        self.time_index.flush()

    def truncate(self, position: int) -> None:
        """Cut the file at `position` (a batch boundary) and forget index entries past it."""
        os.ftruncate(self.fd, position)
        self.size = position
        self.index.truncate_to_position(position)

    # -- reading ------------------------------------------------------------------------

    def read(self, position: int, size: int) -> bytes:
        return os.pread(self.fd, size, position)

    def headers(
        self,
        start: int = 0,
        end: int | None = None,
        *,
        verify: bool = False,
        block_size: int = _SCAN_BLOCK,
    ) -> Iterator[BatchHeader]:
        """Batch headers from `start` up to `end`, reading the file in large blocks.

        With `verify`, each batch's length and CRC is checked and `CorruptSegment` raised
        at the first that fails; without it only headers are read.
        """
        end = self.size if end is None else end
        position = start
        block = b""
        block_start = start
        while position < end:
            offset = position - block_start
            if len(block) - offset < HEADER_SIZE:
                if end - position < HEADER_SIZE:
                    raise CorruptSegment(position, "truncated batch header")
                block = os.pread(self.fd, min(block_size, end - position), position)
                block_start, offset = position, 0
                if len(block) < HEADER_SIZE:
                    raise CorruptSegment(position, "file shorter than expected")
            header = read_header(block, offset)
            if header.batch_length < HEADER_SIZE - LOG_OVERHEAD or header.magic != 2:
                raise CorruptSegment(position, "invalid batch header")
            if position + header.size > end:
                raise CorruptSegment(position, "truncated batch")
            if verify:
                if len(block) - offset < header.size:
                    block = os.pread(
                        self.fd, max(header.size, min(block_size, end - position)), position
                    )
                    block_start, offset = position, 0
                    header.position = 0
                    if len(block) < header.size:
                        raise CorruptSegment(position, "file shorter than expected")
                if not crc_matches(block, header):
                    raise CorruptSegment(position, "CRC mismatch")
            header.position = position
            yield header
            position += header.size

    def find_batch(self, offset: int, limit: int) -> BatchHeader | None:
        """Header of the first batch below file position `limit` whose last offset >= `offset`."""
        start = self.index.lookup(offset)
        for header in self.headers(start, limit, block_size=_FIND_BLOCK):
            if header.last_offset >= offset:
                return header
        return None

    def rebuild(self) -> int:
        """Re-read every batch, checking CRCs; rebuilds indexes and returns the valid size."""
        self.index.clear()
        self.time_index.clear()
        self.max_timestamp = NO_TIMESTAMP
        self.first_batch_timestamp = None
        self.offset_of_max_timestamp = self.base_offset
        self.next_offset = self.base_offset
        self._bytes_since_index_entry = 0
        valid = 0
        try:
            for header in self.headers(verify=True):
                self._track(header.max_timestamp, header.last_offset, header.position, header.size)
                self.next_offset = header.last_offset + 1
                valid = header.position + header.size
        except CorruptSegment:
            pass
        return valid

    def load_indexes(self, next_offset: int | None) -> bool:
        """Trust the index files of a cleanly written segment; False if they must be rebuilt.

        `next_offset` is known for a segment followed by another one; for the last segment
        it is found by reading the batches after the last index entry.
        """
        if not self.index.load(self.size):
            return False
        last = self.index.last_entry
        tail_start = last[1] if last else 0
        try:
            headers = list(self.headers(tail_start))
        except CorruptSegment:
            return False
        if self.size and not headers:
            return False
        tail_next = headers[-1].last_offset + 1 if headers else self.base_offset
        if next_offset is not None and tail_next > next_offset:
            return False
        self.next_offset = tail_next
        if not self.time_index.load(self.next_offset):
            return False
        if headers:
            self.first_batch_timestamp = self._first_timestamp()
        entry = self.time_index.last_entry
        self.max_timestamp, self.offset_of_max_timestamp = (
            entry if entry else (NO_TIMESTAMP, self.base_offset)
        )
        for header in headers:
            if header.max_timestamp > self.max_timestamp:
                self.max_timestamp = header.max_timestamp
                self.offset_of_max_timestamp = header.last_offset
        self._bytes_since_index_entry = self.size - tail_start
        return True

    def _first_timestamp(self) -> int | None:
        for header in self.headers(0, min(self.size, _SCAN_BLOCK)):
            return header.max_timestamp
        return None

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
        self.index.delete()
        self.time_index.delete()
