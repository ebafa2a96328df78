"""Consuming N messages in a consumer group and timing it, rebalances included.

A port of Kafka's ConsumerPerformance engine: it subscribes (in a fresh group, by default),
so the time to join and be assigned partitions is part of what it measures, and polls until N
messages came or none came for a while. Times are wall-clock milliseconds, as Kafka prints
them as dates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRebalanceListener
from aiokafka.errors import KafkaError as AIOKafkaError

from ..errors import KafkaToolError
from .metrics import MB, Summary, ratio

POLL_TIMEOUT_MS = 100


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class ConsumerLoad:
    """What to read: `messages` messages of `topic`; give up after `timeout_ms` without any.
    An interval closes every `reporting_interval_ms`."""

    topic: str
    messages: int
    timeout_ms: int
    reporting_interval_ms: int


@dataclass
class Counts:
    """What the consume loop counts, shared with whoever shows progress."""

    messages: int = 0
    bytes: int = 0
    timed_out: bool = False


@dataclass
class Rebalances:
    """ConsumerPerfRebListener: time from joining (or a revocation) to an assignment."""

    join_start_ms: int
    join_time_ms: int = 0
    join_time_in_round_ms: int = 0
    latency: Summary = field(default_factory=Summary)
    assigned_count: int = 0

    def revoked(self, partitions: object) -> None:
        if partitions:
            self.join_start_ms = wall_ms()

    def assigned(self, partitions: list[Any]) -> None:
        elapsed = wall_ms() - self.join_start_ms
        self.join_time_ms += elapsed
        self.join_time_in_round_ms += elapsed
        self.latency.record(elapsed)
        self.assigned_count = len(partitions)

    def listener(self) -> Any:
        """An aiokafka ConsumerRebalanceListener telling this."""
        rebalances = self

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            def on_partitions_revoked(self, revoked: Any) -> None:
                rebalances.revoked(revoked)

            def on_partitions_assigned(self, assigned: Any) -> None:
                rebalances.assigned(list(assigned))

        return Listener()


@dataclass(frozen=True, slots=True)
class Interval:
    """One reporting interval: totals at its end, totals at its start, and its rebalance time."""

    start_ms: int
    end_ms: int
    bytes: int
    last_bytes: int
    messages: int
    last_messages: int
    join_ms: int

    @property
    def elapsed_ms(self) -> float:
        return float(self.end_ms - self.start_ms)

    @property
    def mb(self) -> float:
        return (self.bytes - self.last_bytes) / MB

    @property
    def fetch_ms(self) -> int:
        return self.end_ms - self.start_ms - self.join_ms

    @property
    def fetch_mb_per_sec(self) -> float:
        return 0.0 if self.fetch_ms <= 0 else 1000.0 * self.mb / self.fetch_ms

    @property
    def fetch_messages_per_sec(self) -> float:
        if self.fetch_ms <= 0:
            return 0.0
        return 1000.0 * (self.messages - self.last_messages) / self.fetch_ms


@dataclass(frozen=True, slots=True)
class ConsumerTotals:
    """The whole run, as ConsumerPerformance's summary line reports it."""

    start_ms: int
    end_ms: int
    mb: float
    mb_per_sec: float
    messages: int
    messages_per_sec: float
    rebalance_ms: int
    fetch_ms: int
    fetch_mb_per_sec: float
    fetch_messages_per_sec: float


def consumer_totals(start_ms: int, end_ms: int, counts: Counts, join_ms: int) -> ConsumerTotals:
    elapsed_sec = (end_ms - start_ms) / 1000.0
    fetch_ms = end_ms - start_ms - join_ms
    mb = counts.bytes / MB
    return ConsumerTotals(
        start_ms,
        end_ms,
        mb,
        ratio(mb, elapsed_sec),
        counts.messages,
        ratio(counts.messages, elapsed_sec),
        join_ms,
        fetch_ms,
        ratio(mb, fetch_ms / 1000.0),
        ratio(counts.messages, fetch_ms / 1000.0),
    )


async def consume_load(
    consumer: Any,
    load: ConsumerLoad,
    counts: Counts,
    rebalances: Rebalances,
    max_records: int,
    on_interval: Callable[[Interval], None] | None = None,
) -> None:
    """Subscribe and poll until the load is read or times out (then `counts.timed_out`)."""
    try:
        consumer.subscribe([load.topic], listener=rebalances.listener())
        await _poll(consumer, load, counts, rebalances, max_records, on_interval)
    except AIOKafkaError as exc:
        raise KafkaToolError(f"consuming {load.topic} failed: {exc}") from None


async def _poll(
    consumer: Any,
    load: ConsumerLoad,
    counts: Counts,
    rebalances: Rebalances,
    max_records: int,
    on_interval: Callable[[Interval], None] | None,
) -> None:
    """ConsumerPerformance.consume: poll until N messages or the timeout without any."""
    progress = Progress(load, counts, rebalances, on_interval)
    while progress.wanted():
        batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=max_records)
        progress.add(
            [
                len(record.key or b"") + len(record.value or b"")
                for records in batches.values()
                for record in records
            ]
        )
    counts.timed_out = counts.messages < load.messages


class Progress:
    """ConsumerPerformance.consume's bookkeeping, for any client's poll loop: the counts,
    the reporting intervals, and whether to poll again (N messages not yet read, and the
    last came less than the timeout ago)."""

    def __init__(
        self,
        load: ConsumerLoad,
        counts: Counts,
        rebalances: Rebalances,
        on_interval: Callable[[Interval], None] | None,
    ) -> None:
        self.load, self.counts, self.rebalances = load, counts, rebalances
        self.on_interval = on_interval
        self.current = self.last_report = self.last_consumed = wall_ms()
        self.last_bytes = self.last_messages = 0

    def wanted(self) -> bool:
        return (
            self.counts.messages < self.load.messages
            and self.current - self.last_consumed <= self.load.timeout_ms
        )

    def add(self, sizes: Sequence[int]) -> None:
        """One poll's records, by their key and value bytes. The interval check is the
        Java tool's, made for each record against the time of the poll: only the first
        record of a poll can close an interval, so the rest are summed at once."""
        if not sizes:
            self.current = wall_ms()
            return
        counts = self.counts
        current = self.current = self.last_consumed = wall_ms()
        counts.messages += 1
        counts.bytes += sizes[0]
        if current - self.last_report >= self.load.reporting_interval_ms:
            self._report(current)
        counts.messages += len(sizes) - 1
        counts.bytes += sum(sizes) - sizes[0]

    def _report(self, current: int) -> None:
        counts, rebalances = self.counts, self.rebalances
        if self.on_interval is not None:
            self.on_interval(
                Interval(
                    self.last_report,
                    current,
                    counts.bytes,
                    self.last_bytes,
                    counts.messages,
                    self.last_messages,
                    rebalances.join_time_in_round_ms,
                )
            )
        rebalances.join_time_in_round_ms = 0
        self.last_report = current
        self.last_messages, self.last_bytes = counts.messages, counts.bytes
