"""How a tailed record reads, which records a filter keeps, and the rows a tail shows.

A record is read as a person reads it: its key, its value and its headers (names and
values), each as text when the bytes are printable UTF-8, and as lowercase hex otherwise
(not UTF-8, or control characters other than tab and line breaks: a text view of those
would be invisible or garble the terminal). The list, the detail view and the filter all
use that one reading, so what you see is what you search; exports keep every byte
(non-text as base64). A filter is a substring by default, a regular expression on
request, case-insensitive unless asked otherwise.

`RecordView` is the list of rows over a `RecordRing`: every held record, or the ones the
filter keeps. A new filter over a full ring (100,000 records) is too slow for the event
loop, so the view splits the work: records arriving after the change are filtered
incrementally by `catch_up()`, the ones already held are refiltered elsewhere
(`set_filter()` returns a `RefilterJob` holding a copy to work on, which runs in a thread)
and merged back with `merge()`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .record_ring import RecordRing
from .tail import HEADERS, KEY, TIMESTAMP_TYPES, VALUE, RawRecord, TailRecord

_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ONE_LINE = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
_UTF8_MAX_BYTES = 4
_HEX_DIGITS = re.compile(r"[0-9a-f]+")
EXPORT_STEP = 1000
"""Records an export step encodes (a few milliseconds)."""
REFILTER_STEP = 100
"""Records read between looks at the clock: well under a millisecond raw, a few when each is
a ~1 KB schema record to decode first (~50 µs each)."""
REFILTER_SLICE_S = 0.005
"""How long a refilter holds the event loop at a time. A count alone cannot bound it: a
schema record costs fifty raw ones, and 2,000 of them held the loop ~100 ms a step, which
every hop of a key press (key, input, filter, frame) waited for in turn."""


def is_text(data: bytes | None) -> bool:
    """Printable UTF-8 (tabs and line breaks allowed); null counts as text."""
    if data is None:
        return True
    if _CONTROL.search(data) is not None:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def text_of(data: bytes | None) -> str:
    """The bytes as a person reads them: the text, or hex when they are not text ('' for
    null)."""
    if data is None:
        return ""
    if _CONTROL.search(data) is not None:
        return data.hex()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex()


class Preview(NamedTuple):
    text: str
    binary: bool
    """The text is the bytes in hex."""


def preview(data: bytes | None, limit: int) -> Preview:
    """At most `limit` characters of `text_of(data)` on one line, reading only the bytes
    that can show (a 1 MB value costs no more than a short one)."""
    if data is None or limit <= 0:
        return Preview("", False)
    head = data[: limit * _UTF8_MAX_BYTES]
    if _CONTROL.search(head) is not None:
        return Preview(head[: (limit + 1) // 2].hex()[:limit], True)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut_mid_character = len(head) < len(data) and exc.start >= len(head) - 3
        if not (cut_mid_character and exc.reason == "unexpected end of data"):
            return Preview(head[: (limit + 1) // 2].hex()[:limit], True)
        text = head[: exc.start].decode("utf-8")
    return Preview(text[:limit].translate(_ONE_LINE), False)


def _json_bytes(data: bytes | None) -> str | dict[str, str] | None:
    if data is None:
        return None
    if is_text(data):
        return data.decode("utf-8")
    return {"base64": base64.b64encode(data).decode("ascii")}


def record_json(record: TailRecord) -> dict[str, Any]:
    """The record as one JSON object (what copy and export write), shaped like
    `kwb consume --output json` but without losing bytes: a key, value or header value that
    is not text becomes {"base64": "..."}."""
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestamp_type": TIMESTAMP_TYPES.get(record.timestamp_type, "NO_TIMESTAMP"),
        "key": _json_bytes(record.key),
        "value": _json_bytes(record.value),
        "headers": [[name, _json_bytes(value)] for name, value in record.headers],
    }


async def export_json_lines(
    records: Sequence[TailRecord], path: Path, step: int = EXPORT_STEP
) -> Path:
    """Write one `record_json` object a line to `path`, or to `name-2.jsonl`... when it
    exists; returns the path written. Encodes `step` records at a time and yields to the
    event loop between steps: a UI stays responsive while 100,000 records are written
    (a thread would not help: it would hold the GIL the UI waits for)."""
    path = _free_path(path)
    with path.open("x", encoding="utf-8") as out:
        for start in range(0, len(records), step):
            out.writelines(
                json.dumps(record_json(record), ensure_ascii=False) + "\n"
                for record in records[start : start + step]
            )
            await asyncio.sleep(0)
    return path


def _free_path(path: Path) -> Path:
    candidate, number = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate


class FilterError(ValueError):
    """A filter that cannot be used (an invalid regular expression); str() says why."""


class RecordFilter:
    """Keeps the records whose key, value, header names or header values contain `text`
    (or match it as a regular expression with `regex=True`), read as `text_of` reads them.

    A substring is looked for in the bytes themselves, lowercased by bytes.lower() when
    case is ignored: no decoding for the records that don't contain it, which is most of
    them (about 1 µs a record instead of 2-3). Bytes that are not text are searched as hex,
    which only a needle of hex digits can match. A needle with non-ASCII letters and any
    regular expression are matched on decoded text.

    With `schema_text` (a registry's decoder, schema_registry/wire.py), a key or value in
    Confluent's wire format is searched as the JSON it decodes to (or the marker saying why
    it does not decode): the filter finds fields and values, not the Avro bytes.
    """

    __slots__ = (
        "_bytes_match",
        "_name_match",
        "_schema_text",
        "_shown",
        "ignore_case",
        "regex",
        "text",
    )

    def __init__(
        self,
        text: str,
        *,
        regex: bool = False,
        ignore_case: bool = True,
        schema_text: Callable[[bytes], str | None] | None = None,
    ) -> None:
        self.text = text
        self.regex = regex
        self.ignore_case = ignore_case
        self._schema_text = schema_text
        self._name_match: Callable[[str], object]
        self._bytes_match: Callable[[bytes], object]
        flags = re.IGNORECASE if ignore_case else 0
        try:
            pattern = re.compile(text if regex else re.escape(text), flags)
        except re.error as exc:
            raise FilterError(f"invalid regex {text!r}: {exc}") from None
        self._shown = pattern
        if regex:
            search = pattern.search
            self._name_match = search
            self._bytes_match = lambda data: search(text_of(data))
            return
        needle = text.lower() if ignore_case else text
        if ignore_case and not needle.isascii():
            self._name_match = lambda name: needle in name.lower()
            self._bytes_match = lambda data: needle in text_of(data).lower()
            return
        if ignore_case:
            self._name_match = lambda name: needle in name.lower()
        else:
            self._name_match = lambda name: needle in name
        encoded = needle.encode()
        hex_needle = needle if _HEX_DIGITS.fullmatch(needle) else None

        def bytes_match(data: bytes) -> bool:
            if encoded in (data.lower() if ignore_case else data) and is_text(data):
                return True
            return hex_needle is not None and hex_needle in data.hex() and not is_text(data)

        self._bytes_match = bytes_match

    def __repr__(self) -> str:
        flags = ("regex" if self.regex else "substring") + (
            ", ignore case" if self.ignore_case else ""
        )
        return f"RecordFilter({self.text!r}, {flags})"

    def spans(self, shown: str) -> list[tuple[int, int]]:
        """Where the filter matches in text as a list shows it (start, end), to mark them."""
        return [m.span() for m in self._shown.finditer(shown) if m.end() > m.start()]

    def matches_bytes(self, data: bytes | None) -> bool:
        """Whether one key, value or header value matches (a search's key: or value:)."""
        return data is not None and bool(self._bytes_match(data))

    def _matches_field(self, data: bytes) -> bool:
        """A key or value: as decoded through its schema when it has one, else its bytes."""
        if self._schema_text is not None and data[:1] == b"\x00":
            decoded = self._schema_text(data)
            if decoded is not None:
                return bool(self._name_match(decoded))
        return bool(self._bytes_match(data))

    def matches(self, record: RawRecord) -> bool:
        """Whether the filter keeps `record` (a TailRecord or the ring's plain tuple)."""
        match = self._bytes_match
        key, value = record[KEY], record[VALUE]
        if key is not None and self._matches_field(key):
            return True
        if value is not None and self._matches_field(value):
            return True
        for name, header in record[HEADERS]:
            if self._name_match(name) or (header is not None and match(header)):
                return True
        return False


def matching(
    records: Sequence[RawRecord], record_filter: RecordFilter, first_seq: int
) -> list[int]:
    """The seqs of the records the filter keeps (`records[i]` has seq `first_seq + i`)."""
    keep = record_filter.matches
    return [first_seq + index for index, record in enumerate(records) if keep(record)]


class RefilterJob:
    """The records held when a filter changed, to refilter in steps, away from the event
    loop's hot path; `found` grows with each `step()`."""

    def __init__(self, record_filter: RecordFilter, records: list[RawRecord], first_seq: int):
        self.record_filter = record_filter
        self.records = records
        self.first_seq = first_seq
        self.found: list[int] = []
        self._done = 0

    @property
    def finished(self) -> bool:
        return self._done >= len(self.records)

    def step(self, count: int = REFILTER_STEP) -> bool:
        """Filter the next `count` records; True once every record has been filtered."""
        start, stop = self._done, min(self._done + count, len(self.records))
        self.found += matching(self.records[start:stop], self.record_filter, self.first_seq + start)
        self._done = stop
        return self.finished

    def step_for(
        self, seconds: float = REFILTER_SLICE_S, clock: Callable[[], float] = time.perf_counter
    ) -> bool:
        """Filter in steps for about `seconds`; True once every record has been filtered."""
        ends = clock() + seconds
        while not self.step():
            if clock() >= ends:
                return False
        return True

    def run(self) -> list[int]:
        """Every step at once (for tests and callers off the UI)."""
        while not self.step():
            pass
        return self.found


class RecordView:
    """The rows shown: all held records, or the seqs of those the filter keeps."""

    def __init__(self, ring: RecordRing) -> None:
        self.ring = ring
        self.filter: RecordFilter | None = None
        self.refiltering = False
        """True from a filter change until its refilter is merged."""
        self._matches: list[int] = []
        self._filtered_upto = 0
        self._job: RefilterJob | None = None

    def _trim(self) -> None:
        first = self.ring.first
        if self._matches and self._matches[0] < first:
            del self._matches[: bisect_left(self._matches, first)]

    def __len__(self) -> int:
        if self.filter is None:
            return len(self.ring)
        self._trim()
        return len(self._matches)

    def seq_at(self, row: int) -> int:
        if self.filter is None:
            return self.ring.first + row
        self._trim()
        return self._matches[row]

    def record_at(self, row: int) -> TailRecord:
        return self.ring[self.seq_at(row)]

    def row_at_or_after(self, seq: int) -> int:
        """The row of the first shown record with seq >= `seq` (len(self) when none)."""
        if self.filter is None:
            return min(max(seq - self.ring.first, 0), len(self.ring))
        self._trim()
        return bisect_left(self._matches, seq)

    def records(self) -> list[TailRecord]:
        """Every shown record, oldest first (a copy)."""
        if self.filter is None:
            return self.ring.records()
        self._trim()
        ring = self.ring
        return [ring[seq] for seq in self._matches]

    def catch_up(self) -> None:
        """Filter the records that arrived since the last call (cheap: a tick's worth)."""
        if self.filter is None:
            return
        start = max(self._filtered_upto, self.ring.first)
        new = self.ring.raw(start, self.ring.total)
        self._filtered_upto = self.ring.total
        if new:
            self._matches += matching(new, self.filter, start)
        self._trim()

    def set_filter(self, record_filter: RecordFilter | None) -> RefilterJob | None:
        """Use `record_filter` from now on; the job to run for the records already held
        (None when there is nothing to refilter)."""
        self.filter = record_filter
        self._matches = []
        self._filtered_upto = self.ring.total
        self._job = None
        if record_filter is None or len(self.ring) == 0:
            self.refiltering = False
            return None
        self.refiltering = True
        self._job = RefilterJob(record_filter, self.ring.raw(), self.ring.first)
        return self._job

    def merge(self, job: RefilterJob) -> bool:
        """Put a finished refilter's seqs in front of the ones found since; False (and
        nothing changes) when the filter or the records changed again meanwhile."""
        if job is not self._job or not job.finished:
            return False
        self._job = None
        first = self.ring.first
        self._matches = job.found[bisect_left(job.found, first) :] + self._matches
        self.refiltering = False
        return True

    def reset(self) -> RefilterJob | None:
        """After the ring was cleared or resized: the current filter, from scratch."""
        return self.set_filter(self.filter)
