"""Opening a partition's segments at start-up, recovering them as Kafka's LogLoader does.

After a clean shutdown, or below the recovery point (the offset up to which everything was
fsynced), a segment whose index files fit it is trusted, and its batches are checked only
when first read. A segment after the recovery point of an unclean shutdown, or one whose
indexes are missing or do not fit, is re-read batch by batch (length, magic, CRC, offsets).

What a scan finds is handled by where it is, never by deleting healthy data:
- damage at the very end of the last segment is a torn write: it is cut off, with a line
  naming the file, the offset and the bytes dropped;
- damage anywhere else, and offsets missing between segments (except in compacted logs,
  whose cleaned segments may end early), stay on disk as they are, are reported with a
  line naming the file, the byte and offset range and what is done, and reads of those
  offsets answer CORRUPT_MESSAGE. Later segments are kept;
- if the last segment lost offsets below the recovery point (they were acknowledged and
  fsynced), the log continues at the recovery point, so no offset is ever given to two
  different records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .cleaner_swap import complete_swaps
from .segment import Segment, segment_name

log = logging.getLogger(__name__)

_LEFTOVER_SUFFIXES = (".tmp",)
_INDEX_SUFFIXES = (".index", ".timeindex", ".txnindex")


@dataclass(slots=True)
class LoadedSegments:
    segments: list[Segment]
    log_start_offset: int
    recovery_point: int


class SegmentLoader:
    """Loads the segments of one partition directory (see the module docstring)."""

    def __init__(
        self, directory: Path, name: str, index_interval_bytes: int, compacted: bool = False
    ) -> None:
        """A `compacted` log's segments may end before the next one starts (the cleaner
        removed their last records): such offsets are gaps, not lost data."""
        self.directory = directory
        self.name = name
        self.index_interval_bytes = index_interval_bytes
        self.compacted = compacted
        self._orphaned_bases: list[int] = []

    def load(
        self, log_start_offset: int, recovery_point: int, clean_shutdown: bool
    ) -> LoadedSegments:
        bases = self._segment_bases()
        segments: list[Segment] = []
        suspect_end = False  # whether the last segment shows signs of lost data
        for i, base in enumerate(bases):
            segment = Segment(self.directory, base, self.index_interval_bytes)
            next_base = bases[i + 1] if i + 1 < len(bases) else None
            unflushed = not clean_shutdown and (next_base is None or next_base > recovery_point)
            if unflushed or not segment.load_indexes(next_base):
                segment.rebuild(next_base)
                if next_base is None:
                    torn = self._cut_torn_tail(segment)
                    suspect_end = torn or not unflushed
                segment.write_indexes()
            if next_base is not None and not self.compacted:
                segment.note_missing_offsets(next_base)
            for damage in segment.damages:
                log.error("%s: %s", self.name, damage.describe(str(segment.path)))
            first = segment.first_batch_timestamp
            if first is not None and first >= 0:
                segment.created_ms = min(segment.created_ms, first)
            segments.append(segment)
        if not segments:
            segments.append(Segment(self.directory, log_start_offset, self.index_interval_bytes))
        log_end_offset = segments[-1].next_offset
        if recovery_point > log_end_offset:
            if suspect_end or self._traces_beyond(log_end_offset):
                segments.append(self._continue_at(segments[-1], recovery_point))
            else:
                log.warning(
                    "%s: the recovery point %d is beyond the log end offset %d; using %d",
                    self.name,
                    recovery_point,
                    log_end_offset,
                    log_end_offset,
                )
        log_end_offset = segments[-1].next_offset
        return LoadedSegments(
            segments,
            min(max(log_start_offset, segments[0].base_offset), log_end_offset),
            log_end_offset if clean_shutdown else min(recovery_point, log_end_offset),
        )

    def _segment_bases(self) -> list[int]:
        """Base offsets of the `.log` files, after removing leftovers of interrupted
        operations and index files whose log is gone, and completing interrupted swaps of
        cleaned segments (as Kafka's LogLoader does)."""
        complete_swaps(self.directory, self.name)
        for path in self.directory.iterdir():
            if path.name.endswith(_LEFTOVER_SUFFIXES):
                path.unlink(missing_ok=True)
        bases = sorted(
            int(path.stem) for path in self.directory.glob("*.log") if path.stem.isdigit()
        )
        known = {segment_name(base) for base in bases}
        for path in self.directory.iterdir():
            if path.suffix in _INDEX_SUFFIXES and path.stem not in known:
                log.warning(
                    "%s: found an orphaned index file %s, with no corresponding log file",
                    self.name,
                    path,
                )
                if path.stem.isdigit():
                    self._orphaned_bases.append(int(path.stem))
                path.unlink(missing_ok=True)
        return bases

    def _traces_beyond(self, log_end_offset: int) -> bool:
        """Whether files show the log once went on past `log_end_offset`: the index of a
        segment at or after it whose log is gone, or a producer snapshot beyond it (they are
        written at rolls and at clean shutdowns, at the log end offset of the moment)."""
        snapshots = [int(p.stem) for p in self.directory.glob("*.snapshot") if p.stem.isdigit()]
        return any(base >= log_end_offset for base in self._orphaned_bases) or any(
            offset > log_end_offset for offset in snapshots
        )

    def _cut_torn_tail(self, segment: Segment) -> bool:
        """Cut damage that reaches the end of the last segment (a torn write); True if any."""
        if not segment.damages or segment.damages[-1].end != segment.size:
            return False
        torn = segment.damages.pop()
        log.warning(
            "%s: truncating %s at byte %d (offset %d): dropped %d bytes (%s)",
            self.name,
            segment.path,
            torn.start,
            torn.first_offset,
            segment.size - torn.start,
            torn.reason,
        )
        segment.truncate(torn.start)
        return True

    def _continue_at(self, last: Segment, recovery_point: int) -> Segment:
        """A new segment at the recovery point after lost offsets, which stay unreadable."""
        log.error(
            "%s: offsets %d..%d were flushed (the recovery point is %d) but %s no longer"
            " holds them; they are lost, fetching them answers CORRUPT_MESSAGE, and new"
            " records start at offset %d",
            self.name,
            last.next_offset,
            recovery_point - 1,
            recovery_point,
            last.path,
            recovery_point,
        )
        last.note_missing_offsets(recovery_point)
        segment = Segment(self.directory, recovery_point, self.index_interval_bytes)
        segment.next_offset = recovery_point
        return segment
