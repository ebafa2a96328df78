"""Producing records at a target rate and timing their acknowledgements.

A port of Kafka's ProducerPerformance engine: ThroughputThrottler paces the sends, Stats keeps
totals, a window that closes every five seconds and a sample of latencies for percentiles.
Latency is, as in Kafka, the time from handing a record to the producer until its
acknowledgement arrives. The send loops are the engines' (engine.py: librdkafka or aiokafka).

`kwb perf` sends N records; the workbench's traffic generator drives the same engines without
a count until it is told to stop, with keys, value templates and headers (records.py), and
closes windows every second (`Stats.roll`) to chart them. Stats may be fed from an engine's
thread while the UI's thread rolls and reads them; closing a window takes a lock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .metrics import MB, ratio
from .records import Header, KeyStrategy, ValueTemplate, keys, values

if TYPE_CHECKING:
    from ..schema_records import SchemaRecords

REPORTING_INTERVAL_MS = 5000
MAX_LATENCY_SAMPLES = 500_000
YIELD_EVERY = 256
"""Records between two yields to the event loop when nothing else makes the loop wait, so a
UI sharing the loop keeps drawing at an unlimited rate."""


def now_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass(frozen=True)
class ProducerLoad:
    """What to send: `num_records` records (None: until stopped) to `topic` at about
    `throughput` records/s (negative: as fast as possible). Values are picked at random from
    `payloads` if given, else made by `template`, `record_size` bytes each (see records.py);
    `keys` and `key_count` choose the keys, and every record carries `headers`."""

    topic: str
    num_records: int | None
    throughput: float
    record_size: int | None = None
    payloads: Sequence[bytes] = ()
    template: ValueTemplate = "random"
    keys: KeyStrategy = "none"
    key_count: int = 1
    headers: tuple[Header, ...] = ()
    schema: SchemaRecords | None = None
    """Values of a registered schema (and keys from one of their fields) instead."""

    def streams(self) -> tuple[Iterator[bytes], Iterator[bytes | None]]:
        """The values and the keys to send, in order."""
        if self.schema is not None:
            schema_values, schema_keys = self.schema.streams()
            return schema_values, schema_keys or keys(self.keys, self.key_count)
        return values(self.template, self.record_size, self.payloads), keys(
            self.keys, self.key_count
        )


def percentiles(histogram: dict[int, int], *quantiles: float) -> list[int]:
    """Kafka's `latencies[(int) (q * count)]` of the sorted sample, read off a histogram of
    latency (ms) -> how many: the same values, in memory bounded by distinct latencies."""
    count = sum(histogram.values())
    if not count:
        return [0 for _ in quantiles]
    ordered = sorted(histogram.items())
    found = []
    for quantile in quantiles:
        index, cumulative = int(quantile * count), 0
        for latency, times in ordered:
            cumulative += times
            if cumulative > index:
                found.append(latency)
                break
    return found


class ThroughputThrottler:
    """Kafka's ThroughputThrottler: sleep off a deficit of 1/throughput per record when ahead.

    A negative throughput disables throttling; the sleeps are asyncio sleeps, so the
    producer keeps sending what is already queued while the loop waits.
    """

    MIN_SLEEP_NS = 2_000_000

    def __init__(self, target_throughput: float, start_ms: float) -> None:
        self.start_ms = start_ms
        self.target = target_throughput
        self.sleep_time_ns = int(1e9 / target_throughput) if target_throughput > 0 else 0
        self.sleep_deficit_ns = 0
        self.base_amount = 0
        """Records sent before `start_ms` (a retarget starts the pacing afresh)."""
        self.amount = 0
        """Records sent so far, as the last `should_throttle` was told."""
        self.on_retarget: Callable[[float], None] | None = None
        """Told each new target: an engine whose sends pace elsewhere passes it on."""

    def should_throttle(self, amount_so_far: int, send_start_ms: float) -> bool:
        self.amount = amount_so_far
        if self.target < 0:
            return False
        elapsed_sec = (send_start_ms - self.start_ms) / 1000.0
        return elapsed_sec > 0 and (amount_so_far - self.base_amount) / elapsed_sec > self.target

    def retarget(self, target_throughput: float, now: float) -> None:
        """Pace at `target_throughput` from `now` on (negative: no limit), as if the load
        started now: the records sent at the old rate neither earn nor owe sleep."""
        self.target = target_throughput
        self.sleep_time_ns = int(1e9 / target_throughput) if target_throughput > 0 else 0
        self.sleep_deficit_ns = 0
        self.start_ms = now
        self.base_amount = self.amount
        if self.on_retarget is not None:
            self.on_retarget(target_throughput)

    async def throttle(self) -> None:
        self.sleep_deficit_ns += self.sleep_time_ns
        if self.sleep_deficit_ns >= self.MIN_SLEEP_NS:
            started = time.monotonic_ns()
            while (remaining := self.sleep_deficit_ns - (time.monotonic_ns() - started)) > 0:
                await asyncio.sleep(remaining / 1e9)
            self.sleep_deficit_ns = 0

    def throttle_blocking(self) -> None:
        """`throttle` for a send loop in a thread of its own."""
        self.sleep_deficit_ns += self.sleep_time_ns
        if self.sleep_deficit_ns >= self.MIN_SLEEP_NS:
            time.sleep(self.sleep_deficit_ns / 1e9)
            self.sleep_deficit_ns = 0


@dataclass(frozen=True, slots=True)
class Window:
    """The records acknowledged in one reporting window."""

    records: int
    bytes: int
    total_latency_ms: int
    max_latency_ms: int
    elapsed_ms: float
    p50_ms: int = 0
    p99_ms: int = 0

    @property
    def records_per_sec(self) -> float:
        return ratio(1000.0 * self.records, self.elapsed_ms)

    @property
    def mb_per_sec(self) -> float:
        return ratio(1000.0 * self.bytes, self.elapsed_ms) / MB

    @property
    def avg_latency_ms(self) -> float:
        return ratio(self.total_latency_ms, self.records)


@dataclass(frozen=True, slots=True)
class ProducerTotals:
    """The whole run, as ProducerPerformance's summary line reports it."""

    records_sent: int
    records_per_sec: float
    mb_per_sec: float
    avg_latency_ms: float
    max_latency_ms: float
    p50_ms: int
    p95_ms: int
    p99_ms: int
    p999_ms: int
    elapsed_ms: float


@dataclass(slots=True)
class Tally:
    """Acknowledgements counted where they arrive (librdkafka's delivery callbacks, in the
    engine's thread or process) and handed to Stats in bulk a few times a second: a Stats
    update per record would contend with the UI for the interpreter lock, or cross processes."""

    count: int = 0
    bytes: int = 0
    total_latency: int = 0
    max_latency: int = 0
    latencies: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    first_error: str | None = None

    def delivered(self, latency: int, size: int) -> None:
        self.count += 1
        self.bytes += size
        self.total_latency += latency
        if latency > self.max_latency:
            self.max_latency = latency
        latencies = self.latencies
        latencies[latency] = latencies.get(latency, 0) + 1

    def failed(self, description: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = description

    def take(self) -> Tally:
        """What was counted since the last take, leaving this one empty."""
        taken = Tally(
            self.count,
            self.bytes,
            self.total_latency,
            self.max_latency,
            self.latencies,
            self.errors,
            self.first_error,
        )
        self.count = self.bytes = self.total_latency = self.max_latency = self.errors = 0
        self.latencies, self.first_error = {}, None
        return taken


@dataclass
class Stats:
    """ProducerPerformance.Stats: totals, a 5-second window and sampled latencies (ms).

    `on_window` is called with each window as it closes; `done` is set once every record
    has been acknowledged or has failed (for a load without a count, once it has stopped
    and the records sent until then are answered). Latencies are kept as histograms, so a
    generator that runs for hours keeps a few hundred numbers, not one per record.
    """

    num_records: int | None
    on_window: Callable[[Window], None] | None = None
    reporting_interval_ms: float = REPORTING_INTERVAL_MS
    start: float = field(default_factory=now_ms)
    count: int = 0
    bytes: int = 0
    total_latency: int = 0
    max_latency: int = 0
    iteration: int = 0
    errors: int = 0
    first_error: str | None = None
    window_start: float = field(default_factory=now_ms)
    window_count: int = 0
    window_bytes: int = 0
    window_total_latency: int = 0
    window_max_latency: int = 0
    latencies: dict[int, int] = field(default_factory=dict)
    window_latencies: dict[int, int] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    window_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        total = self.num_records
        self.sampling = total // min(total, MAX_LATENCY_SAMPLES) if total else 1
        self.expected = total

    def completed(self, start: float, size: int, future: asyncio.Future[Any]) -> None:
        """The send callback: count an acknowledged record, or remember why it failed."""
        if future.cancelled() or future.exception() is not None:
            error = "cancelled" if future.cancelled() else future.exception()
            self.failed(f"{type(error).__name__}: {error}".rstrip(": "))
        else:
            now = now_ms()
            self.record(int(now - start), size, now)
        if self.expected is not None and self.count + self.errors >= self.expected:
            self.done.set()

    def failed(self, description: str) -> None:
        """A record that failed: counted, and the first failure kept to say why."""
        self.errors += 1
        if self.first_error is None:
            self.first_error = description

    def expect(self, sent: int) -> None:
        """The load stopped after `sent` records: done once those are answered."""
        self.expected = sent
        if self.count + self.errors >= sent:
            self.done.set()

    def record(self, latency: int, size: int, now: float) -> None:
        self.count += 1
        self.bytes += size
        self.total_latency += latency
        self.max_latency = max(self.max_latency, latency)
        self.window_count += 1
        self.window_bytes += size
        self.window_total_latency += latency
        self.window_max_latency = max(self.window_max_latency, latency)
        window = self.window_latencies
        window[latency] = window.get(latency, 0) + 1
        if self.iteration % self.sampling == 0:
            self.latencies[latency] = self.latencies.get(latency, 0) + 1
        self.iteration += 1
        if now - self.window_start >= self.reporting_interval_ms:
            self.close_window()

    def absorb(self, tally: Tally) -> None:
        """Count a Tally's acknowledgements and failures, as `record` and `failed` would one
        by one (every latency kept: a histogram is small whatever the count)."""
        self.count += tally.count
        self.bytes += tally.bytes
        self.total_latency += tally.total_latency
        self.max_latency = max(self.max_latency, tally.max_latency)
        self.window_count += tally.count
        self.window_bytes += tally.bytes
        self.window_total_latency += tally.total_latency
        self.window_max_latency = max(self.window_max_latency, tally.max_latency)
        for histogram in (self.latencies, self.window_latencies):
            for latency, times in tally.latencies.items():
                histogram[latency] = histogram.get(latency, 0) + times
        self.errors += tally.errors
        if self.first_error is None:
            self.first_error = tally.first_error
        self.roll()

    def roll(self) -> None:
        """Close the window if its interval is over, acknowledgements or not: a generator
        that stalls reports windows with 0 records instead of none."""
        if now_ms() - self.window_start >= self.reporting_interval_ms:
            self.close_window()

    def close_window(self) -> None:
        with self.window_lock:
            if now_ms() - self.window_start < self.reporting_interval_ms:
                return  # the other thread closed it first
            if self.on_window is not None:
                self.on_window(self.window())
            self.window_start = now_ms()
            self.window_count = self.window_bytes = 0
            self.window_total_latency = self.window_max_latency = 0
            self.window_latencies = {}

    def window(self) -> Window:
        """The window so far."""
        p50, p99 = percentiles(self.window_latencies, 0.5, 0.99)
        return Window(
            self.window_count,
            self.window_bytes,
            self.window_total_latency,
            self.window_max_latency,
            now_ms() - self.window_start,
            p50,
            p99,
        )

    def totals(self, end: float | None = None) -> ProducerTotals:
        """The run from its start until `end` (now_ms(); default: now)."""
        elapsed = (now_ms() if end is None else end) - self.start
        p50, p95, p99, p999 = percentiles(self.latencies, 0.5, 0.95, 0.99, 0.999)
        return ProducerTotals(
            records_sent=self.count,
            records_per_sec=ratio(1000.0 * self.count, elapsed),
            mb_per_sec=ratio(1000.0 * self.bytes, elapsed) / MB,
            avg_latency_ms=ratio(self.total_latency, self.count),
            max_latency_ms=float(self.max_latency),
            p50_ms=p50,
            p95_ms=p95,
            p99_ms=p99,
            p999_ms=p999,
            elapsed_ms=elapsed,
        )
