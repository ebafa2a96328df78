"""`kwb consumer-perf`: kafka-consumer-perf-test.sh — consume N messages in a group and time it.

The output is ConsumerPerformance's: a header and one line of totals (or, with
`--show-detailed-stats`, a line per reporting interval), with Kafka's date format and number
formatting, so results compare with Kafka's own runs. Like Kafka's tool it subscribes in a
(fresh, by default) consumer group, so the rebalance time is part of what it measures, and it
stops after N messages or when no message came for `--timeout` ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRebalanceListener
from aiokafka.errors import KafkaError as AIOKafkaError

from ..kafka.clients import consumer_args, new_consumer, start
from ..kafka.errors import KafkaToolError
from .common import KwbParser, UsageError, connection_from, kafka_style, print_json, run
from .perf import (
    MB,
    Summary,
    jfmt,
    json_safe,
    metric_name,
    metrics_table,
    ratio,
    time_requests,
)

PROG = "kwb consumer-perf"
CLIENT_ID = "perf-consumer-client"
DEFAULT_DATE_FORMAT = "yyyy-MM-dd HH:mm:ss:SSS"
HEADER_FIELDS = "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
SUMMARY_HEADER = (
    f"start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,"
    f" {HEADER_FIELDS}"
)
DETAILED_HEADER = (
    f"time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, {HEADER_FIELDS}"
)
POLL_TIMEOUT_MS = 100
FETCH_API = 1


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG, description="Verify consumer performance (kafka-consumer-perf-test.sh)."
    )
    p.add_argument("--bootstrap-server", metavar="HOST:PORT", help="the server(s) to connect to")
    p.add_argument("--topic", required=True, help="the topic to consume from")
    p.add_argument("--messages", type=int, required=True, help="the number of messages to consume")
    p.add_argument(
        "--group",
        default=f"perf-consumer-{random.randrange(100_000)}",
        help="the group id to consume in (default: perf-consumer-<random>)",
    )
    p.add_argument(
        "--fetch-size",
        type=int,
        default=1024 * 1024,
        help="bytes to fetch per partition per request (max.partition.fetch.bytes)",
    )
    p.add_argument(
        "--from-latest",
        action="store_true",
        help="without a committed offset, start at the latest message instead of the earliest",
    )
    p.add_argument(
        "--socket-buffer-size",
        type=int,
        default=2 * 1024 * 1024,
        help="accepted for Kafka's command lines; aiokafka leaves the TCP buffer to the OS",
    )
    p.add_argument(
        "--consumer.config",
        dest="client_config",
        type=Path,
        metavar="FILE",
        help="consumer properties file",
    )
    p.add_argument("--print-metrics", action="store_true", help="print metrics at the end")
    p.add_argument(
        "--show-detailed-stats",
        action="store_true",
        help="report stats for each --reporting-interval",
    )
    p.add_argument(
        "--timeout",
        type=int,
        nargs="?",
        const=10_000,
        default=10_000,
        metavar="MS",
        help="the maximum time between returned records (default 10000)",
    )
    p.add_argument(
        "--reporting-interval",
        type=int,
        default=5000,
        metavar="MS",
        help="interval at which to print progress info (default 5000)",
    )
    p.add_argument(
        "--date-format",
        default=DEFAULT_DATE_FORMAT,
        help=f"java.text.SimpleDateFormat pattern for times (default {DEFAULT_DATE_FORMAT})",
    )
    p.add_argument("--hide-header", action="store_true", help="do not print the header")
    p.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="json prints one machine-readable document",
    )
    return p


# -- SimpleDateFormat -----------------------------------------------------------------------

_DATE_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


def date_formatter(pattern: str) -> Callable[[int], str]:
    """A formatter of epoch milliseconds (local time) for a SimpleDateFormat pattern."""
    parts: list[Callable[[datetime, int], str]] = []
    for match in _DATE_TOKEN.finditer(pattern):
        token = match.group(0)
        if token.startswith("'"):
            literal = "'" if token == "''" else token[1:-1].replace("''", "'")
            parts.append(lambda _d, _ms, text=literal: text)
        elif match.group(1):
            parts.append(_date_field(match.group(1), len(token)))
        else:
            parts.append(lambda _d, _ms, text=token: text)

    def format_ms(epoch_ms: int) -> str:
        moment = datetime.fromtimestamp(epoch_ms / 1000).astimezone()
        return "".join(part(moment, epoch_ms % 1000) for part in parts)

    return format_ms


def _date_field(letter: str, width: int) -> Callable[[datetime, int], str]:
    def number(value: Callable[[datetime], int]) -> Callable[[datetime, int], str]:
        return lambda d, _ms: str(value(d)).zfill(width)

    named = {
        "M": ("%B" if width >= 4 else "%b") if width >= 3 else None,
        "E": "%A" if width >= 4 else "%a",
        "a": "%p",
        "z": "%Z",
        "Z": "%z",
    }
    if letter in named and named[letter] is not None:
        strftime = named[letter]
        return lambda d, _ms: d.strftime(strftime)
    if letter == "y":
        return lambda d, _ms: str(d.year)[-2:] if width == 2 else str(d.year).zfill(width)
    fields: dict[str, Callable[[datetime], int]] = {
        "M": lambda d: d.month,
        "d": lambda d: d.day,
        "H": lambda d: d.hour,
        "h": lambda d: d.hour % 12 or 12,
        "m": lambda d: d.minute,
        "s": lambda d: d.second,
    }
    if letter == "S":
        return lambda _d, ms: str(ms).zfill(width)
    if letter not in fields:
        raise UsageError(f"--date-format: pattern letter {letter!r} is not supported")
    return number(fields[letter])


def consumer_properties(args: argparse.Namespace, properties: Mapping[str, str]) -> dict[str, str]:
    """The properties file, then what ConsumerPerformance sets over it."""
    return {
        "max.poll.records": "500",
        **properties,
        "group.id": args.group,
        "max.partition.fetch.bytes": str(args.fetch_size),
        "auto.offset.reset": "latest" if args.from_latest else "earliest",
        "check.crcs": "false",
    }


# -- the run --------------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Rebalances:
    """ConsumerPerfRebListener: time from joining (or a revocation) to an assignment."""

    join_start_ms: int
    join_time_ms: int = 0
    join_time_in_round_ms: int = 0
    latency: Summary = field(default_factory=Summary)
    assigned: int = 0

    def listener(self) -> Any:
        rebalances = self

        class Listener(ConsumerRebalanceListener):
            def on_partitions_revoked(self, revoked: Any) -> None:
                if revoked:
                    rebalances.join_start_ms = now_ms()

            def on_partitions_assigned(self, assigned: Any) -> None:
                elapsed = now_ms() - rebalances.join_start_ms
                rebalances.join_time_ms += elapsed
                rebalances.join_time_in_round_ms += elapsed
                rebalances.latency.record(elapsed)
                rebalances.assigned = len(assigned)

        return Listener()


@dataclass
class FetchMetrics:
    """Fetch requests as they go to the broker: round trips and bytes of records returned."""

    latency: Summary = field(default_factory=Summary)
    size: Summary = field(default_factory=Summary)

    def observe(self, request: Any, response: Any, latency_ms: float) -> None:
        self.latency.record(latency_ms)
        size = 0
        for _topic, partitions in getattr(response, "topics", ()):
            for partition in partitions:
                records = partition[-1]
                size += len(records) if isinstance(records, (bytes, bytearray)) else 0
        self.size.record(size)


@dataclass
class Progress:
    """What the consume loop counts, shared with the progress bar."""

    messages: int = 0
    bytes: int = 0
    timed_out: bool = False


def progress_line(
    id_: int,
    bytes_read: int,
    last_bytes: int,
    messages: int,
    last_messages: int,
    start_ms: int,
    end_ms: int,
    date: Callable[[int], str],
    join_ms: int,
) -> str:
    """printConsumerProgress: one --show-detailed-stats line for the interval just ended."""
    elapsed = float(end_ms - start_ms)
    interval_mb = (bytes_read - last_bytes) / MB
    fetch_ms = end_ms - start_ms - join_ms
    fetch_mb_sec = 0.0 if fetch_ms <= 0 else 1000.0 * interval_mb / fetch_ms
    fetch_msg_sec = 0.0 if fetch_ms <= 0 else 1000.0 * (messages - last_messages) / fetch_ms
    return (
        f"{date(end_ms)}, {id_}, {jfmt(bytes_read / MB, 4)},"
        f" {jfmt(ratio(1000.0 * interval_mb, elapsed), 4)}, {messages},"
        f" {jfmt(ratio(messages - last_messages, elapsed) * 1000.0, 4)},"
        f" {join_ms}, {fetch_ms}, {jfmt(fetch_mb_sec, 4)}, {jfmt(fetch_msg_sec, 4)}"
    )


async def consume(
    consumer: Any,
    args: argparse.Namespace,
    counted: Progress,
    rebalances: Rebalances,
    date: Callable[[int], str],
    max_records: int,
) -> None:
    """ConsumerPerformance.consume: poll until N messages or --timeout ms without any."""
    current = last_report = last_consumed = now_ms()
    last_bytes = last_messages = 0
    detailed = args.show_detailed_stats and args.output == "text"
    while counted.messages < args.messages and current - last_consumed <= args.timeout:
        batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS, max_records=max_records)
        current = now_ms()
        if batches:
            last_consumed = current
        for records in batches.values():
            for record in records:
                counted.messages += 1
                counted.bytes += len(record.key or b"") + len(record.value or b"")
                if current - last_report >= args.reporting_interval:
                    if detailed:
                        print(
                            progress_line(
                                0,
                                counted.bytes,
                                last_bytes,
                                counted.messages,
                                last_messages,
                                last_report,
                                current,
                                date,
                                rebalances.join_time_in_round_ms,
                            ),
                            flush=True,
                        )
                    rebalances.join_time_in_round_ms = 0
                    last_report = current
                    last_messages, last_bytes = counted.messages, counted.bytes
    if counted.messages < args.messages:
        counted.timed_out = True
        if args.output == "text":
            print(
                f"WARNING: Exiting before consuming the expected number of messages: timeout"
                f" ({args.timeout} ms) exceeded. You can use the --timeout option to increase"
                " the timeout."
            )


async def show_progress(counted: Progress, total: int, start_ms: int) -> None:
    """A rich progress bar of consumed messages, when stdout is a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("messages consumed"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} nMsg/sec"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("consume", total=total, rate="0.0")
        while True:
            rate = jfmt(ratio(1000.0 * counted.messages, now_ms() - start_ms), 1)
            bar.update(task, completed=counted.messages, rate=rate)
            await asyncio.sleep(0.2)


def totals(
    start_ms: int, end_ms: int, counted: Progress, join_ms: int, date: Callable[[int], str]
) -> dict[str, Any]:
    elapsed_sec = (end_ms - start_ms) / 1000.0
    fetch_ms = end_ms - start_ms - join_ms
    mb = counted.bytes / MB
    return {
        "start.time": date(start_ms),
        "end.time": date(end_ms),
        "data.consumed.in.MB": mb,
        "MB.sec": ratio(mb, elapsed_sec),
        "data.consumed.in.nMsg": counted.messages,
        "nMsg.sec": ratio(counted.messages, elapsed_sec),
        "rebalance.time.ms": join_ms,
        "fetch.time.ms": fetch_ms,
        "fetch.MB.sec": ratio(mb, fetch_ms / 1000.0),
        "fetch.nMsg.sec": ratio(counted.messages, fetch_ms / 1000.0),
    }


def summary_line(total: dict[str, Any]) -> str:
    """Kafka's `%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f`."""
    return ", ".join(
        jfmt(value, 4) if isinstance(value, float) else str(value) for value in total.values()
    )


def consumer_metrics(
    client_id: str,
    counted: Progress,
    rebalances: Rebalances,
    fetches: FetchMetrics,
    elapsed_ms: int,
) -> dict[str, float]:
    seconds = elapsed_ms / 1000.0
    fetch = "consumer-fetch-manager-metrics"
    coordinator = "consumer-coordinator-metrics"
    values = {
        (fetch, "bytes-consumed-rate"): ratio(counted.bytes, seconds),
        (fetch, "bytes-consumed-total"): counted.bytes,
        (fetch, "fetch-latency-avg"): fetches.latency.avg,
        (fetch, "fetch-latency-max"): fetches.latency.max,
        (fetch, "fetch-rate"): ratio(fetches.latency.count, seconds),
        (fetch, "fetch-size-avg"): fetches.size.avg,
        (fetch, "fetch-size-max"): fetches.size.max,
        (fetch, "fetch-total"): fetches.latency.count,
        (fetch, "records-consumed-rate"): ratio(counted.messages, seconds),
        (fetch, "records-consumed-total"): counted.messages,
        (coordinator, "assigned-partitions"): rebalances.assigned,
        (coordinator, "rebalance-latency-avg"): rebalances.latency.avg,
        (coordinator, "rebalance-latency-max"): rebalances.latency.max,
        (coordinator, "rebalance-latency-total"): rebalances.latency.total,
        (coordinator, "rebalance-total"): rebalances.latency.count,
    }
    return {
        metric_name(group, name, client_id=client_id): float(value)
        for (group, name), value in values.items()
    }


async def execute(args: argparse.Namespace) -> int:
    if args.messages <= 0:
        raise UsageError("--messages must be greater than 0")
    if args.reporting_interval <= 0:
        raise UsageError("Reporting interval must be greater than 0.")
    date = date_formatter(args.date_format)
    connection = connection_from(args)
    if connection.client_id is None:
        connection = connection_from(args, {"client.id": CLIENT_ID})
    kwargs, unknown = consumer_args(connection, consumer_properties(args, connection.extra))
    if unknown:
        sys.stderr.write(
            f"{PROG}: warning: ignoring consumer properties aiokafka has no equivalent for:"
            f" {', '.join(sorted(unknown))}\n"
        )
    text = args.output == "text"
    start_ms = now_ms()
    rebalances = Rebalances(start_ms)
    consumer = await start(new_consumer(kwargs), connection)
    fetches = FetchMetrics()
    if args.print_metrics:
        time_requests(consumer._client, FETCH_API, fetches.observe)
    if text and not args.hide_header:
        print(DETAILED_HEADER if args.show_detailed_stats else SUMMARY_HEADER)
    counted = Progress()
    bar = None
    if text and not args.show_detailed_stats and sys.stdout.isatty():
        bar = asyncio.create_task(show_progress(counted, args.messages, start_ms))
    try:
        consumer.subscribe([args.topic], listener=rebalances.listener())
        await consume(consumer, args, counted, rebalances, date, kwargs["max_poll_records"])
        end_ms = now_ms()
    except AIOKafkaError as exc:
        raise KafkaToolError(f"consuming {args.topic} failed: {exc}") from None
    finally:
        if bar is not None:
            bar.cancel()
            await asyncio.gather(bar, return_exceptions=True)
        await consumer.stop()
    total = totals(start_ms, end_ms, counted, rebalances.join_time_ms, date)
    table = (
        consumer_metrics(
            connection.client_id or CLIENT_ID, counted, rebalances, fetches, end_ms - start_ms
        )
        if args.print_metrics
        else {}
    )
    if not text:
        print_json(json_safe({**total, "timed_out": counted.timed_out, "metrics": table or None}))
        return 0
    if not args.show_detailed_stats:
        print(summary_line(total))
    for line in metrics_table(table):
        print(line)
    return 0


def main(argv: list[str]) -> None:
    p = parser()
    args = p.parse_args(kafka_style(argv, p))
    run(PROG, lambda: execute(args))
