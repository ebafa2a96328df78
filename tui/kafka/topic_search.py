"""Searching a topic on the broker: every record of a range, not only what a tail holds.

A tail keeps the newest records (100,000 by default); a record that has left its buffer can
no longer be filtered there. A search reads the range itself: Fetch requests, sessionless and
without waiting (its end is fixed when it starts), to every partition's leader at once, up to
4 MiB a partition a request.

It is fast in Python because it rarely decodes a record. It walks each response batch by
batch (a 61-byte header each), decompresses a batch only when it is compressed, and looks for
the query's needles (search_query.py) between the batch's first and last byte with one
`bytes.find` each, copying nothing: a batch without them holds no match, whatever its
thousands of records. Only the batches left are decoded, by aiokafka's C record reader
(aiokafka_private.batch_records), and tested record by record. Progress (records scanned,
matches, records a second) is counted from the batch headers, so it moves as fast as the
bytes arrive.

The search runs on the caller's event loop (the UI's): it gives the loop back every half
megabyte of a response and every 500 records it decodes, so a key press waits a few
milliseconds. bench/search.py measures both.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from localbroker.public import (
    HEADER_SIZE,
    ApiKey,
    BatchHeader,
    ErrorCode,
    IsolationLevel,
    ListOffsetsTimestamp,
    decompress,
    read_header,
)

from .admin import KafkaAdmin
from .aiokafka_private import batch_records
from .connection import Connection
from .errors import KafkaToolError, raise_for
from .models import TopicSelection
from .search_query import Needle, SearchQuery
from .tail import RawRecord, StartMode, StartPosition, resolve_partitions, start_offsets

DEFAULT_LIMIT = 1000
"""Matches kept before a search stops by itself: more than a list shows; narrow the query."""
PARTITION_FETCH_BYTES = 4 * 1024 * 1024
FETCH_BYTES = 16 * 1024 * 1024
YIELD_EVERY_BYTES = 512 * 1024
"""Bytes of a response read between two turns given back to the event loop."""
YIELD_EVERY_RECORDS = 500
"""Records decoded and tested between two turns given back to the event loop: a few
milliseconds (a producer's batch can hold 10,000 records, 50 ms of JSON reading)."""
FETCH_MAX_VERSION = 12
"""Topics by name (v13 names them by id)."""
_NO_HEADERS: tuple[tuple[str, bytes | None], ...] = ()
FROM_BEGINNING = StartPosition(StartMode.BEGINNING)
TO_END = StartPosition(StartMode.END)


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """What to search: a topic (some partitions or all), a range, a query, a match limit.
    The range starts as a tail does (beginning, offset, time, last N per partition) and ends
    at the log end when the search starts, an offset or a time (neither included)."""

    topic: str
    partitions: tuple[int, ...] | None = None
    start: StartPosition = FROM_BEGINNING
    end: StartPosition = TO_END
    query: SearchQuery = field(default_factory=SearchQuery)
    limit: int = DEFAULT_LIMIT


@dataclass(slots=True)
class PartitionScan:
    partition: int
    next_offset: int
    end_offset: int

    @property
    def done(self) -> bool:
        return self.next_offset >= self.end_offset


@dataclass(slots=True)
class SearchProgress:
    """Where a search is; `outcome` is None while it runs."""

    total: int = 0
    """Offsets in the range (records, but for gaps a compacted or transactional log has)."""
    scanned: int = 0
    matched: int = 0
    bytes: int = 0
    decoded: int = 0
    """Records read one by one (the rest were ruled out with their batch)."""
    started: float = 0.0
    finished: float | None = None
    outcome: str | None = None
    """"finished", "stopped at N matches", "cancelled", or what went wrong."""

    def elapsed(self, now: float) -> float:
        return (self.finished if self.finished is not None else now) - self.started

    def rate(self, now: float) -> float:
        """Records scanned a second."""
        elapsed = self.elapsed(now)
        return self.scanned / elapsed if elapsed > 0 else 0.0

    @property
    def fraction(self) -> float:
        return min(self.scanned / self.total, 1.0) if self.total else 1.0


class TopicSearch:
    """One search: `run(found)` scans and hands matches to `found` as they come; `cancel()`
    stops it at the next batch."""

    def __init__(
        self,
        connection: Connection,
        spec: SearchSpec,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connection = connection
        self.spec = spec
        self.clock = clock
        self.progress = SearchProgress()
        self._cancelled = False
        self._needles = spec.query.needles
        start, end = spec.start, spec.end
        self._since = start.value if start.mode is StartMode.TIMESTAMP else None
        self._until = end.value if end.mode is StartMode.TIMESTAMP else None

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def stopped(self) -> bool:
        return self._cancelled or self.progress.matched >= self.spec.limit

    async def run(self, found: Callable[[list[RawRecord]], None]) -> SearchProgress:
        """Scan the range; KafkaToolError for what the cluster refuses or a lost connection."""
        progress = self.progress
        progress.started = self.clock()
        try:
            async with KafkaAdmin(self.connection) as admin:
                by_leader = await self._plan(admin)
                await asyncio.gather(
                    *(self._scan(admin, node, scans, found) for node, scans in by_leader.items())
                )
        finally:
            progress.finished = self.clock()
            progress.outcome = self._outcome()
        return progress

    def _outcome(self) -> str:
        if self.progress.matched >= self.spec.limit:
            return f"stopped at {self.spec.limit:,} matches"
        return "cancelled" if self._cancelled else "finished"

    async def _plan(self, admin: KafkaAdmin) -> dict[int, list[PartitionScan]]:
        spec = self.spec
        if spec.end.mode in (StartMode.BEGINNING, StartMode.LAST):
            raise KafkaToolError("a search ends at the log end, an offset or a time")
        partitions = await resolve_partitions(admin, [TopicSelection(spec.topic, spec.partitions)])
        starts = await start_offsets(admin, partitions, spec.start)
        ends = await end_offsets(admin, partitions, spec.end)
        by_leader: dict[int, list[PartitionScan]] = {}
        for leader, wanted in (await admin.leaders(partitions)).items():
            by_leader[leader] = [PartitionScan(p, starts[(t, p)], ends[(t, p)]) for t, p in wanted]
        self.progress.total = sum(max(s.end_offset - s.next_offset, 0) for s in _all(by_leader))
        return by_leader

    async def _scan(
        self,
        admin: KafkaAdmin,
        node: int,
        scans: list[PartitionScan],
        found: Callable[[list[RawRecord]], None],
    ) -> None:
        by_partition = {scan.partition: scan for scan in scans}
        while not self.stopped and (pending := [s for s in scans if not s.done]):
            response = await admin.send(
                ApiKey.FETCH, self._fetch(pending), node=node, max_version=FETCH_MAX_VERSION
            )
            raise_for(response.error_code, None, f"fetch from broker {node}")
            for topic in response.responses:
                for data in topic.partitions:
                    scan = by_partition[data.partition_index]
                    if data.error_code == ErrorCode.offset_out_of_range:
                        _skip_deleted(scan, data.log_start_offset)
                        continue
                    raise_for(data.error_code, None, f"{self.spec.topic}-{scan.partition}")
                    await self._read(scan, data.records or b"", found)
                    if not data.records and data.high_watermark <= scan.next_offset:
                        scan.end_offset = scan.next_offset  # truncated since the start
                    if self.stopped:
                        return

    def _fetch(self, pending: Sequence[PartitionScan]) -> dict[str, Any]:
        return {
            "replica_id": -1,
            "max_wait": 0,
            "min_bytes": 0,
            "max_bytes": FETCH_BYTES,
            "isolation_level": IsolationLevel.READ_UNCOMMITTED,
            "session_id": 0,
            "session_epoch": -1,
            "topics": [
                {
                    "topic": self.spec.topic,
                    "partitions": [
                        {
                            "partition": scan.partition,
                            "fetch_offset": scan.next_offset,
                            "partition_max_bytes": PARTITION_FETCH_BYTES,
                        }
                        for scan in pending
                    ],
                }
            ],
            "forgotten_topics_data": [],
        }

    async def _read(
        self, scan: PartitionScan, data: bytes, found: Callable[[list[RawRecord]], None]
    ) -> None:
        """Take the batches of one partition's answer, from `scan.next_offset` on."""
        progress = self.progress
        haystack = _Haystack(data)
        position, since_yield = 0, 0
        while position + HEADER_SIZE <= len(data) and not scan.done and not self.stopped:
            header = read_header(data, position)
            end = position + header.size
            if end > len(data):
                break  # cut at the response's size limit: fetched again next time
            first = max(header.base_offset, scan.next_offset)
            last = min(header.next_offset, scan.end_offset)
            if last > first:
                if not header.is_control and self._may_match(haystack, header, position, end):
                    hits = await self._matches(data[position:end], scan.partition, first, last)
                    if hits:
                        hits = hits[: self.spec.limit - progress.matched]
                        progress.matched += len(hits)
                        found(hits)
                progress.scanned += last - first
                scan.next_offset = last
            progress.bytes += header.size
            position = end
            since_yield += header.size
            if since_yield >= YIELD_EVERY_BYTES:
                since_yield = 0
                await asyncio.sleep(0)

    def _may_match(self, haystack: _Haystack, header: BatchHeader, start: int, end: int) -> bool:
        """Whether the batch at `start` holds every needle (or there are none)."""
        if not self._needles:
            return True
        if header.compression:
            body = decompress(header.compression, haystack.data[start + HEADER_SIZE : end])
            return all(_Haystack(body).has(needle, 0, len(body)) for needle in self._needles)
        return all(haystack.has(needle, start + HEADER_SIZE, end) for needle in self._needles)

    async def _matches(
        self, batch: bytes, partition: int, first: int, last: int
    ) -> list[RawRecord]:
        topic, query, since, until = self.spec.topic, self.spec.query, self._since, self._until
        hits: list[RawRecord] = []
        for count, record in enumerate(batch_records(batch), 1):
            if count % YIELD_EVERY_RECORDS == 0:
                await asyncio.sleep(0)
            offset, timestamp = record.offset, record.timestamp
            if not first <= offset < last:
                continue
            self.progress.decoded += 1
            if (since is not None and timestamp < since) or (
                until is not None and timestamp >= until
            ):
                continue
            headers = record.headers
            raw: RawRecord = (
                topic,
                partition,
                offset,
                timestamp,
                record.timestamp_type,
                record.key,
                record.value,
                tuple(headers) if headers else _NO_HEADERS,
            )
            if query.matches(raw):
                hits.append(raw)
        return hits


class _Haystack:
    """A partition's bytes, searched between two positions without copying them; lowercased
    once (for needles in any case) when first asked."""

    __slots__ = ("_lowered", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._lowered: bytes | None = None

    def has(self, needle: Needle, start: int, end: int) -> bool:
        data = self.data
        if needle.json and data.find(b"\\u", start, end) >= 0:
            return True  # \u0041 spells A: the bytes cannot rule the batch out
        if needle.ignore_case:
            if self._lowered is None:
                self._lowered = data.lower()
            data = self._lowered
        return data.find(needle.data, start, end) >= 0


def _skip_deleted(scan: PartitionScan, log_start: int) -> None:
    """Records deleted (retention, DeleteRecords) since the search began: on from the log's
    new start, or done if the range is gone."""
    moved = min(log_start, scan.end_offset)
    scan.next_offset = moved if moved > scan.next_offset else scan.end_offset


def _all(by_leader: dict[int, list[PartitionScan]]) -> list[PartitionScan]:
    return [scan for scans in by_leader.values() for scan in scans]


async def end_offsets(
    admin: KafkaAdmin, partitions: Sequence[tuple[str, int]], end: StartPosition
) -> dict[tuple[str, int], int]:
    """Where each partition's range ends (not included): the log end now, an offset within
    the log, or the first offset at or after a time (the log end when none is)."""
    latest = {
        tp: offset
        for tp, (offset, _) in (
            await admin.list_offsets(partitions, ListOffsetsTimestamp.LATEST)
        ).items()
    }
    if end.mode is StartMode.OFFSET:
        return {tp: min(max(end.value, 0), latest[tp]) for tp in partitions}
    if end.mode is StartMode.TIMESTAMP:
        by_time = await admin.list_offsets(partitions, end.value)
        return {tp: latest[tp] if by_time[tp][0] < 0 else by_time[tp][0] for tp in partitions}
    return latest
