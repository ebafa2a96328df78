"""Kafka's sparse offset and time indexes (`.index`, `.timeindex`), kept in memory and on disk.

Entries are appended in memory as batches arrive and written to the index files when the
segment is flushed, rolled or closed. Recovery never trusts an index beyond its segment's
recovery point: a missing or inconsistent index is rebuilt from the log itself.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
from array import array
from bisect import bisect_right
from pathlib import Path

from .. import files

_OFFSET_ENTRY = struct.Struct(">ii")
_TIME_ENTRY = struct.Struct(">qi")


class _IndexFile:
    """Shared file handling: the entries before `_persisted` are already on disk, and all of
    the file is durable when `_synced` (so a flush with nothing new skips its fsync, which
    costs a disk cache flush even on an unchanged file: with log.flush.interval.messages=1
    that was two of every three fsyncs)."""

    entry_size: int

    def __init__(self, path: Path) -> None:
        self.path = path
        self._persisted = 0
        self._synced = False

    def __len__(self) -> int:
        raise NotImplementedError

    def _entry_bytes(self, index: int) -> bytes:
        raise NotImplementedError

    def flush(self, fsync: bool = False) -> None:
        """Write the entries added since the last flush (and fsync the file if asked).

        A write that fails (a full disk) is cut back to the entries written before, so the
        file never ends in a partial entry.
        """
        count = len(self)
        if self._persisted > count:
            self._rewrite()
        elif self._persisted < count:
            data = b"".join(self._entry_bytes(i) for i in range(self._persisted, count))
            try:
                with open(self.path, "ab") as file:
                    file.write(data)
                    if fsync:
                        file.flush()
                        files.fsync(file.fileno())
            except OSError:
                with contextlib.suppress(OSError):
                    os.truncate(self.path, self._persisted * self.entry_size)
                raise
            self._persisted = count
            self._synced = fsync
            return
        if fsync and not self._synced and self.path.exists():
            with open(self.path, "rb+") as file:
                files.fsync(file.fileno())
            self._synced = True

    def _rewrite(self) -> None:
        files.write_atomically(self.path, b"".join(self._entry_bytes(i) for i in range(len(self))))
        self._persisted = len(self)
        self._synced = True

    def _read_file(self) -> bytes | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if len(data) % self.entry_size:
            return None
        return data

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
        self._persisted = 0
        self._synced = False

    def rename(self, path: Path) -> None:
        if self.path.exists():
            os.replace(self.path, path)
        self.path = path


class OffsetIndex(_IndexFile):
    """Maps a batch's last offset to the file position where that batch starts."""

    entry_size = _OFFSET_ENTRY.size

    def __init__(self, path: Path, base_offset: int) -> None:
        super().__init__(path)
        self.base_offset = base_offset
        self._relative_offsets = array("i")
        self._positions = array("i")

    def __len__(self) -> int:
        return len(self._positions)

    def _entry_bytes(self, index: int) -> bytes:
        return _OFFSET_ENTRY.pack(self._relative_offsets[index], self._positions[index])

    def append(self, offset: int, position: int) -> None:
        self._relative_offsets.append(offset - self.base_offset)
        self._positions.append(position)

    @property
    def last_entry(self) -> tuple[int, int] | None:
        if not self._positions:
            return None
        return self.base_offset + self._relative_offsets[-1], self._positions[-1]

    def lookup(self, offset: int) -> int:
        """Position of a batch at or before the one containing `offset` (0 when none is indexed)."""
        slot = bisect_right(self._relative_offsets, offset - self.base_offset) - 1
        return self._positions[slot] if slot >= 0 else 0

    def clear(self) -> None:
        """Forget every entry, in memory and on disk (before a rebuild)."""
        self._relative_offsets = array("i")
        self._positions = array("i")
        self.delete()

    def truncate_to_position(self, position: int) -> None:
        """Drop entries for batches at or after `position` (the log was cut there)."""
        keep = bisect_right(self._positions, position - 1)
        del self._relative_offsets[keep:]
        del self._positions[keep:]

    def load(self, segment_size: int) -> bool:
        """Read the index file; False when it is missing or does not fit the segment."""
        data = self._read_file()
        if data is None:
            return False
        raw = array("i", data)
        if raw.itemsize != 4:
            return False
        if sys.byteorder == "little":
            raw.byteswap()
        relative, positions = raw[0::2], raw[1::2]
        previous_offset, previous_position = -1, -1
        for rel, pos in zip(relative, positions, strict=True):
            if rel <= previous_offset or pos <= previous_position or pos >= segment_size:
                return False
            previous_offset, previous_position = rel, pos
        self._relative_offsets, self._positions = relative, positions
        self._persisted = len(positions)
        return True


class TimeIndex(_IndexFile):
    """Maps a max timestamp seen so far to the offset of the batch that carried it."""

    entry_size = _TIME_ENTRY.size

    def __init__(self, path: Path, base_offset: int) -> None:
        super().__init__(path)
        self.base_offset = base_offset
        self._timestamps: list[int] = []
        self._relative_offsets: list[int] = []

    def __len__(self) -> int:
        return len(self._timestamps)

    def _entry_bytes(self, index: int) -> bytes:
        return _TIME_ENTRY.pack(self._timestamps[index], self._relative_offsets[index])

    def maybe_append(self, timestamp: int, offset: int) -> None:
        """Add an entry only when time moves forward, keeping the index monotonic."""
        if self._timestamps and timestamp <= self._timestamps[-1]:
            return
        self._timestamps.append(timestamp)
        self._relative_offsets.append(offset - self.base_offset)

    @property
    def last_entry(self) -> tuple[int, int] | None:
        if not self._timestamps:
            return None
        return self._timestamps[-1], self.base_offset + self._relative_offsets[-1]

    def lookup(self, timestamp: int) -> int:
        """An offset at or before the first record with a timestamp >= `timestamp`."""
        slot = bisect_right(self._timestamps, timestamp - 1) - 1
        return self.base_offset + self._relative_offsets[slot] if slot >= 0 else self.base_offset

    def clear(self) -> None:
        """Forget every entry, in memory and on disk (before a rebuild)."""
        self._timestamps.clear()
        self._relative_offsets.clear()
        self.delete()

    def truncate_to_offset(self, offset: int) -> None:
        """Drop entries pointing at `offset` or later."""
        relative = offset - self.base_offset
        while self._relative_offsets and self._relative_offsets[-1] >= relative:
            self._relative_offsets.pop()
            self._timestamps.pop()

    def load(self, next_offset: int) -> bool:
        data = self._read_file()
        if data is None:
            return False
        timestamps: list[int] = []
        relative_offsets: list[int] = []
        for timestamp, relative in _TIME_ENTRY.iter_unpack(data):
            if timestamps and (timestamp <= timestamps[-1] or relative < relative_offsets[-1]):
                return False
            if self.base_offset + relative >= next_offset:
                return False
            timestamps.append(timestamp)
            relative_offsets.append(relative)
        self._timestamps, self._relative_offsets = timestamps, relative_offsets
        self._persisted = len(timestamps)
        return True
