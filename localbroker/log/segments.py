"""A partition's segments in offset order, and reading them without trusting them blindly.

Like Kafka's LogSegments, this is the ordered collection with lookups by offset. It also
owns what damage means for reading: a walk over stored batches skips damaged regions, and
when a batch that was not checked since start-up turns out damaged (a bit flipped while the
broker was down), the segment is scanned again, the damage recorded and reported with one
line naming the file, the bytes and the offsets, and the walk goes on past it.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar, overload

from kio.schema.errors import ErrorCode

from ..records.batch import BatchHeader
from .errors import LogError
from .segment import CorruptSegment, Segment

log = logging.getLogger(__name__)

T = TypeVar("T")


class LogSegments(Sequence[Segment]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._segments: list[Segment] = []
        self._bases: list[int] = []

    @overload
    def __getitem__(self, index: int) -> Segment: ...

    @overload
    def __getitem__(self, index: slice) -> list[Segment]: ...

    def __getitem__(self, index: int | slice) -> Segment | list[Segment]:
        return self._segments[index]

    def __len__(self) -> int:
        return len(self._segments)

    def append(self, segment: Segment) -> None:
        self._segments.append(segment)
        self._bases.append(segment.base_offset)

    def remove(self, segment: Segment) -> None:
        self._segments.remove(segment)
        self._bases.remove(segment.base_offset)

    def replace(self, old: list[Segment], new: Segment) -> None:
        """Put `new` where the consecutive segments `old` were (a cleaned segment)."""
        start = self._segments.index(old[0])
        self._segments[start : start + len(old)] = [new]
        self._bases[start : start + len(old)] = [new.base_offset]

    def floor(self, offset: int) -> int:
        """Index of the segment that holds `offset` (the first one when none starts before)."""
        return max(bisect_right(self._bases, offset) - 1, 0)

    def from_offset(self, offset: int) -> list[Segment]:
        return self._segments[self.floor(offset) :]

    def next_base(self, segment: Segment) -> int | None:
        i = self._segments.index(segment)
        return self._bases[i + 1] if i + 1 < len(self._bases) else None

    # -- damage ---------------------------------------------------------------------------

    def check_damage(self, segment: Segment, offset: int) -> None:
        """CORRUPT_MESSAGE if `offset` lies in a damaged range of `segment`."""
        for damage in segment.damages:
            if damage.covers(offset):
                raise LogError(
                    ErrorCode.corrupt_message,
                    f"offset {offset} of {self.name} is unreadable: "
                    + damage.describe(str(segment.path)),
                )

    def checked(self, segment: Segment, action: Callable[[], T]) -> T:
        """`action()` on `segment`; if it finds damage in bytes not checked since start-up,
        the segment is scanned again and `action` runs once more."""
        try:
            return action()
        except CorruptSegment as exc:
            return self.rescanned(segment, action, exc)

    def rescanned(self, segment: Segment, action: Callable[[], T], error: CorruptSegment) -> T:
        """After `action` met `error` in `segment`: scan the segment again and run `action`
        once more, if the damage can be new (in bytes not checked since start-up)."""
        if not segment.unverified:
            raise error
        self.rescan(segment)
        return action()

    def rescan(self, segment: Segment) -> None:
        """Scan a segment again (every batch checked) and report what is newly damaged. The
        offsets it accounts for never shrink: those up to the next segment, or for the last
        one up to the log end offset, which clients have seen."""
        limit = self.next_base(segment)
        if limit is None:
            limit = segment.next_offset
        known = {(d.start, d.end) for d in segment.damages}
        segment.rebuild(limit)
        segment.note_missing_offsets(limit)
        segment.write_indexes()
        for damage in segment.damages:
            if (damage.start, damage.end) not in known:
                log.error("%s: %s", self.name, damage.describe(str(segment.path)))

    def walk(
        self, segment: Segment, start: int = 0, *, read: bool = False
    ) -> Iterator[tuple[BatchHeader, bytes]]:
        """Each batch header of `segment` from byte `start`, with the batch's bytes checked
        whole when `read` is set (else b""); damage met on the way is recorded (`rescan`)
        and skipped."""
        position = start
        while True:
            try:
                for header in segment.headers(position):
                    data = b""
                    if read:
                        data = segment.read(header.position, header.size)
                        if segment.check_read(data, header.position) < len(data):
                            raise CorruptSegment(header.position, "CRC mismatch")
                    position = header.position + header.size
                    yield header, data
                return
            except CorruptSegment:
                if not segment.unverified:
                    raise
                self.rescan(segment)
