"""The records a tail holds: the newest N, in a ring, at a fixed cost however fast they come.

A tail of a busy topic receives tens of thousands of records a second and must keep only
the newest (the buffer), number them so a view can follow a record while older ones fall
off the front, and never make the UI pay per record. See `RecordRing`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .tail import RawRecord, TailRecord

DEFAULT_CAPACITY = 100_000


class RecordRing:
    """The newest `capacity` records; older ones are dropped as new ones arrive.

    Records are numbered by arrival (`seq`, from 0): `first` is the oldest still held and
    `total` the count ever added, so a view can tell which of its rows fell off the front.
    Appends and lookups are O(1) (a preallocated list used circularly; a deque would make
    lookups in the middle O(n)).

    Records are held as plain tuples (`RawRecord`), not TailRecords: Python's garbage
    collector stops tracking a plain tuple of strings, ints and bytes, but keeps tracking
    a named tuple, and 100,000 tracked records made each full collection take 150-250 ms,
    a visible freeze every few seconds while tailing. `ring[seq]` and `records()` hand
    out TailRecords; `raw()` the tuples themselves (for filtering, which reads them by
    position).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("the capacity must be at least 1")
        self._slots: list[RawRecord | None] = [None] * capacity
        self._total = 0
        self._held = 0

    @property
    def capacity(self) -> int:
        return len(self._slots)

    @property
    def total(self) -> int:
        """Records ever added (the seq the next one gets)."""
        return self._total

    @property
    def first(self) -> int:
        """The seq of the oldest record held."""
        return self._total - self._held

    def __len__(self) -> int:
        return self._held

    def extend(self, records: Sequence[RawRecord]) -> None:
        """Add records (TailRecords or plain tuples), dropping the oldest beyond capacity."""
        capacity = len(self._slots)
        count = len(records)
        if count > capacity:
            self._total += count - capacity
            records = records[count - capacity :]
            count = capacity
        at = self._total % capacity
        head = min(count, capacity - at)
        self._slots[at : at + head] = map(tuple, records[:head])  # type: ignore[arg-type]
        if head < count:
            self._slots[: count - head] = map(tuple, records[head:])  # type: ignore[arg-type]
        self._total += count
        self._held = min(self._held + count, capacity)

    def __getitem__(self, seq: int) -> TailRecord:
        if not self.first <= seq < self._total:
            raise IndexError(f"record {seq} is not held (held: {self.first}..{self._total - 1})")
        return TailRecord._make(self._slots[seq % len(self._slots)])  # type: ignore[arg-type]

    def raw(self, start: int | None = None, stop: int | None = None) -> list[RawRecord]:
        """Held records with seq in [start, stop), oldest first, as plain tuples (a copy:
        safe to read in steps while records arrive)."""
        low = self.first if start is None else max(start, self.first)
        high = self._total if stop is None else min(stop, self._total)
        if high <= low:
            return []
        capacity = len(self._slots)
        a, b = low % capacity, high % capacity
        chunk = self._slots[a:b] if a < b else self._slots[a:] + self._slots[:b]
        return chunk  # type: ignore[return-value]  # every slot in range is filled

    def records(self, start: int | None = None, stop: int | None = None) -> list[TailRecord]:
        """Held records with seq in [start, stop), oldest first (a copy)."""
        return list(map(TailRecord._make, self.raw(start, stop)))

    def resize(self, capacity: int) -> None:
        """A new capacity, keeping the newest records and their seqs."""
        if capacity < 1:
            raise ValueError("the capacity must be at least 1")
        kept = self.raw()[-capacity:]
        total = self._total
        self._slots = [None] * capacity
        self._total, self._held = total - len(kept), 0
        self.extend(kept)

    def clear(self) -> None:
        self._slots = [None] * len(self._slots)
        self._total = self._held = 0
