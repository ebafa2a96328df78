"""`kwb perf`: kafka-producer-perf-test.sh — produce N records at a target rate and time them.

The output is ProducerPerformance's, line for line, so results compare with Kafka's own runs
and scripts that parse them keep working: a window line every five seconds and one summary
with latency percentiles; `--print-metrics` adds a metrics table in ToolsUtils' layout.

The engine (librdkafka when installed, else aiokafka: tui.kafka.perf.engine; throttling,
latencies, windows: .producer; payloads: .records) and the window and summary lines (.report)
are shared with the workbench's traffic generator; this module holds Kafka's flags, the
metrics table and the JSON output. `--print-metrics` reports what the engine measures itself:
the records and their acknowledgements, and every produce request as it goes out, which only
aiokafka's engine lets it watch; so `--print-metrics` runs on aiokafka.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from localbroker.public import ApiKey

from ..kafka.admin import KafkaAdmin
from ..kafka.clients import partitions_for
from ..kafka.errors import KafkaToolError
from ..kafka.perf.engine import AiokafkaEngine, start_engine
from ..kafka.perf.metrics import ProduceRequestMetrics, ratio, time_requests
from ..kafka.perf.producer import ProducerLoad, Stats, Window, now_ms
from ..kafka.perf.report import total_line, window_line
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    parse_key_values,
    print_json,
    run_command,
    warn_ignored,
)
from .perf_output import jfmt, json_safe, metric_name, metrics_table
from .progress import progress_bar

PROG = "kwb perf"
CLIENT_ID = "perf-producer-client"


# -- flags ----------------------------------------------------------------------------------


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
    """Checked flags: what to send, and the producer properties given on the command line."""

    load: ProducerLoad
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
    """ProducerPerformance.ConfigPostProcessor: Kafka's checks, in its order and words."""
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
    load = ProducerLoad(
        args.topic, args.num_records, args.throughput, args.record_size, tuple(payloads)
    )
    return PerfConfig(load, properties)


# -- output ---------------------------------------------------------------------------------


def producer_metrics(
    requests: ProduceRequestMetrics, stats: Stats, client_id: str, topic: str, elapsed_ms: float
) -> dict[str, float]:
    """What `--print-metrics` reports, under Kafka's producer metric names."""
    seconds = elapsed_ms / 1000.0
    client = {"client_id": client_id}
    per_topic = {"client_id": client_id, "topic": topic}
    bytes_sent = requests.batch_size.total
    values = {
        metric_name("producer-metrics", "batch-size-avg", **client): requests.batch_size.avg,
        metric_name("producer-metrics", "batch-size-max", **client): requests.batch_size.max,
        metric_name("producer-metrics", "compression-rate-avg", **client): (
            requests.compression_rate.avg
        ),
        metric_name("producer-metrics", "record-error-rate", **client): ratio(
            stats.errors, seconds
        ),
        metric_name("producer-metrics", "record-error-total", **client): stats.errors,
        metric_name("producer-metrics", "record-send-rate", **client): ratio(stats.count, seconds),
        metric_name("producer-metrics", "record-send-total", **client): stats.count,
        metric_name("producer-metrics", "record-size-avg", **client): requests.record_size.avg,
        metric_name("producer-metrics", "record-size-max", **client): requests.record_size.max,
        metric_name("producer-metrics", "records-per-request-avg", **client): (
            requests.records_per_request.avg
        ),
        metric_name("producer-metrics", "request-latency-avg", **client): (
            requests.request_latency.avg
        ),
        metric_name("producer-metrics", "request-latency-max", **client): (
            requests.request_latency.max
        ),
        metric_name("producer-topic-metrics", "byte-rate", **per_topic): ratio(bytes_sent, seconds),
        metric_name("producer-topic-metrics", "byte-total", **per_topic): bytes_sent,
        metric_name("producer-topic-metrics", "record-send-rate", **per_topic): ratio(
            stats.count, seconds
        ),
        metric_name("producer-topic-metrics", "record-send-total", **per_topic): stats.count,
    }
    return {name: float(value) for name, value in values.items()}


# -- the run --------------------------------------------------------------------------------


async def execute(args: argparse.Namespace) -> int:
    config = post_process(args)
    load = config.load
    # --producer-props over --producer.config, as Kafka's readProps merges them.
    connection = connection_from(args, config.properties, {"client.id": CLIENT_ID})
    if "transactional.id" in connection.extra:
        raise UsageError("transactional.id is not supported: kwb perf does not use transactions")
    text = args.output == "text"
    terminal = text and sys.stdout.isatty()
    async with KafkaAdmin(connection) as admin:  # fail fast on a topic that will not be created
        await partitions_for(admin, load.topic)
    wanted = "aiokafka" if args.print_metrics else None
    engine, unknown = await start_engine(connection, connection.extra, wanted=wanted)
    warn_ignored(PROG, "producer properties", unknown, engine.name)
    requests = ProduceRequestMetrics()
    if isinstance(engine, AiokafkaEngine) and args.print_metrics:
        time_requests(engine.producer.client, ApiKey.PRODUCE, requests.observe)

    def print_window(window: Window) -> None:
        print(window_line(window), flush=True)

    stats = Stats(load.num_records, on_window=print_window if text and not terminal else None)

    def rate() -> str:
        return jfmt(ratio(1000.0 * stats.count, now_ms() - stats.start), 1)

    try:
        bar = progress_bar(
            terminal, "records sent", load.num_records, lambda: stats.count, rate, "records/sec"
        )
        async with bar:
            await engine.run(load, stats)
    finally:
        await engine.close()
    total = stats.totals()
    client_id = connection.client_id or CLIENT_ID  # an empty client.id in the file
    table = (
        producer_metrics(requests, stats, client_id, load.topic, total.elapsed_ms)
        if args.print_metrics
        else {}
    )
    if text:
        print(total_line(total))
        for line in metrics_table(table):
            print(line)
    else:
        document = {**asdict(total), "records_failed": stats.errors, "metrics": table or None}
        document.pop("elapsed_ms")
        print_json(json_safe(document))
    if stats.errors:
        raise KafkaToolError(
            f"{stats.errors} of {load.num_records} records failed; the first: {stats.first_error}"
        )
    return 0


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
