"""`kwb consumer-perf`: kafka-consumer-perf-test.sh — consume N messages in a group and time it.

The output is ConsumerPerformance's: a header and one line of totals (or, with
`--show-detailed-stats`, a line per reporting interval), with Kafka's date format and number
formatting, so results compare with Kafka's own runs. Like Kafka's tool it subscribes in a
(fresh, by default) consumer group, so the rebalance time is part of what it measures, and it
stops after N messages or when no message came for `--timeout` ms. The measuring loop is
tui.kafka.perf.consumer, which the workbench shares; this module holds flags and output.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Mapping
from typing import Any

from localbroker.public import ApiKey

from ..kafka.aiokafka_private import client_of
from ..kafka.clients import consumer_args, new_consumer, start
from ..kafka.perf.consumer import (
    ConsumerLoad,
    ConsumerTotals,
    Counts,
    Interval,
    Rebalances,
    consume_load,
    consumer_totals,
    wall_ms,
)
from ..kafka.perf.engine import engine_name
from ..kafka.perf.librdkafka_consumer import consume_with_librdkafka, librdkafka_consumer_config
from ..kafka.perf.metrics import MB, FetchMetrics, ratio, time_requests
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    print_json,
    run_command,
    warn_ignored,
)
from .perf_output import date_formatter, jfmt, json_safe, metric_name, metrics_table
from .progress import progress_bar

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


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG, description="Verify consumer performance (kafka-consumer-perf-test.sh)."
    )
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
    add_connection_options(p, "--consumer.config")
    return p


# -- consumer properties --------------------------------------------------------------------


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


# -- output ---------------------------------------------------------------------------------


def interval_line(interval: Interval, date: Callable[[int], str]) -> str:
    """printConsumerProgress: one --show-detailed-stats line for the interval just ended."""
    new_messages = interval.messages - interval.last_messages
    return (
        f"{date(interval.end_ms)}, 0, {jfmt(interval.bytes / MB, 4)},"
        f" {jfmt(ratio(1000.0 * interval.mb, interval.elapsed_ms), 4)}, {interval.messages},"
        f" {jfmt(ratio(new_messages, interval.elapsed_ms) * 1000.0, 4)},"
        f" {interval.join_ms}, {interval.fetch_ms}, {jfmt(interval.fetch_mb_per_sec, 4)},"
        f" {jfmt(interval.fetch_messages_per_sec, 4)}"
    )


def totals(total: ConsumerTotals, date: Callable[[int], str]) -> dict[str, Any]:
    """The summary's fields under Kafka's header names (and so in --output json)."""
    return {
        "start.time": date(total.start_ms),
        "end.time": date(total.end_ms),
        "data.consumed.in.MB": total.mb,
        "MB.sec": total.mb_per_sec,
        "data.consumed.in.nMsg": total.messages,
        "nMsg.sec": total.messages_per_sec,
        "rebalance.time.ms": total.rebalance_ms,
        "fetch.time.ms": total.fetch_ms,
        "fetch.MB.sec": total.fetch_mb_per_sec,
        "fetch.nMsg.sec": total.fetch_messages_per_sec,
    }


def summary_line(total: dict[str, Any]) -> str:
    """Kafka's `%s, %s, %.4f, %.4f, %d, %.4f, %d, %d, %.4f, %.4f`."""
    return ", ".join(
        jfmt(value, 4) if isinstance(value, float) else str(value) for value in total.values()
    )


def consumer_metrics(
    client_id: str,
    counts: Counts,
    rebalances: Rebalances,
    fetches: FetchMetrics,
    elapsed_ms: int,
) -> dict[str, float]:
    """What `--print-metrics` reports, under Kafka's consumer metric names."""
    seconds = elapsed_ms / 1000.0
    fetch = "consumer-fetch-manager-metrics"
    coordinator = "consumer-coordinator-metrics"
    values = {
        (fetch, "bytes-consumed-rate"): ratio(counts.bytes, seconds),
        (fetch, "bytes-consumed-total"): counts.bytes,
        (fetch, "fetch-latency-avg"): fetches.latency.avg,
        (fetch, "fetch-latency-max"): fetches.latency.max,
        (fetch, "fetch-rate"): ratio(fetches.latency.count, seconds),
        (fetch, "fetch-size-avg"): fetches.size.avg,
        (fetch, "fetch-size-max"): fetches.size.max,
        (fetch, "fetch-total"): fetches.latency.count,
        (fetch, "records-consumed-rate"): ratio(counts.messages, seconds),
        (fetch, "records-consumed-total"): counts.messages,
        (coordinator, "assigned-partitions"): rebalances.assigned_count,
        (coordinator, "rebalance-latency-avg"): rebalances.latency.avg,
        (coordinator, "rebalance-latency-max"): rebalances.latency.max,
        (coordinator, "rebalance-latency-total"): rebalances.latency.total,
        (coordinator, "rebalance-total"): rebalances.latency.count,
    }
    return {
        metric_name(group, name, client_id=client_id): float(value)
        for (group, name), value in values.items()
    }


# -- the run --------------------------------------------------------------------------------


async def execute(args: argparse.Namespace) -> int:
    if args.messages <= 0:
        raise UsageError("--messages must be greater than 0")
    if args.reporting_interval <= 0:
        raise UsageError("Reporting interval must be greater than 0.")
    date = date_formatter(args.date_format)
    connection = connection_from(args, defaults={"client.id": CLIENT_ID})
    properties = consumer_properties(args, connection.extra)
    # librdkafka when installed, as kwb perf; --print-metrics times aiokafka's fetches.
    librdkafka = engine_name() == "librdkafka" and not args.print_metrics
    if librdkafka:
        config, unknown = librdkafka_consumer_config(
            connection, properties, connection.client_id or CLIENT_ID
        )
    else:
        kwargs, unknown = consumer_args(connection, properties)
    warn_ignored(PROG, "consumer properties", unknown)
    text = args.output == "text"
    load = ConsumerLoad(args.topic, args.messages, args.timeout, args.reporting_interval)
    start_ms = wall_ms()
    rebalances = Rebalances(start_ms)
    consumer = None if librdkafka else await start(new_consumer(kwargs), connection)
    fetches = FetchMetrics()
    if consumer is not None and args.print_metrics:
        time_requests(client_of(consumer), ApiKey.FETCH, fetches.observe)
    if text and not args.hide_header:
        print(DETAILED_HEADER if args.show_detailed_stats else SUMMARY_HEADER)
    counts = Counts()

    def print_interval(interval: Interval) -> None:
        print(interval_line(interval, date), flush=True)

    def rate() -> str:
        return jfmt(ratio(1000.0 * counts.messages, wall_ms() - start_ms), 1)

    shown = text and not args.show_detailed_stats and sys.stdout.isatty()
    detailed = print_interval if args.show_detailed_stats and text else None
    try:
        async with progress_bar(
            shown, "messages consumed", load.messages, lambda: counts.messages, rate, "nMsg/sec"
        ):
            if consumer is None:
                await consume_with_librdkafka(config, load, counts, rebalances, detailed)
            else:
                await consume_load(
                    consumer, load, counts, rebalances, kwargs["max_poll_records"], detailed
                )
            if counts.timed_out and text:
                print(
                    f"WARNING: Exiting before consuming the expected number of messages: timeout"
                    f" ({args.timeout} ms) exceeded. You can use the --timeout option to increase"
                    " the timeout."
                )
            end_ms = wall_ms()
    finally:
        if consumer is not None:
            await consumer.stop()
    total = totals(consumer_totals(start_ms, end_ms, counts, rebalances.join_time_ms), date)
    table = (
        consumer_metrics(
            connection.client_id or CLIENT_ID, counts, rebalances, fetches, end_ms - start_ms
        )
        if args.print_metrics
        else {}
    )
    if not text:
        print_json(json_safe({**total, "timed_out": counts.timed_out, "metrics": table or None}))
        return 0
    if not args.show_detailed_stats:
        print(summary_line(total))
    for line in metrics_table(table):
        print(line)
    return 0


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
