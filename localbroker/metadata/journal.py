"""The metadata store's journal: each change one line appended and fsynced, replayed at start.

The store used to rewrite its whole document for every change, so creating a topic cost as
much as all the topics already there (1,000 topics of 10 partitions: 20 s). A change is now
one line appended to this file and fsynced before it becomes visible; the document is
rewritten with everything (compacted) only when the journal has grown as large as it, and
at every start, so a change costs the same however many topics there are.

What a crash can leave, and what is made of it:
- A line is `<crc32 of the JSON, 8 hex digits> <JSON>\\n`, written with one write(2). A
  process killed during the write leaves at most a torn last line, whose change was never
  acknowledged (the fsync had not returned): reading stops there and cuts the file back to
  its last whole line.
- A bad line with whole lines after it cannot come from a crash (the file is only appended
  to): the journal is unreadable, and the start stops saying so, as for the document.
- Compaction writes the document (atomically) before it empties the journal. Killed between
  the two, the journal's changes are replayed over a document that has them already; each
  change sets one key (a topic, the broker configs, the producer id block) to a value or
  removes it, so replaying a change twice leaves what replaying it once left.
- A failed append (a full disk) cuts the file back to where it was, so the next line starts
  on a clean boundary and nothing of the failed change is ever read.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..files import fsync, fsync_path

Change = Mapping[str, Any]


class Journal:
    """Changes appended to `path`, each durable when `append` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self) -> list[Any]:
        """The changes in order, the file cut back to its last whole line if its end is torn;
        ValueError saying where when a line before the end is bad."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        changes: list[Any] = []
        position = 0
        while position < len(data):
            end = data.find(b"\n", position)
            change = _decode(data[position:end]) if end >= 0 else None
            if change is None:
                if end >= 0 and data.find(b"\n", end + 1) >= 0:
                    raise ValueError(f"line {len(changes) + 1} is damaged")
                self._cut(position)  # a torn last line: never acknowledged
                break
            changes.append(change)
            position = end + 1
        return changes

    def append(self, change: Change) -> None:
        """Write `change` as one line and fsync it; on failure the file is as it was."""
        payload = json.dumps(change, separators=(",", ":")).encode()
        line = b"%08x %s\n" % (zlib.crc32(payload), payload)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            start = os.fstat(fd).st_size
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(f"short write to {self.path}")
                fsync(fd)
            except OSError:
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
        if created:
            fsync_path(self.path.parent)

    def clear(self) -> None:
        """Empty the journal (its changes are in the document now)."""
        if self.path.exists():
            self._cut(0)

    def _cut(self, size: int) -> None:
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.ftruncate(fd, size)
            fsync(fd)
        finally:
            os.close(fd)


def _decode(line: bytes) -> Any:
    """The change a whole line holds, None when its checksum or JSON is wrong."""
    checksum, _, payload = line.partition(b" ")
    try:
        if int(checksum, 16) != zlib.crc32(payload) or len(checksum) != 8:
            return None
        return json.loads(payload)
    except ValueError:
        return None
