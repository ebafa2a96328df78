"""A segment's aborted-transaction index (`<base>.txnindex`), in Kafka's format.

Kafka's TransactionIndex holds one AbortedTxn entry per transaction aborted by an ABORT
marker in the segment, appended when the marker is written: Version int16 (0), ProducerId
int64, FirstOffset int64, LastOffset int64 (the marker's offset), LastStableOffset int64
(the last stable offset once the transaction ended). Writing the same bytes lets Kafka's
tools read them (`kafka-dump-log.sh --files 00000000000000000000.txnindex`).

Unlike Kafka, whose index files appear with their first entry, every segment created here
gets one, empty until an abort lands in it: a segment without one (written before localbroker
kept these files, or the file lost) tells the loader to rebuild the indexes from the batches.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..files import fsync, write_atomically

VERSION = 0
SUFFIX = ".txnindex"
_ENTRY = struct.Struct(">hqqqq")


@dataclass(frozen=True, slots=True)
class AbortedTransaction:
    producer_id: int
    first_offset: int
    last_offset: int
    """The offset of the ABORT marker."""
    last_stable_offset: int
    """The partition's last stable offset once this transaction ended."""


def _encode(entries: Sequence[AbortedTransaction]) -> bytes:
    return b"".join(
        _ENTRY.pack(VERSION, e.producer_id, e.first_offset, e.last_offset, e.last_stable_offset)
        for e in entries
    )


class TransactionIndex:
    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self._appended = 0
        self._flushed = 0
        if create:
            self.path.touch()

    def append(self, entry: AbortedTransaction) -> None:
        """Add an entry (fsynced by the segment's next flush)."""
        with open(self.path, "ab") as index:
            index.write(_encode([entry]))
        self._appended += 1

    def flush(self) -> None:
        """fsync entries appended since the last flush (off the event loop)."""
        appended = self._appended
        if appended == self._flushed:
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fsync(fd)
        finally:
            os.close(fd)
        self._flushed = appended

    def read(self, base_offset: int, next_offset: int) -> list[AbortedTransaction] | None:
        """The entries, or None when the file is missing or not a sane index of a segment
        holding offsets [base_offset, next_offset): a cut entry, an unknown version, or an
        entry outside the segment or out of order (Kafka's sanityCheck checks the first
        bound only)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if len(data) % _ENTRY.size:
            return None
        entries = []
        previous = base_offset - 1
        for version, pid, first, last, stable in _ENTRY.iter_unpack(data):
            if version != VERSION or not previous < last < next_offset or first > last:
                return None
            entries.append(AbortedTransaction(pid, first, last, stable))
            previous = last
        return entries

    def rewrite(self, entries: Sequence[AbortedTransaction]) -> None:
        write_atomically(self.path, _encode(entries))

    def rename(self, path: Path) -> None:
        """Move the file (the cleaner's swap gives segments' files a suffix and takes it away)."""
        if self.path.exists():
            os.replace(self.path, path)
        self.path = path

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)
