"""Producing N records at a target rate and timing their acknowledgements.

A port of Kafka's ProducerPerformance engine: ThroughputThrottler paces the sends, Stats keeps
totals, a window that closes every five seconds and a sample of latencies for percentiles.
Latency is, as in Kafka, the time from handing a record to the producer until its
acknowledgement arrives. Records are sent without waiting for each acknowledgement; aiokafka's
accumulator bounds how many are pending (a batch being filled plus the ones in flight).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaError as AIOKafkaError

from ..errors import KafkaToolError
from .metrics import MB, ratio

REPORTING_INTERVAL_MS = 5000
MAX_LATENCY_SAMPLES = 500_000
_UPPERCASE = bytes(65 + b % 26 for b in range(256))  # random bytes -> 'A'..'Z', as Kafka's


def now_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass(frozen=True)
class ProducerLoad:
    """What to send: `num_records` records to `topic` at about `throughput` records/s
    (negative: as fast as possible). Payloads are picked at random from `payloads` if given,
    else `record_size` random uppercase letters, else the increasing integers 0, 1, 2 ..."""

    topic: str
    num_records: int
    throughput: float
    record_size: int | None = None
    payloads: Sequence[bytes] = ()


def payloads(load: ProducerLoad) -> Iterator[bytes]:
    """generateRandomPayload: A-Z bytes per record, a random file payload, or the index."""
    rng = random.Random(0)
    if load.payloads:
        choices = load.payloads
        while True:
            yield choices[rng.randrange(len(choices))]
    elif load.record_size is not None:
        size = load.record_size
        while True:
            yield rng.randbytes(size).translate(_UPPERCASE)
    else:
        index = 0
        while True:
            yield str(index).encode()
            index += 1


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

    def should_throttle(self, amount_so_far: int, send_start_ms: float) -> bool:
        if self.target < 0:
            return False
        elapsed_sec = (send_start_ms - self.start_ms) / 1000.0
        return elapsed_sec > 0 and amount_so_far / elapsed_sec > self.target

    async def throttle(self) -> None:
        self.sleep_deficit_ns += self.sleep_time_ns
        if self.sleep_deficit_ns >= self.MIN_SLEEP_NS:
            started = time.monotonic_ns()
            while (remaining := self.sleep_deficit_ns - (time.monotonic_ns() - started)) > 0:
                await asyncio.sleep(remaining / 1e9)
            self.sleep_deficit_ns = 0


@dataclass(frozen=True, slots=True)
class Window:
    """The records acknowledged in one reporting window."""

    records: int
    bytes: int
    total_latency_ms: int
    max_latency_ms: int
    elapsed_ms: float

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


@dataclass
class Stats:
    """ProducerPerformance.Stats: totals, a 5-second window and sampled latencies (ms).

    `on_window` is called with each window as it closes; `done` is set once every record
    has been acknowledged or has failed.
    """

    num_records: int
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
    latencies: list[int] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.sampling = self.num_records // min(self.num_records, MAX_LATENCY_SAMPLES)

    def completed(self, start: float, size: int, future: asyncio.Future[Any]) -> None:
        """The send callback: count an acknowledged record, or remember why it failed."""
        if future.cancelled() or future.exception() is not None:
            self.errors += 1
            if self.first_error is None:
                error = "cancelled" if future.cancelled() else future.exception()
                self.first_error = f"{type(error).__name__}: {error}".rstrip(": ")
        else:
            now = now_ms()
            self.record(int(now - start), size, now)
        if self.count + self.errors >= self.num_records:
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
        if self.iteration % self.sampling == 0:
            self.latencies.append(latency)
        self.iteration += 1
        if now - self.window_start >= self.reporting_interval_ms:
            if self.on_window is not None:
                self.on_window(self.window())
            self.window_start = now_ms()
            self.window_count = self.window_bytes = 0
            self.window_total_latency = self.window_max_latency = 0

    def window(self) -> Window:
        """The window so far."""
        return Window(
            self.window_count,
            self.window_bytes,
            self.window_total_latency,
            self.window_max_latency,
            now_ms() - self.window_start,
        )

    def percentiles(self, *quantiles: float) -> list[int]:
        ordered = sorted(self.latencies)
        if not ordered:
            return [0 for _ in quantiles]
        return [ordered[int(q * len(ordered))] for q in quantiles]

    def totals(self) -> ProducerTotals:
        elapsed = now_ms() - self.start
        p50, p95, p99, p999 = self.percentiles(0.5, 0.95, 0.99, 0.999)
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


async def send_all(producer: Any, load: ProducerLoad, stats: Stats) -> None:
    """ProducerPerformance's loop: send, register the callback, throttle when ahead."""
    throttler = ThroughputThrottler(load.throughput, now_ms())
    source = payloads(load)
    send, topic, completed = producer.send, load.topic, stats.completed
    for i in range(load.num_records):
        payload = next(source)
        send_start = now_ms()
        future = await send(topic, payload)
        future.add_done_callback(functools.partial(completed, send_start, len(payload)))
        if throttler.should_throttle(i, send_start):
            await throttler.throttle()


async def produce_load(producer: Any, load: ProducerLoad, stats: Stats) -> None:
    """Send the load and wait until every record is acknowledged or has failed."""
    try:
        await send_all(producer, load, stats)
        await producer.flush()
        await stats.done.wait()
    except AIOKafkaError as exc:
        raise KafkaToolError(f"sending to {load.topic} failed: {exc}") from None
