"""`kwb perf`: kafka-producer-perf-test.sh — produce N records at a target rate and time them.

The output is ProducerPerformance's, line for line, so results compare with Kafka's own runs
and scripts that parse them keep working: a window line every five seconds and one summary
with latency percentiles; `--print-metrics` adds a metrics table in ToolsUtils' layout.

Latency is, as in Kafka, the time from handing a record to the producer until its
acknowledgement arrives. Records are sent without waiting for each acknowledgement; aiokafka's
accumulator bounds how many are pending (a batch being filled plus the ones in flight).
aiokafka has no metrics registry, so `--print-metrics` reports what this tool measures itself:
the records and their acknowledgements, and every produce request as it goes to the broker.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from aiokafka import codec as codecs
from aiokafka.errors import KafkaError as AIOKafkaError

from ..kafka.admin import KafkaAdmin
from ..kafka.clients import new_producer, partitions_for, producer_args, start
from ..kafka.errors import KafkaToolError
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    kafka_style,
    parse_key_values,
    print_json,
    run,
)

PROG = "kwb perf"
CLIENT_ID = "perf-producer-client"
REPORTING_INTERVAL_MS = 5000
MAX_LATENCY_SAMPLES = 500_000
MB = 1024.0 * 1024.0
PRODUCE_API = 0
_UPPERCASE = bytes(65 + b % 26 for b in range(256))  # random bytes -> 'A'..'Z', as Kafka's


# -- Java's number formatting ---------------------------------------------------------------


def jfmt(value: float, digits: int) -> str:
    """`String.format("%.Nf")` as Java prints it: HALF_UP rounding, NaN and Infinity."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    exponent = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP))


def ratio(numerator: float, denominator: float) -> float:
    """Java's double division: x/0 is Infinity (or NaN for 0/0) rather than an exception."""
    if denominator == 0:
        return float("nan") if numerator == 0 else float("inf")
    return numerator / denominator


def finite(value: Any) -> Any:
    """JSON has no NaN or Infinity; such values become null."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def json_safe(document: dict[str, Any]) -> dict[str, Any]:
    return {
        key: json_safe(value) if isinstance(value, dict) else finite(value)
        for key, value in document.items()
    }


def metrics_table(metrics: dict[str, float]) -> list[str]:
    """ToolsUtils.printMetrics: a blank line, a header, then `name : %.3f` sorted by name."""
    if not metrics:
        return []
    width = max(len(name) for name in metrics)
    lines = ["", f"{'Metric Name':<{width}}   Value"]
    lines += [f"{name:<{width}} : {jfmt(metrics[name], 3)}" for name in sorted(metrics)]
    return lines


def metric_name(group: str, name: str, **tags: str) -> str:
    """Kafka's `group:name:{tag=value, ...}` (a Java map's toString)."""
    rendered = ", ".join(f"{k.replace('_', '-')}={v}" for k, v in tags.items())
    return f"{group}:{name}:{{{rendered}}}"


# -- timing requests on aiokafka's client ---------------------------------------------------


def time_requests(client: Any, api_key: int, observe: Callable[[Any, Any, float], None]) -> None:
    """Call `observe(request, response, latency_ms)` for each `api_key` request of `client`.

    aiokafka keeps no request metrics, so the client's `send` is wrapped on this one
    instance (the producer's or consumer's own client); other requests pass straight through.
    """
    original: Callable[..., Awaitable[Any]] = client.send

    async def send(node_id: int, request: Any, **kwargs: Any) -> Any:
        if getattr(request, "API_KEY", None) != api_key:
            return await original(node_id, request, **kwargs)
        started = time.perf_counter()
        response = await original(node_id, request, **kwargs)
        observe(request, response, (time.perf_counter() - started) * 1000.0)
        return response

    client.send = send


@dataclass
class Summary:
    """Average and maximum of a series of samples, as Kafka's Avg and Max stats keep them."""

    count: int = 0
    total: float = 0.0
    max: float = float("nan")

    def record(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.max = value if self.count == 1 else max(self.max, value)

    @property
    def avg(self) -> float:
        return ratio(self.total, self.count) if self.count else float("nan")


# -- the throttle and the statistics, ported from Kafka -------------------------------------


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


def now_ms() -> float:
    return time.monotonic() * 1000.0


@dataclass
class Stats:
    """ProducerPerformance.Stats: totals, a 5-second window and sampled latencies (ms)."""

    num_records: int
    on_window: Callable[[str], None] | None = None
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
                self.on_window(self.window_line())
            self.window_start = now_ms()
            self.window_count = self.window_bytes = 0
            self.window_total_latency = self.window_max_latency = 0

    def window_line(self) -> str:
        elapsed = now_ms() - self.window_start
        return (
            f"{self.window_count} records sent, "
            f"{jfmt(ratio(1000.0 * self.window_count, elapsed), 1)} records/sec "
            f"({jfmt(ratio(1000.0 * self.window_bytes, elapsed) / MB, 2)} MB/sec), "
            f"{jfmt(ratio(self.window_total_latency, self.window_count), 1)} ms avg latency, "
            f"{jfmt(float(self.window_max_latency), 1)} ms max latency."
        )

    def percentiles(self, *quantiles: float) -> list[int]:
        ordered = sorted(self.latencies)
        if not ordered:
            return [0 for _ in quantiles]
        return [ordered[int(q * len(ordered))] for q in quantiles]

    def total(self) -> dict[str, Any]:
        elapsed = now_ms() - self.start
        p50, p95, p99, p999 = self.percentiles(0.5, 0.95, 0.99, 0.999)
        return {
            "records_sent": self.count,
            "records_per_sec": ratio(1000.0 * self.count, elapsed),
            "mb_per_sec": ratio(1000.0 * self.bytes, elapsed) / MB,
            "avg_latency_ms": ratio(self.total_latency, self.count),
            "max_latency_ms": float(self.max_latency),
            "p50_ms": p50,
            "p95_ms": p95,
            "p99_ms": p99,
            "p999_ms": p999,
            "elapsed_ms": elapsed,
        }


def total_line(total: dict[str, Any]) -> str:
    return (
        f"{total['records_sent']} records sent, {jfmt(total['records_per_sec'], 1)} records/sec"
        f" ({jfmt(total['mb_per_sec'], 2)} MB/sec), {jfmt(total['avg_latency_ms'], 2)} ms avg"
        f" latency, {jfmt(total['max_latency_ms'], 2)} ms max latency, {total['p50_ms']} ms"
        f" 50th, {total['p95_ms']} ms 95th, {total['p99_ms']} ms 99th,"
        f" {total['p999_ms']} ms 99.9th."
    )


# -- producer metrics measured on the wire --------------------------------------------------

BATCH_HEADER_BYTES = 61  # a v2 record batch's header, up to and including the record count
_CODECS = {1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def _varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """A zigzag varint at `pos`: (value, position after it)."""
    shift = result = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos
        shift += 7


def _records_section(batch: bytes, codec: int) -> bytes:
    if codec == 0:
        return batch[BATCH_HEADER_BYTES:]
    decode = getattr(codecs, f"{_CODECS[codec]}_decode")
    return bytes(decode(bytes(batch[BATCH_HEADER_BYTES:])))


@dataclass
class ProducerMetrics:
    """What `--print-metrics` reports: Kafka's producer metric names, measured here."""

    client_id: str
    topic: str
    request_latency: Summary = field(default_factory=Summary)
    batch_size: Summary = field(default_factory=Summary)
    record_size: Summary = field(default_factory=Summary)
    compression_rate: Summary = field(default_factory=Summary)
    records_per_request: Summary = field(default_factory=Summary)

    def observe(self, request: Any, response: Any, latency_ms: float) -> None:
        """One produce request: its round trip, and each partition's record batch in it."""
        self.request_latency.record(latency_ms)
        records = 0
        for _topic, partitions in getattr(request, "_topics", ()):
            for _partition, data in partitions:
                records += self.observe_batch(bytes(data))
        self.records_per_request.record(records)

    def observe_batch(self, batch: bytes) -> int:
        count = int.from_bytes(batch[57:61], "big")
        codec = int.from_bytes(batch[21:23], "big") & 0x07
        records = _records_section(batch, codec)
        self.batch_size.record(len(batch))
        self.compression_rate.record(len(batch) / (BATCH_HEADER_BYTES + len(records)))
        pos = 0
        for _ in range(count):
            length, after = _varint(records, pos)
            self.record_size.record(after - pos + length)
            pos = after + length
        return count

    def table(self, stats: Stats, elapsed_ms: float) -> dict[str, float]:
        seconds = elapsed_ms / 1000.0
        client = {"client_id": self.client_id}
        topic = {"client_id": self.client_id, "topic": self.topic}
        bytes_sent = self.batch_size.total
        values = {
            metric_name("producer-metrics", "batch-size-avg", **client): self.batch_size.avg,
            metric_name("producer-metrics", "batch-size-max", **client): self.batch_size.max,
            metric_name("producer-metrics", "compression-rate-avg", **client): (
                self.compression_rate.avg
            ),
            metric_name("producer-metrics", "record-error-rate", **client): ratio(
                stats.errors, seconds
            ),
            metric_name("producer-metrics", "record-error-total", **client): stats.errors,
            metric_name("producer-metrics", "record-send-rate", **client): ratio(
                stats.count, seconds
            ),
            metric_name("producer-metrics", "record-send-total", **client): stats.count,
            metric_name("producer-metrics", "record-size-avg", **client): self.record_size.avg,
            metric_name("producer-metrics", "record-size-max", **client): self.record_size.max,
            metric_name("producer-metrics", "records-per-request-avg", **client): (
                self.records_per_request.avg
            ),
            metric_name("producer-metrics", "request-latency-avg", **client): (
                self.request_latency.avg
            ),
            metric_name("producer-metrics", "request-latency-max", **client): (
                self.request_latency.max
            ),
            metric_name("producer-topic-metrics", "byte-rate", **topic): ratio(bytes_sent, seconds),
            metric_name("producer-topic-metrics", "byte-total", **topic): bytes_sent,
            metric_name("producer-topic-metrics", "record-send-rate", **topic): ratio(
                stats.count, seconds
            ),
            metric_name("producer-topic-metrics", "record-send-total", **topic): stats.count,
        }
        return {name: float(value) for name, value in values.items()}


# -- flags, properties and payloads ---------------------------------------------------------


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG,
        description="Verify producer performance (kafka-producer-perf-test.sh).",
    )
    p.add_argument("--topic", required=True, help="produce messages to this topic")
    p.add_argument("--num-records", type=int, required=True, help="number of messages to produce")
    payload = p.add_mutually_exclusive_group(required=True)
    payload.add_argument("--record-size", type=int, help="message size in bytes")
    payload.add_argument(
        "--payload-file",
        type=Path,
        help="UTF-8 file of payloads, split at --payload-delimiter; each record picks one",
    )
    payload.add_argument(
        "--payload-monotonic",
        action="store_true",
        help="payloads are the increasing integers 0, 1, 2, ...",
    )
    p.add_argument(
        "--payload-delimiter",
        default="\\n",
        help="regular expression between payloads in --payload-file (default: \\n)",
    )
    p.add_argument(
        "--throughput",
        type=float,
        required=True,
        help="throttle to about THROUGHPUT messages/sec; -1 disables throttling",
    )
    p.add_argument(
        "--producer-props",
        nargs="+",
        metavar="PROP-NAME=PROP-VALUE",
        help="producer properties (bootstrap.servers, acks, linger.ms, batch.size, ...)",
    )
    p.add_argument(
        "--print-metrics",
        "--print-metric",
        action="store_true",
        help="print metrics at the end of the test",
    )
    p.add_argument("--transactional-id", help="not supported: kwb perf sends no transactions")
    p.add_argument(
        "--transaction-duration-ms", type=int, help="not supported: kwb perf sends no transactions"
    )
    add_connection_options(p, "--producer.config")
    return p


@dataclass(frozen=True)
class PerfConfig:
    """ProducerPerformance.ConfigPostProcessor: checked flags, properties and payloads."""

    topic: str
    num_records: int
    throughput: float
    record_size: int | None
    payloads: list[bytes]
    monotonic: bool
    properties: dict[str, str]


def read_payload_file(path: Path, delimiter: str, announce: bool) -> list[bytes]:
    """Kafka's readPayloadFile: split the file at a regex, dropping trailing empty payloads."""
    if announce:
        print(f"Reading payloads from: {path.absolute()}")
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        text = ""
    if not text:
        raise UsageError("File does not exist or empty file provided.")
    try:
        payloads = re.split(delimiter, text)
    except re.error as exc:
        raise UsageError(
            f"--payload-delimiter {delimiter!r} is not a regular expression: {exc}"
        ) from None
    while len(payloads) > 1 and payloads[-1] == "":
        payloads.pop()  # Java's String.split drops trailing empty strings
    if announce:
        print(f"Number of messages read: {len(payloads)}")
    return [payload.encode("utf-8") for payload in payloads]


def post_process(args: argparse.Namespace) -> PerfConfig:
    if args.num_records <= 0:
        raise UsageError("--num-records should be greater than zero")
    if args.record_size is not None and args.record_size <= 0:
        raise UsageError("--record-size should be greater than zero")
    if args.throughput == 0:
        raise UsageError("--throughput 0 would never finish (Kafka's blocks); -1 means no limit")
    if not (args.producer_props or args.client_config or args.bootstrap_server):
        raise UsageError(
            "Either --producer-props, --producer.config or --bootstrap-server must be specified."
        )
    properties = parse_key_values(args.producer_props, "--producer-props")
    if args.transactional_id is not None or args.transaction_duration_ms is not None:
        flag = "--transactional-id" if args.transactional_id else "--transaction-duration-ms"
        raise UsageError(f"{flag} is not supported: kwb perf does not produce in transactions")
    delimiter = "\n" if args.payload_delimiter == "\\n" else args.payload_delimiter
    payloads = (
        read_payload_file(args.payload_file, delimiter, announce=args.output == "text")
        if args.payload_file
        else []
    )
    return PerfConfig(
        args.topic,
        args.num_records,
        args.throughput,
        args.record_size,
        payloads,
        args.payload_monotonic,
        properties,
    )


def payload_source(config: PerfConfig) -> Iterator[bytes]:
    """generateRandomPayload: A-Z bytes per record, a random file payload, or the index."""
    rng = random.Random(0)
    if config.payloads:
        choices = config.payloads
        while True:
            yield choices[rng.randrange(len(choices))]
    elif config.record_size is not None:
        size = config.record_size
        while True:
            yield rng.randbytes(size).translate(_UPPERCASE)
    else:
        index = 0
        while True:
            yield str(index).encode()
            index += 1


# -- the run --------------------------------------------------------------------------------


async def send_all(producer: Any, config: PerfConfig, stats: Stats) -> None:
    """ProducerPerformance's loop: send, register the callback, throttle when ahead."""
    throttler = ThroughputThrottler(config.throughput, now_ms())
    payloads = payload_source(config)
    send, topic, completed = producer.send, config.topic, stats.completed
    for i in range(config.num_records):
        payload = next(payloads)
        send_start = now_ms()
        future = await send(topic, payload)
        future.add_done_callback(functools.partial(completed, send_start, len(payload)))
        if throttler.should_throttle(i, send_start):
            await throttler.throttle()


async def show_progress(stats: Stats, total: int) -> None:
    """A rich progress bar of acknowledged records, for a terminal instead of window lines."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("records sent"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} records/sec"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("perf", total=total, rate="0.0")
        while True:
            elapsed = now_ms() - stats.start
            rate = jfmt(ratio(1000.0 * stats.count, elapsed), 1)
            progress.update(task, completed=stats.count, rate=rate)
            await asyncio.sleep(0.2)


async def execute(args: argparse.Namespace) -> int:
    config = post_process(args)
    # --producer-props over --producer.config, as Kafka's readProps merges them.
    connection = connection_from(args, config.properties)
    if connection.client_id is None:
        connection = connection_from(args, {**config.properties, "client.id": CLIENT_ID})
    if "transactional.id" in connection.extra:
        raise UsageError("transactional.id is not supported: kwb perf does not use transactions")
    kwargs, unknown = producer_args(connection, connection.extra)
    if unknown:
        sys.stderr.write(
            f"{PROG}: warning: ignoring producer properties aiokafka has no equivalent for:"
            f" {', '.join(sorted(unknown))}\n"
        )
    text = args.output == "text"
    terminal = text and sys.stdout.isatty()
    async with KafkaAdmin(connection) as admin:  # fail fast on a topic that will not be created
        await partitions_for(admin, config.topic)
    producer = await start(new_producer(kwargs), connection)
    metrics = ProducerMetrics(connection.client_id or CLIENT_ID, config.topic)
    if args.print_metrics:
        time_requests(producer.client, PRODUCE_API, metrics.observe)
    window = functools.partial(print, flush=True) if text and not terminal else None
    stats = Stats(config.num_records, on_window=window)
    progress = asyncio.create_task(show_progress(stats, config.num_records)) if terminal else None
    try:
        await send_all(producer, config, stats)
        await producer.flush()
        await stats.done.wait()
    except AIOKafkaError as exc:
        raise KafkaToolError(f"sending to {config.topic} failed: {exc}") from None
    finally:
        if progress is not None:
            progress.cancel()
            await asyncio.gather(progress, return_exceptions=True)
        await producer.stop()
    total = stats.total()
    table = metrics.table(stats, total["elapsed_ms"]) if args.print_metrics else {}
    if text:
        print(total_line(total))
        for line in metrics_table(table):
            print(line)
    else:
        total.pop("elapsed_ms")
        document = {**total, "records_failed": stats.errors, "metrics": table or None}
        print_json(json_safe(document))
    if stats.errors:
        raise KafkaToolError(
            f"{stats.errors} of {config.num_records} records failed; the first: {stats.first_error}"
        )
    return 0


def main(argv: list[str]) -> None:
    p = parser()
    args = p.parse_args(kafka_style(argv, p))
    run(PROG, lambda: execute(args))
