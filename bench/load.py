"""Load: many producers and a large consumer group at once, then thousands of idle connections.

    python bench/load.py [--broker localbroker|kafka|both] [--seconds 60] [--rate 1000]

1. 50 producers (acks=all) and 50 consumers in one group on a 50-partition topic, for
   `--seconds`. Each record carries its send time, so consumers measure end-to-end latency
   and producers the time to acknowledgement. Reported: records acknowledged and consumed
   per second, p50/p99 latencies, delivery and consume errors (the goal is none), how long
   the group took to become stable (every member assigned; the goal is 5 s) and how many
   rebalances followed, peak broker memory, and the round trip of ApiVersions on a new
   connection every half second (how long a newcomer waits while the broker is busy).
   `--rate` is records per second per producer (0: as fast as the producers can).
2. 5,000 connections that each make one request and then idle: the broker's memory above
   its idle size (the goal: under 100 MB).

Clients run in worker processes (ten clients each, a thread per client, so librdkafka's
calls run outside the GIL), apart from the broker they measure. `--broker kafka` runs
Apache Kafka from Maven Central (the tests' reference broker, tests/reference_kafka.py) in
the same way.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import json
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from peers import apache_kafka_process, localbroker_process, percentile

TIMEOUT = 60.0
CLIENTS_PER_WORKER = 10
TOPIC = "load"
GROUP = "load-group"
_STAMP = struct.Struct(">d")
_API_VERSIONS = struct.pack(">hhih", 18, 0, 7, 4) + b"load"


# -- worker processes -----------------------------------------------------------------------------


_EMITTING = threading.Lock()


def emit(**event: Any) -> None:
    """One event line for the coordinator (one at a time: the clients are threads)."""
    with _EMITTING:
        print(json.dumps(event), flush=True)


def save(latencies: array.array[float], path: str) -> None:
    with open(path, "wb") as file:
        latencies.tofile(file)


def produce_worker(args: argparse.Namespace) -> None:
    from confluent_kafka import Producer

    padding = b"x" * max(args.size - _STAMP.size, 0)
    acked = array.array("d")
    errors = [0]
    lock = threading.Lock()

    def delivered(error: Any, message: Any) -> None:
        if error is not None:
            errors[0] += 1
            return
        (sent,) = _STAMP.unpack_from(message.value())
        acked.append(time.time() - sent)

    def run(number: int) -> None:
        producer = Producer(
            {"bootstrap.servers": args.bootstrap, "linger.ms": 5, "client.id": f"p{number}"}
        )
        deadline = time.monotonic() + args.seconds
        sent = 0
        started = time.monotonic()
        while time.monotonic() < deadline:
            if args.rate and sent >= args.rate * (time.monotonic() - started):
                producer.poll(0.005)
                continue
            try:
                producer.produce(TOPIC, _STAMP.pack(time.time()) + padding, on_delivery=delivered)
                sent += 1
            except BufferError:
                producer.poll(0.01)
            producer.poll(0)
        left = producer.flush(TIMEOUT)
        with lock:
            errors[0] += left

    threads = [threading.Thread(target=run, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    save(acked, args.out)
    emit(event="produced", acked=len(acked), errors=errors[0])


def consume_worker(args: argparse.Namespace) -> None:
    from confluent_kafka import Consumer

    latencies = array.array("d")
    errors = [0]
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    def run(number: int) -> None:
        consumer = Consumer(
            {
                "bootstrap.servers": args.bootstrap,
                "group.id": GROUP,
                "client.id": f"c{number}",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 100,
            }
        )

        def assigned(_: Any, partitions: list[Any]) -> None:
            emit(event="assign", member=f"{args.worker}-{number}", partitions=len(partitions))

        def revoked(_: Any, partitions: list[Any]) -> None:
            emit(event="revoke", member=f"{args.worker}-{number}", partitions=len(partitions))

        consumer.subscribe([TOPIC], on_assign=assigned, on_revoke=revoked)
        emit(event="subscribed", member=f"{args.worker}-{number}")
        while not stop.is_set():
            for message in consumer.consume(500, 0.1):
                if message.error() is not None:
                    errors[0] += 1
                    continue
                (sent,) = _STAMP.unpack_from(message.value())
                latencies.append(time.time() - sent)
        consumer.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(args.clients)]
    for thread in threads:
        thread.start()
    while not stop.wait(1.0):
        emit(event="progress", consumed=len(latencies))
    for thread in threads:
        thread.join()
    save(latencies, args.out)
    emit(event="consumed", consumed=len(latencies), errors=errors[0])


# -- the coordinator ------------------------------------------------------------------------------


@dataclass
class Worker:
    kind: str
    process: subprocess.Popen[str]
    out: Path
    events: list[dict[str, Any]] = field(default_factory=list)

    def pump(self) -> None:
        """Read the worker's events as they come."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            event["t"] = time.monotonic()
            self.events.append(event)

    def latest(self, name: str) -> dict[str, Any] | None:
        found = [e for e in self.events if e["event"] == name]
        return found[-1] if found else None


def start_worker(kind: str, number: int, args: argparse.Namespace, work: Path) -> Worker:
    out = work / f"{kind}-{number}.bin"
    command = [
        sys.executable,
        __file__,
        "--worker-kind",
        kind,
        "--worker",
        str(number),
        "--bootstrap",
        args.bootstrap,
        "--clients",
        str(CLIENTS_PER_WORKER),
        "--seconds",
        str(args.seconds),
        "--rate",
        str(args.rate),
        "--size",
        str(args.size),
        "--out",
        str(out),
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    worker = Worker(kind, process, out)
    threading.Thread(target=worker.pump, daemon=True).start()
    return worker


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def api_versions_round_trip(bootstrap: str) -> float:
    """Seconds for a new connection's ApiVersions answer (connection included)."""
    host, port = bootstrap.rsplit(":", 1)
    started = time.perf_counter()
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(struct.pack(">i", len(_API_VERSIONS)) + _API_VERSIONS)
        received = b""
        while len(received) < 4 or len(received) < 4 + struct.unpack(">i", received[:4])[0]:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return time.perf_counter() - started


def load_latencies(paths: list[Path]) -> list[float]:
    values = array.array("d")
    for path in paths:
        if path.exists():
            with path.open("rb") as file:
                values.frombytes(file.read())
    return list(values)


@dataclass
class LoadResult:
    broker: str
    seconds: float
    offered_per_s: float
    acked_per_s: float
    consumed_per_s: float
    produce_ack_p50_ms: float
    produce_ack_p99_ms: float
    end_to_end_p50_ms: float
    end_to_end_p99_ms: float
    delivery_errors: int
    consume_errors: int
    unconsumed: int
    group_stable_s: float
    """From the last member's subscribe to every member holding partitions."""
    group_stable_from_launch_s: float
    """The same from the consumer processes' launch (includes the clients' start-up)."""
    rebalances_after_stable: int
    peak_rss_mb: float
    new_connection_p50_ms: float
    new_connection_p99_ms: float
    new_connection_max_ms: float


def run_load(name: str, args: argparse.Namespace, pid: int) -> LoadResult:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    admin.create_topics([NewTopic(TOPIC, args.partitions, 1)])[TOPIC].result(TIMEOUT)
    work = Path(tempfile.mkdtemp(prefix="load-"))
    workers = args.producers // CLIENTS_PER_WORKER, args.consumers // CLIENTS_PER_WORKER
    group_started = time.monotonic()
    consumers = [start_worker("consume", n, args, work) for n in range(workers[1])]
    stable_at = wait_for_stable_group(consumers, args.consumers, group_started)
    producers = [start_worker("produce", n, args, work) for n in range(workers[0])]
    produce_started = time.monotonic()
    peak, probes = resident_mb(pid), []
    while any(p.process.poll() is None for p in producers):
        probes.append(api_versions_round_trip(args.bootstrap))
        peak = max(peak, resident_mb(pid))
        time.sleep(0.5)
    produce_ended = time.monotonic()
    produce_seconds = produce_ended - produce_started
    acked = sum((p.latest("produced") or {}).get("acked", 0) for p in producers)
    delivery_errors = sum((p.latest("produced") or {}).get("errors", 0) for p in producers)
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        consumed = sum((c.latest("progress") or {}).get("consumed", 0) for c in consumers)
        if consumed >= acked:
            break
        peak = max(peak, resident_mb(pid))
        time.sleep(0.5)
    for consumer in consumers:
        assert consumer.process.stdin is not None
        consumer.process.stdin.close()
    for worker in [*consumers, *producers]:
        worker.process.wait(TIMEOUT)
    time.sleep(0.2)  # the pump threads read the workers' last lines
    consumed = sum((c.latest("consumed") or {}).get("consumed", 0) for c in consumers)
    consume_errors = sum((c.latest("consumed") or {}).get("errors", 0) for c in consumers)
    revokes = [e for c in consumers for e in c.events if e["event"] == "revoke"]
    ack = load_latencies([p.out for p in producers])
    end_to_end = load_latencies([c.out for c in consumers])
    return LoadResult(
        broker=name,
        seconds=round(produce_seconds, 1),
        offered_per_s=args.rate * args.producers,
        acked_per_s=round(acked / produce_seconds),
        consumed_per_s=round(consumed / produce_seconds),
        produce_ack_p50_ms=round(percentile(ack, 0.5) * 1000, 1),
        produce_ack_p99_ms=round(percentile(ack, 0.99) * 1000, 1),
        end_to_end_p50_ms=round(percentile(end_to_end, 0.5) * 1000, 1),
        end_to_end_p99_ms=round(percentile(end_to_end, 0.99) * 1000, 1),
        delivery_errors=delivery_errors,
        consume_errors=consume_errors,
        unconsumed=max(acked - consumed, 0),
        group_stable_s=round(stable_at - last_subscribed(consumers), 2),
        group_stable_from_launch_s=round(stable_at - group_started, 2),
        rebalances_after_stable=sum(1 for e in revokes if stable_at < e["t"] < produce_ended),
        peak_rss_mb=round(peak),
        new_connection_p50_ms=round(percentile(probes, 0.5) * 1000, 1),
        new_connection_p99_ms=round(percentile(probes, 0.99) * 1000, 1),
        new_connection_max_ms=round(max(probes, default=float("nan")) * 1000, 1),
    )


def last_subscribed(consumers: list[Worker]) -> float:
    return max(e["t"] for c in consumers for e in c.events if e["event"] == "subscribed")


def wait_for_stable_group(consumers: list[Worker], members: int, started: float) -> float:
    """When the last of `members` consumers got its assignment (every one holds some)."""
    deadline = started + TIMEOUT
    while time.monotonic() < deadline:
        assigned: dict[str, tuple[int, float]] = {}
        for worker in consumers:
            for event in worker.events:
                if event["event"] in ("assign", "revoke"):
                    count = event["partitions"] if event["event"] == "assign" else 0
                    assigned[event["member"]] = (count, event["t"])
        if len(assigned) == members and all(count for count, _ in assigned.values()):
            return max(t for _, t in assigned.values())
        time.sleep(0.05)
    raise RuntimeError(f"the group of {members} was not stable within {TIMEOUT:.0f} s")


@dataclass
class IdleResult:
    broker: str
    connections: int
    idle_rss_mb: float
    held_rss_mb: float
    grown_mb: float
    per_connection_kb: float


def run_idle(name: str, bootstrap: str, pid: int, count: int) -> IdleResult:
    """Open `count` connections, one ApiVersions round trip each, and hold them."""
    host, port = bootstrap.rsplit(":", 1)
    api_versions_round_trip(bootstrap)
    idle = resident_mb(pid)
    frame = struct.pack(">i", len(_API_VERSIONS)) + _API_VERSIONS
    held: list[socket.socket] = []
    try:
        while len(held) < count:
            batch = [
                socket.create_connection((host, int(port)), TIMEOUT)
                for _ in range(min(500, count - len(held)))
            ]
            held += batch
            for sock in batch:
                sock.sendall(frame)
            with selectors.DefaultSelector() as selector:
                for sock in batch:
                    selector.register(sock, selectors.EVENT_READ)
                waiting, deadline = len(batch), time.monotonic() + TIMEOUT
                while waiting and time.monotonic() < deadline:
                    for key, _ in selector.select(1.0):
                        key.fileobj.recv(65536)  # type: ignore[union-attr]
                        selector.unregister(key.fileobj)
                        waiting -= 1
            if waiting:
                raise RuntimeError(f"{waiting} connections got no answer")
        time.sleep(1.0)  # let the broker settle before its memory is read
        grown = resident_mb(pid) - idle
    finally:
        for sock in held:
            sock.close()
    return IdleResult(
        name, count, round(idle), round(idle + grown), round(grown), round(grown * 1024 / count, 1)
    )


@contextlib.contextmanager
def broker(name: str) -> Iterator[tuple[str, int]]:
    if ":" in name:  # an already running broker, HOST:PORT@PID
        bootstrap, _, pid = name.partition("@")
        yield bootstrap, int(pid)
    elif name == "localbroker":
        with localbroker_process() as (bootstrap, process):
            yield bootstrap, process.pid
    else:
        with apache_kafka_process() as running:
            yield running


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--broker",
        default="both",
        help="localbroker, kafka, both, or HOST:PORT@PID for a broker already running",
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=1000, help="records/s per producer; 0: max")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--producers", type=int, default=50)
    parser.add_argument("--consumers", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=50)
    parser.add_argument("--idle-connections", type=int, default=5000)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--worker-kind", help=argparse.SUPPRESS)
    parser.add_argument("--worker", default="0", help=argparse.SUPPRESS)
    parser.add_argument("--bootstrap", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=CLIENTS_PER_WORKER, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.producers % CLIENTS_PER_WORKER or args.consumers % CLIENTS_PER_WORKER:
        parser.error(
            f"--producers and --consumers run {CLIENTS_PER_WORKER} to a worker process:"
            f" give multiples of {CLIENTS_PER_WORKER}"
        )
    if args.worker_kind == "produce":
        return produce_worker(args)
    if args.worker_kind == "consume":
        return consume_worker(args)
    names = ["localbroker", "kafka"] if args.broker == "both" else [args.broker]
    results: list[dict[str, Any]] = []
    for name in names:
        if not args.skip_load:
            with broker(name) as (bootstrap, pid):
                args.bootstrap = bootstrap
                result = run_load(name, args, pid)
                results.append(asdict(result))
                print(json.dumps(asdict(result)), flush=True)
        with broker(name) as (bootstrap, pid):
            idle = run_idle(name, bootstrap, pid, args.idle_connections)
            results.append(asdict(idle))
            print(json.dumps(asdict(idle)), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    print_tables(results)


def print_tables(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    for kind in ("seconds", "connections"):
        rows = [r for r in results if kind in r]
        if not rows:
            continue
        table = Table(*["measure", *(r["broker"] for r in rows)])
        for key in rows[0]:
            if key != "broker":
                table.add_row(key, *(str(r[key]) for r in rows))
        Console().print(table)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
