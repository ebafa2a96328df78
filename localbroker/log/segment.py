"""One log segment: a `.log` file of record batches plus its offset and time indexes.

Appends go straight to the file with `os.writev` (the stamped 16-byte prefix and the rest of
the batch as received, no copy); reads are `os.pread` of whole byte ranges. Files are named by
the segment's base offset, 20 digits, exactly as Kafka names them.

A segment loaded without a full scan (a clean shutdown, or below the recovery point) is
trusted as Kafka trusts it, but not blindly: each stored batch is checked (length, magic,
CRC) the first time it is read, so damage that happened while the broker was down is found
and reported instead of being served. Damaged regions are kept in `damages` and skipped.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from ..files import fsync
from ..records.batch import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    BatchHeader,
    crc_matches,
    read_header,
)
from .damage import MAX_RELATIVE_OFFSET as _MAX_RELATIVE_OFFSET
from .damage import Damage, find_next_batch, plausible
from .index import OffsetIndex, TimeIndex
from .txn_index import SUFFIX as TXN_INDEX_SUFFIX
from .txn_index import TransactionIndex

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
        self.reason = reason


class Segment:
    """A segment's file, its indexes and the facts about it the log needs without reading it."""

    def __init__(
        self, directory: Path, base_offset: int, index_interval_bytes: int, suffix: str = ""
    ) -> None:
        """`suffix` names a segment built beside the log (the cleaner's `.cleaned`)."""
        self.base_offset = base_offset
        self.suffix = suffix
        name = str(directory / segment_name(base_offset))
        self.path = Path(f"{name}.log{suffix}")
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        self.size = os.fstat(self.fd).st_size
        self.index = OffsetIndex(Path(f"{name}.index{suffix}"), base_offset)
        self.time_index = TimeIndex(Path(f"{name}.timeindex{suffix}"), base_offset)
        self.txn_index = TransactionIndex(
            Path(f"{name}{TXN_INDEX_SUFFIX}{suffix}"), create=self.size == 0
        )
        self.index_interval_bytes = index_interval_bytes
        self.next_offset = base_offset
        self.max_timestamp = NO_TIMESTAMP
        self.offset_of_max_timestamp = base_offset
        self.first_batch_timestamp: int | None = None
        self.created_ms = int(os.fstat(self.fd).st_mtime * 1000)
        self._bytes_since_index_entry = 0
        self.damages: list[Damage] = []
        # Bytes verified_prefix..unverified_end were loaded without being checked.
        self.verified_prefix = 0
        self.unverified_end = 0

    @property
    def unverified(self) -> bool:
        return self.verified_prefix < self.unverified_end

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
        try:
            written = os.pwritev(self.fd, chunks, position)
            if written != size:
                self._write_rest(chunks, written, position)
        except OSError:
            # Nothing half-written may stay: a later append or a restart would find it.
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, position)
            raise
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
        fsync(self.fd)
        self.index.flush(fsync=True)
        self.time_index.flush(fsync=True)
        self.txn_index.flush()

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

    def readable_end(self, position: int, limit: int) -> int:
        """Where a read from batch `position` must stop: `limit`, or the next damage."""
        for damage in self.damages:
            if damage.start >= position:
                return min(limit, damage.start)
        return limit

    def headers(
        self,
        start: int = 0,
        end: int | None = None,
        *,
        verify: bool = False,
        block_size: int = _SCAN_BLOCK,
    ) -> Iterator[BatchHeader]:
        """Batch headers from `start` up to `end`, reading the file in large blocks and
        skipping damaged regions.

        With `verify`, each batch's length and CRC is checked and `CorruptSegment` raised
        at the first that fails; without it only headers are read.
        """
        end = self.size if end is None else end
        position = start
        block = b""
        block_start = start
        damages = iter([d for d in self.damages if d.end > start or d.start >= start])
        damage = next(damages, None)
        while position < end:
            if damage is not None and position >= damage.start:
                position = max(position, damage.end)
                damage = next(damages, None)
                continue
            stop = end if damage is None else min(end, damage.start)
            offset = position - block_start
            if len(block) - offset < HEADER_SIZE:
                if stop - position < HEADER_SIZE:
                    raise CorruptSegment(position, "truncated batch header")
                block = os.pread(self.fd, min(block_size, stop - position), position)
                block_start, offset = position, 0
                if len(block) < HEADER_SIZE:
                    raise CorruptSegment(position, "file shorter than expected")
            header = read_header(block, offset)
            if header.batch_length < HEADER_SIZE - LOG_OVERHEAD or header.magic != 2:
                raise CorruptSegment(position, "invalid batch header")
            if position + header.size > stop:
                raise CorruptSegment(position, "truncated batch")
            if verify:
                if len(block) - offset < header.size:
                    block = os.pread(
                        self.fd, max(header.size, min(block_size, stop - position)), position
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

    def check_read(self, data: bytes, position: int) -> int:
        """How many leading bytes of `data`, read from batch `position`, may be served: all of
        them, or up to the first whole batch of the unverified region that fails its checks
        (magic, length, CRC, a base offset that continues the batch before). Verified batches
        at the start of the unverified region extend the verified prefix."""
        end = position + len(data)
        if end <= self.verified_prefix or position >= self.unverified_end:
            return len(data)
        offset = 0
        # The base offset is outside the CRC: check it moves on (gaps are compaction's).
        expected: int | None = None
        while offset + HEADER_SIZE <= len(data) and position + offset < self.unverified_end:
            header = read_header(data, offset)
            if header.magic != 2 or header.batch_length < HEADER_SIZE - LOG_OVERHEAD:
                return offset
            if offset + header.size > len(data):
                break  # a read may end inside a batch; clients drop the part
            behind = expected is not None and header.base_offset < expected
            if behind or not crc_matches(data, header):
                return offset
            expected = header.next_offset
            offset += header.size
            if position <= self.verified_prefix < position + offset:
                self.verified_prefix = position + offset
        return len(data)

    def rebuild(self, limit: int | None = None) -> list[Damage]:
        """Re-read every batch, checking length, magic, CRC and offsets; rebuild the indexes,
        record each damaged region with the offsets it costs, and return them.

        Offsets must grow from the base offset (gaps are compaction's) and stay below `limit` (the
        next segment's base offset, or the log end offset a running log already gave out).
        A damaged region ends at the next batch that fits; one that reaches the end of the
        file covers the offsets up to `limit`, if known. `next_offset` becomes the first
        offset the segment does not account for.
        """
        self.index.clear()
        self.time_index.clear()
        self.max_timestamp = NO_TIMESTAMP
        self.first_batch_timestamp = None
        self.offset_of_max_timestamp = self.base_offset
        self._bytes_since_index_entry = 0
        self.damages = []
        self.verified_prefix = self.unverified_end = 0
        expected = self.base_offset
        position = 0
        while position < self.size:
            try:
                for header in self.headers(position, verify=True):
                    if not plausible(header, expected, limit, self.base_offset):
                        raise CorruptSegment(header.position, "unexpected offsets")
                    self._track(
                        header.max_timestamp, header.last_offset, header.position, header.size
                    )
                    expected = header.next_offset
                    position = header.position + header.size
            except CorruptSegment as exc:
                found = find_next_batch(
                    self.read, exc.position + 1, self.size, expected, limit, self.base_offset
                )
                if found is None:
                    end_offset = expected if limit is None else limit
                    damage = Damage(exc.position, self.size, expected, end_offset, exc.reason)
                else:
                    damage = Damage(
                        exc.position, found.position, expected, found.base_offset, exc.reason
                    )
                self.damages.append(damage)
                expected, position = damage.end_offset, damage.end
            else:
                break
        self.next_offset = expected
        return list(self.damages)

    def note_missing_offsets(self, next_base: int) -> None:
        """Record the offsets before `next_base` (where the next segment starts) that no
        batch here holds: a segment cut short, emptied or lost."""
        if self.next_offset < next_base:
            self.damages.append(
                Damage(self.size, self.size, self.next_offset, next_base, "offsets missing")
            )
            self.next_offset = next_base

    def load_indexes(self, next_offset: int | None) -> bool:
        """Trust the index files of a cleanly written segment; False if they must be rebuilt.

        `next_offset` is known for a segment followed by another one; for the last segment
        it is found by reading the batches after the last index entry. The batches stay
        unverified until they are read.
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
        if not self._continues(headers, last):
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
        self.unverified_end = self.size
        return True

    def _continues(self, tail: list[BatchHeader], last_entry: tuple[int, int] | None) -> bool:
        """Whether the batches after the last index entry have the offsets they must have:
        the first is the indexed batch, each starts after the one before (compaction leaves
        gaps), and all fit the index's 32-bit relative offsets (the base offset is outside the
        CRC)."""
        expected = self.base_offset
        for i, header in enumerate(tail):
            if i == 0 and last_entry is not None:
                if header.last_offset != last_entry[0]:
                    return False
            elif header.base_offset < expected:
                return False
            if header.last_offset - self.base_offset > _MAX_RELATIVE_OFFSET:
                return False
            expected = header.next_offset
        return True

    def _first_timestamp(self) -> int | None:
        with contextlib.suppress(CorruptSegment):
            for header in self.headers(0, min(self.size, _SCAN_BLOCK)):
                return header.max_timestamp
        return None

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def rename_files(self, suffix: str) -> None:
        """Give the log and index files `suffix` instead of the current one, the log first,
        as Kafka's changeFileSuffixes does (the loader's swap recovery relies on it)."""

        def renamed(path: Path) -> Path:
            return Path(str(path).removesuffix(self.suffix) + suffix)

        path = renamed(self.path)
        os.replace(self.path, path)
        self.path = path
        self.index.rename(renamed(self.index.path))
        self.time_index.rename(renamed(self.time_index.path))
        self.txn_index.rename(renamed(self.txn_index.path))
        self.suffix = suffix

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
        self.index.delete()
        self.time_index.delete()
        self.txn_index.delete()
