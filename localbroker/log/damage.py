"""Damaged regions of a segment file, and finding the next good batch after one.

A bit flip, a torn write or a cut file leaves bytes that hold no valid batch. The file is kept
as it is (below the recovery point those bytes were acknowledged and fsynced, and a copy may
be all there is); the region is recorded with the offsets it costs, reads skip it, and a
fetch of one of those offsets answers CORRUPT_MESSAGE, which Kafka's clients report to the
application with the offset, so it can seek past. Batches after the region are found again
by their structure: a magic byte, a length that fits, offsets that continue the log, and a
CRC that matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..records.batch import (
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_OFFSET,
    BatchHeader,
    crc_matches,
    read_header,
)

MAX_RELATIVE_OFFSET = 2**31 - 1
_SEARCH_BLOCK = 1 << 20
_MAGIC = b"\x02"


@dataclass(frozen=True, slots=True)
class Damage:
    """Bytes `start`..`end` of a segment file that hold no valid batch, and the offsets
    `first_offset`..`end_offset` (exclusive) that were stored there, if any."""

    start: int
    end: int
    first_offset: int
    end_offset: int
    reason: str

    @property
    def loses_offsets(self) -> bool:
        return self.end_offset > self.first_offset

    def covers(self, offset: int) -> bool:
        return self.first_offset <= offset < self.end_offset

    def describe(self, file_name: str) -> str:
        """One line: which bytes of which file, which offsets, and what the broker does."""
        lost = f"offsets {self.first_offset}..{self.end_offset - 1}"
        if self.start == self.end:
            return (
                f"{file_name} ends at byte {self.start} without {lost}, which come before the"
                " next segment; fetching them answers CORRUPT_MESSAGE"
            )
        what = f"bytes {self.start}..{self.end - 1} of {file_name} are damaged ({self.reason})"
        if not self.loses_offsets:
            return f"{what}; they hold no offset and are skipped"
        return (
            f"{what}: {lost} cannot be read; the file is kept as it is, and fetching those"
            " offsets answers CORRUPT_MESSAGE"
        )


def plausible(header: BatchHeader, expected: int, limit: int | None, segment_base: int) -> bool:
    """Whether a parsed header can be the next batch of this segment: magic 2, a sane length,
    offsets that start at `expected` or after it (compaction leaves gaps) and stay below
    `limit` and within the segment's 32-bit relative offsets."""
    return (
        header.magic == 2
        and header.batch_length >= HEADER_SIZE - LOG_OVERHEAD
        and header.last_offset_delta >= 0
        and header.base_offset >= expected
        and (limit is None or header.last_offset < limit)
        and header.last_offset - segment_base <= MAX_RELATIVE_OFFSET
    )


def find_next_batch(
    read: Callable[[int, int], bytes],
    start: int,
    end: int,
    expected: int,
    limit: int | None,
    segment_base: int,
) -> BatchHeader | None:
    """The first valid batch at or after byte `start` of a file `end` bytes long whose
    offsets continue from `expected`; `read(position, size)` reads the file."""
    position = start
    while position + HEADER_SIZE <= end:
        block = read(position, min(_SEARCH_BLOCK, end - position))
        search = MAGIC_OFFSET
        while (found := block.find(_MAGIC, search)) >= 0:
            candidate = found - MAGIC_OFFSET
            if candidate + HEADER_SIZE > len(block):
                break
            header = read_header(block, candidate)
            size = header.size
            if plausible(header, expected, limit, segment_base) and (
                position + candidate + size <= end
            ):
                data = read(position + candidate, size)
                header.position = 0
                if len(data) == size and crc_matches(data, header):
                    header.position = position + candidate
                    return header
            search = found + 1
        if len(block) < HEADER_SIZE:
            break
        position += len(block) - HEADER_SIZE + 1
    return None
