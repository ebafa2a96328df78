"""A broker's turnaround for produce requests sent one at a time, as an idempotent librdkafka
producer sends them.

    python bench/turnaround.py [--brokers localbroker,kafka,tansu] [--requests 8000]
                               [--records 16] [--size 1000] [--repeat 3]

With idempotence on (Kafka's default at acks=all), librdkafka keeps one ProduceRequest in
flight per partition: it counts messages, not requests, against its window of five
(librdkafka PR #4989). So `kwb perf` at acks=all sends one batch per round trip, and the
broker's turnaround sets its rate. This sends pre-built idempotent ProduceRequests (v9,
acks=all, `--records` records of `--size` bytes: about Kafka's default 16 KB batch at 1 KB)
over one connection, one at a time, from a client that does nothing else. It reports
requests/s, records/s, the round trip's p50 and p99, and the broker process's CPU per
request (every thread's: a JVM's too), after one unmeasured run.
"""

from __future__ import annotations

import argparse
import socket
import struct
import time

from broker_cpu import cpu_seconds
from peers import machine_load, percentile, ratio
from rich.console import Console
from rich.table import Table
from startup import broker
from throughput import create_topic
from wire import RawClient, framed, request_body, request_bytes

from localbroker.protocol.names import ApiKey
from localbroker.records.builder import NewRecord, build_batch

PRODUCE_VERSION = 9
_LENGTH = struct.Struct(">i")


def produce_frames(
    client: RawClient, topic: str, requests: int, records: int, size: int
) -> list[bytes]:
    """`requests` framed ProduceRequests of one batch each, in sequence for a new producer id."""
    answer = client.call(
        ApiKey.INIT_PRODUCER_ID, 4, {"transactional_id": None, "transaction_timeout": 60_000}
    )
    value = b"A" * size
    now_ms = int(time.time() * 1000)
    frames = []
    for index in range(requests):
        batch = build_batch(
            [NewRecord(value)] * records,
            now_ms=now_ms,
            producer_id=answer.producer_id,
            producer_epoch=answer.producer_epoch,
            base_sequence=index * records,
        )
        partitions = [{"index": 0, "records": batch}]
        topics = [{"name": topic, "partition_data": partitions}]
        data = {"acks": -1, "timeout": 30_000, "topic_data": topics}
        body = request_body(ApiKey.PRODUCE, PRODUCE_VERSION, data)
        frames.append(framed(request_bytes(body, index + 100)))
    return frames


def read_answer(sock: socket.socket) -> None:
    """Read one response frame whole (its content is not looked at: the count is checked)."""
    header = sock.recv(_LENGTH.size, socket.MSG_WAITALL)
    if len(header) < _LENGTH.size:
        raise ConnectionError("the broker closed the connection")
    (size,) = _LENGTH.unpack(header)
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        size -= len(chunk)


def one_run(bootstrap: str, pid: int, args: argparse.Namespace) -> dict[str, float]:
    topic = create_topic(bootstrap, 1)
    with RawClient(bootstrap) as client:
        frames = produce_frames(client, topic, args.requests, args.records, args.size)
        round_trips = []
        cpu, started = cpu_seconds(pid), time.perf_counter()
        for frame in frames:
            sent = time.perf_counter()
            client.sock.sendall(frame)
            read_answer(client.sock)
            round_trips.append(time.perf_counter() - sent)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    return {
        "requests/s": args.requests / elapsed,
        "records/s": args.requests * args.records / elapsed,
        "round trip p50 (us)": percentile(round_trips, 0.5) * 1e6,
        "round trip p99 (us)": percentile(round_trips, 0.99) * 1e6,
        "broker CPU per request (us)": cpu / args.requests * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--records", type=int, default=16)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=160)
    results: dict[str, dict[str, float]] = {}
    for name in args.brokers.split(","):
        with broker(name) as running:
            running.start()
            one_run(running.bootstrap, running.pid, args)  # warm-up: a JVM's JIT, the caches
            runs = [one_run(running.bootstrap, running.pid, args) for _ in range(args.repeat)]
        results[name] = {key: sorted(run[key] for run in runs)[len(runs) // 2] for key in runs[0]}
        console.log(f"{name}: {results[name]}; {machine_load()}")
    table = Table(
        title=f"one produce request at a time: {args.records} x {args.size} B, idempotent,"
        f" acks=all; medians of {args.repeat}; {machine_load()}"
    )
    table.add_column("broker", justify="right")
    keys = list(next(iter(results.values())))
    for key in keys:
        table.add_column(key, justify="right")
    table.add_column("records/s / Kafka", justify="right")
    reference = results.get("kafka", {}).get("records/s")
    for name, figures in results.items():
        cells = [f"{figures[key]:,.0f}" for key in keys]
        versus = ratio(figures["records/s"], reference) if reference and name != "kafka" else ""
        table.add_row(name, *cells, versus)
    console.print(table)


if __name__ == "__main__":
    main()
