"""Live tail of one or more topics: records held raw, in a bounded ring, fetched without a group.

A tail is a look, not a consumer group member: `TailSession` assigns the partitions itself,
resolves where to start (the beginning, the end, an offset, a timestamp through ListOffsets
by time, or the last N records of each partition) before the first fetch so the starting
offsets are known and reported, and hands records over in batches. Records stay as the
broker's bytes (`TailRecord`); decoding happens only for what a UI shows or a filter reads.
`RateMeter` turns arrivals into the records/s a tail shows. The records are held by a
`RecordRing` (record_ring.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, NamedTuple

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError as AIOKafkaError

from localbroker.public import IsolationLevel, ListOffsetsTimestamp

from .admin import KafkaAdmin
from .clients import new_consumer, start
from .connection import Connection
from .control_records import ControlRecords
from .errors import KafkaToolError
from .models import TopicSelection

TIMESTAMP_TYPES = {0: "CreateTime", 1: "LogAppendTime"}
MAX_RECORDS_PER_BATCH = 2000
POLL_MS = 200
_CLOSE_TIMEOUT_S = 10.0
Headers = tuple[tuple[str, bytes | None], ...]
RawRecord = tuple[str, int, int, int, int, bytes | None, bytes | None, Headers]
"""A TailRecord's fields as a plain tuple (how the ring holds records)."""
KEY: Final = 5
VALUE: Final = 6
HEADERS: Final = 7
"""Positions in a RawRecord (Final, so that type checkers know each field's type)."""
_NO_HEADERS: Headers = ()
_TOPIC = r"[A-Za-z0-9._-]+"
_PARTS = r"\d+(?:-\d+)?(?:,\d+(?:-\d+)?)*"
_ENTRY = re.compile(rf"[\s,]*(?P<topic>{_TOPIC})(?::(?P<parts>{_PARTS}))?[\s,]*")
_TOPICS_CHARACTER = re.compile(r"[A-Za-z0-9._\-,:\s]")
_RELATIVE = re.compile(r"^-?\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)(?:\s+ago)?$", re.IGNORECASE)
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


class TailRecord(NamedTuple):
    """One record as fetched: bytes untouched (a tuple: cheap to build 20,000 times a second)."""

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: Headers


# -- what to tail ----------------------------------------------------------------------------


def _partition_list(text: str) -> list[int]:
    found: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if last < first:
            raise ValueError(f"partition range {part} runs backwards")
        found.extend(range(first, last + 1))
    return found


def in_topics_syntax(character: str) -> bool:
    """Whether `character` can be part of what `parse_topics` reads (a topic name, a
    partition list, a separator): `/` or `?` never are, so a field of topics need not take
    them from the keys bound to them."""
    return _TOPICS_CHARACTER.fullmatch(character) is not None


def parse_topics(text: str) -> list[TopicSelection]:
    """Topics as typed: `orders`, `orders payments`, `orders,payments`, `orders:0,2 audit:1-3`
    (a colon picks partitions; a topic named twice gets the union)."""
    chosen: dict[str, set[int] | None] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _ENTRY.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot read the topics from {text[position:]!r}")
        position = match.end()
        topic, parts = match["topic"], match["parts"]
        if parts is None:
            chosen[topic] = None
            continue
        wanted = set(_partition_list(parts))
        if topic not in chosen:
            chosen[topic] = wanted
        elif (already := chosen[topic]) is not None:
            already |= wanted
    if not chosen:
        raise ValueError("name a topic to tail")
    return [
        TopicSelection(topic, None if parts is None else tuple(sorted(parts)))
        for topic, parts in chosen.items()
    ]


class StartMode(StrEnum):
    BEGINNING = "beginning"
    END = "end"
    OFFSET = "offset"
    TIMESTAMP = "timestamp"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class StartPosition:
    """Where each partition starts: `value` is the offset, the epoch ms or N, by mode."""

    mode: StartMode
    value: int = 0


def parse_timestamp(text: str, now_ms: int | None = None) -> int:
    """Epoch milliseconds from `1714563000000`, `2024-05-01T12:30` (local time unless the
    text names a zone) or a time ago: `-5m`, `90s`, `2h ago`, `1d`."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    relative = _RELATIVE.match(text)
    if relative is not None:
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        return now - int(float(relative[1]) * _UNIT_MS[relative[2].lower()])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use epoch ms, an ISO date-time or a time ago like -5m"
        ) from None
    return int(moment.timestamp() * 1000)


def parse_start(mode: str, value: str, now_ms: int | None = None) -> StartPosition:
    """A StartPosition from the mode's name and the text of its value; ValueError says why
    the value does not fit the mode."""
    start_mode = StartMode(mode)
    text = value.strip()
    if start_mode in (StartMode.BEGINNING, StartMode.END):
        return StartPosition(start_mode)
    if start_mode is StartMode.TIMESTAMP:
        return StartPosition(start_mode, parse_timestamp(text, now_ms))
    what = "an offset" if start_mode is StartMode.OFFSET else "a number of records"
    if not text.isdigit():
        raise ValueError(f"{text or 'nothing'!r} is not {what}: enter a whole number ≥ 0")
    return StartPosition(start_mode, int(text))


async def start_offsets(
    admin: KafkaAdmin, partitions: Sequence[tuple[str, int]], position: StartPosition
) -> dict[tuple[str, int], int]:
    """The offset each partition starts at, resolved now (not lazily at the first fetch, so
    records produced meanwhile are neither skipped nor doubled): offsets beyond the log are
    clamped into it; a timestamp after the last record starts at the end."""
    if not partitions:
        return {}
    earliest = {
        tp: o
        for tp, (o, _) in (
            await admin.list_offsets(partitions, ListOffsetsTimestamp.EARLIEST)
        ).items()
    }
    latest = {
        tp: o
        for tp, (o, _) in (
            await admin.list_offsets(partitions, ListOffsetsTimestamp.LATEST)
        ).items()
    }
    mode, value = position.mode, position.value
    if mode is StartMode.BEGINNING:
        return earliest
    if mode is StartMode.END:
        return latest
    if mode is StartMode.OFFSET:
        return {tp: min(max(value, earliest[tp]), latest[tp]) for tp in partitions}
    if mode is StartMode.LAST:
        return {tp: max(latest[tp] - value, earliest[tp]) for tp in partitions}
    by_time = await admin.list_offsets(partitions, value)
    return {tp: latest[tp] if by_time[tp][0] < 0 else by_time[tp][0] for tp in partitions}


async def resolve_partitions(
    admin: KafkaAdmin, selection: Sequence[TopicSelection]
) -> list[tuple[str, int]]:
    """Every (topic, partition) the selection names; unknown topics or partitions raise."""
    infos = {t.name: t for t in await admin.topics([s.topic for s in selection])}
    chosen: list[tuple[str, int]] = []
    for wanted in selection:
        existing = [p.partition for p in infos[wanted.topic].partitions]
        for partition in wanted.partitions or existing:
            if partition not in existing:
                raise KafkaToolError(
                    f"topic {wanted.topic} has no partition {partition} (it has {len(existing)})"
                )
            chosen.append((wanted.topic, partition))
    return chosen


# -- the session -----------------------------------------------------------------------------


class TailSession:
    """Reads the chosen partitions from the resolved offsets until closed.

    `open()` resolves partitions and offsets and starts the consumer; `batches()` yields
    lists of records as they arrive. `pause()` stops fetching (the broker keeps what comes
    meanwhile; `resume()` continues at the next offset): no batch is yielded while paused.
    Under READ_COMMITTED the consumer stops at the last stable offset and skips aborted
    transactions; with `control_records` the transaction markers come too, in offset order
    (control_records.py reads them where the consumer's offsets jump).
    """

    def __init__(
        self,
        connection: Connection,
        selection: Sequence[TopicSelection],
        position: StartPosition,
        *,
        max_records: int = MAX_RECORDS_PER_BATCH,
        poll_ms: int = POLL_MS,
        isolation: IsolationLevel = IsolationLevel.READ_UNCOMMITTED,
        control_records: bool = False,
    ) -> None:
        self.connection = connection
        self.selection = tuple(selection)
        self.position = position
        self.isolation = isolation
        self.control_records = control_records
        self.max_records = max_records
        self.poll_ms = poll_ms
        self.offsets: dict[tuple[str, int], int] = {}
        """Where each partition started (after `open`)."""
        self._consumer: Any = None
        self._markers: tuple[KafkaAdmin, ControlRecords] | None = None
        self._next: dict[TopicPartition, int] = {}
        """Where each partition's next record is expected: a jump is a control batch, or
        an aborted transaction under READ_COMMITTED."""
        self._running = asyncio.Event()
        self._running.set()
        self._closed = False

    @property
    def partitions(self) -> list[tuple[str, int]]:
        return list(self.offsets)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    async def open(self) -> dict[tuple[str, int], int]:
        """Resolve what to read and from where, then start fetching; returns the offsets."""
        async with KafkaAdmin(self.connection) as admin:
            partitions = await resolve_partitions(admin, self.selection)
            offsets = await start_offsets(admin, partitions, self.position)
        consumer = new_consumer(
            self.connection.aiokafka_args(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            isolation_level=self.isolation.name.lower(),
        )
        self._consumer = consumer  # from here on, close() stops it, even mid-start
        await start(consumer, self.connection)
        assignment = [TopicPartition(t, p) for t, p in offsets]
        consumer.assign(assignment)
        for tp in assignment:
            consumer.seek(tp, offsets[(tp.topic, tp.partition)])
        if self.paused:
            consumer.pause(*assignment)
        if self.control_records:
            admin = await KafkaAdmin(self.connection).__aenter__()
            self._markers = (admin, ControlRecords(admin))
            self._next = {TopicPartition(t, p): o for (t, p), o in offsets.items()}
        self.offsets = offsets
        return offsets

    def pause(self) -> None:
        self._running.clear()
        if self._consumer is not None:
            self._consumer.pause(*self._consumer.assignment())

    def resume(self) -> None:
        if self._consumer is not None:
            self._consumer.resume(*self._consumer.assignment())
        self._running.set()

    async def batches(self) -> AsyncIterator[list[RawRecord]]:
        """Batches of records in fetch order, as plain tuples in TailRecord's field order
        (cheaper to make than TailRecords, and untracked by the garbage collector), until
        `close()`; errors are KafkaToolError."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("open() the session first")
        while not self._closed:
            await self._running.wait()
            try:
                fetched = await consumer.getmany(
                    timeout_ms=self.poll_ms, max_records=self.max_records
                )
            except AIOKafkaError as exc:
                raise KafkaToolError(f"tail stopped: {exc}") from None
            batch: list[RawRecord] = [
                (
                    r.topic,
                    r.partition,
                    r.offset,
                    r.timestamp,
                    r.timestamp_type,
                    r.key,
                    r.value,
                    tuple(r.headers) if r.headers else _NO_HEADERS,
                )
                for records in fetched.values()
                for r in records
            ]
            if self._markers is not None:
                batch = await self._with_markers(self._markers[1], batch)
            if batch:
                await self._running.wait()  # paused while fetching: hold the batch
                yield batch

    async def _with_markers(
        self, markers: ControlRecords, batch: list[RawRecord]
    ) -> list[RawRecord]:
        """`batch` with the control records in the offsets it (or the consumer's position)
        skipped, each partition in offset order."""
        by_partition: dict[TopicPartition, list[RawRecord]] = {tp: [] for tp in self._next}
        for record in batch:
            by_partition[TopicPartition(record[0], record[1])].append(record)
        merged: list[RawRecord] = []
        for tp, records in by_partition.items():
            expected, found = self._next[tp], []
            for record in records:
                if record[2] > expected:
                    found += await markers.between(tp.topic, tp.partition, expected, record[2])
                expected = record[2] + 1
            position = await self._consumer.position(tp)
            if position > expected:
                found += await markers.between(tp.topic, tp.partition, expected, position)
            self._next[tp] = max(position, expected)
            merged += sorted(records + found, key=lambda r: r[2]) if found else records
        return merged

    async def close(self) -> None:
        """Stop fetching and release the connection (safe to call more than once)."""
        self._closed = True
        self._running.set()
        consumer, self._consumer = self._consumer, None
        markers, self._markers = self._markers, None
        if markers is not None:
            await markers[0].__aexit__(None, None, None)
        if consumer is not None:
            with contextlib.suppress(TimeoutError, AIOKafkaError):
                await asyncio.wait_for(consumer.stop(), _CLOSE_TIMEOUT_S)


# -- the rate --------------------------------------------------------------------------------


class RateMeter:
    """Records per second over the last `window` seconds, from (time, count) samples.

    Sampled on a UI tick rather than per fetch: records come in bursts (a fetch brings
    hundreds), so a per-batch rate would jump about; a second's worth reads steadily.
    """

    def __init__(self, window: float = 1.0) -> None:
        self.window = window
        self.rate = 0.0
        self._samples: deque[tuple[float, int]] = deque()

    def sample(self, now: float, total: int) -> float:
        """Note that `total` records had arrived by `now`; the rate since a window ago."""
        samples = self._samples
        if samples and now <= samples[-1][0]:
            samples[-1] = (samples[-1][0], total)  # the same instant (a clock at rest)
        else:
            samples.append((now, total))
        while len(samples) > 2 and now - samples[1][0] >= self.window:
            samples.popleft()
        then, before = samples[0]
        if now - then >= self.window / 4:
            self.rate = (total - before) / (now - then)
        return self.rate

    def reset(self) -> None:
        self._samples.clear()
        self.rate = 0.0
