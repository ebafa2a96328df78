"""Swapping cleaned segments in, and finishing or undoing a swap a crash interrupted.

The cleaner writes a group's cleaned segment as `<base>.log.cleaned` (and `.index.cleaned`,
`.timeindex.cleaned`), fsyncs it, then swaps it in as Kafka's LocalLog.replaceSegments does:
the cleaned files become `.swap`, the replaced segments' files `.deleted`, the `.swap`
suffix goes, the directory is fsynced, and the `.deleted` files are removed.

At start-up, before any segment is opened, `complete_swaps` does what Kafka's LogLoader does
with what a crash left: `.deleted` files go; `.cleaned` files go, and so does every `.swap`
file at or after the lowest `.cleaned` base offset (its swap never began in full); a
remaining `.swap` log replaced the segments whose base offsets lie in its offset range, so
those go and the `.swap` files lose their suffix. A crash at any point thus leaves either
the old segments or the cleaned one, never both and never neither.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import fsync_path
from ..records.batch import HEADER_SIZE, read_header
from .segment import Segment

if TYPE_CHECKING:
    from .partition import PartitionLog

log = logging.getLogger(__name__)

CLEANED_SUFFIX = ".cleaned"
SWAP_SUFFIX = ".swap"
DELETED_SUFFIX = ".deleted"
_SEGMENT_FILES = (".log", ".index", ".timeindex", ".txnindex")


def swap_steps(
    log_: PartitionLog, cleaned: Segment, old: list[Segment]
) -> list[Callable[[], None]]:
    """The file operations of one swap, in order; each is a point a crash may stop at (tests
    run a prefix of them to show that recovery is consistent from every one)."""

    def to_deleted(segment: Segment) -> Callable[[], None]:
        return lambda: segment.rename_files(DELETED_SUFFIX)

    return [
        lambda: cleaned.rename_files(SWAP_SUFFIX),
        *(to_deleted(segment) for segment in old),
        lambda: cleaned.rename_files(""),
        lambda: fsync_path(log_.directory),
    ]


def replace_segments(log_: PartitionLog, cleaned: Segment, old: list[Segment]) -> bool:
    """Swap `cleaned` in for `old` (on the event loop, between requests); False, with the
    cleaned files removed, if the log changed meanwhile (retention or deletion took a
    segment, or the high watermark is in one)."""
    segments = log_.segments
    readable = log_.readable_segments()
    if any(s not in segments for s in old) or readable[-1] in old or log_.active in old:
        cleaned.delete()
        return False
    for step in swap_steps(log_, cleaned, old):
        step()
    segments.replace(old, cleaned)
    for segment in old:
        segment.delete()
    return True


def _offset_of(path: Path) -> int | None:
    stem = path.name.split(".", 1)[0]
    return int(stem) if stem.isdigit() else None


def _next_offset(path: Path) -> int:
    """The offset after the last whole batch of a log file (readNextOffset)."""
    base = _offset_of(path) or 0
    next_offset = base
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        position = 0
        while position + HEADER_SIZE <= size:
            file.seek(position)
            header = read_header(file.read(HEADER_SIZE))
            if header.magic != 2 or header.size < HEADER_SIZE or position + header.size > size:
                break
            next_offset = header.next_offset
            position += header.size
    return next_offset


def complete_swaps(directory: Path, name: str) -> None:
    """Finish or undo swaps a crash interrupted (see the module docstring)."""
    files = [path for path in directory.iterdir() if path.is_file()]
    for path in files:
        if path.name.endswith(DELETED_SUFFIX):
            path.unlink(missing_ok=True)
    cleaned = [path for path in files if path.name.endswith(CLEANED_SUFFIX)]
    min_cleaned = min((_offset_of(p) or 0 for p in cleaned), default=None)
    swaps = []
    for path in files:
        if not path.name.endswith(SWAP_SUFFIX):
            continue
        offset = _offset_of(path)
        if offset is None or (min_cleaned is not None and offset >= min_cleaned):
            log.info("%s: deleting invalid swap file %s", name, path)
            path.unlink(missing_ok=True)
        else:
            swaps.append(path)
    for path in cleaned:
        path.unlink(missing_ok=True)
    ranges = [
        (_offset_of(path) or 0, _next_offset(path))
        for path in swaps
        if path.name.endswith(".log" + SWAP_SUFFIX)
    ]
    if ranges:
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        for path in directory.iterdir():
            offset = _offset_of(path)
            if path.suffix in _SEGMENT_FILES and offset is not None and low <= offset < high:
                log.info("%s: deleting %s, compacted but not yet deleted", name, path)
                path.unlink(missing_ok=True)
    for path in swaps:
        log.info("%s: recovering %s by renaming it from %s", name, path, SWAP_SUFFIX)
        os.replace(path, path.with_name(path.name.removesuffix(SWAP_SUFFIX)))
