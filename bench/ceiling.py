"""The broker's own ceiling: records/s and MB/s per broker core, with several producer processes.

    python bench/ceiling.py [--size 1000] [--partitions 8,64] [--producers 1,3]
                            [--megabytes 150] [--brokers localbroker,kafka,tansu]
                            [--profile PREFIX]

One librdkafka client bounded throughput.py; here `--producers` processes each run
throughput.py's produce (acks=all, linger.ms=5, 1 MB batches) into one topic of
`--partitions` partitions at once, `--megabytes` in all. Each broker's CPU time (user +
system, every thread) is read from /proc before and after (broker_cpu.py), so besides
records/s and MB/s the table shows the cores the broker used and what it moves per core
(records and MB per second of broker CPU): on this shared 2-core machine the clients take
CPU too, and a figure per core is what still compares when the broker is not alone. Ratios
are to Apache Kafka's in the same run. With `--profile`, py-spy samples localbroker during
its runs (PREFIX-<partitions>p-<producers>x.txt; bench/hot_frames.py lists its hot code).
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import time
from pathlib import Path

from broker_cpu import cpu_seconds
from peers import machine_load, ratio, sample
from rich.console import Console
from rich.table import Table
from startup import broker
from throughput import create_topic, produce


def run_once(
    bootstrap: str, pid: int, topic: str, producers: int, count: int, size: int
) -> tuple[float, float]:
    """Wall-clock and broker CPU seconds for `producers` processes writing `count` records."""
    each = count // producers
    with multiprocessing.get_context("spawn").Pool(producers) as pool:
        pool.apply(time.sleep, (0,))  # the workers are up before the clock starts
        cpu, wall = cpu_seconds(pid), time.perf_counter()
        pool.starmap(produce, [(bootstrap, topic, each, size)] * producers)
        return time.perf_counter() - wall, cpu_seconds(pid) - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--partitions", default="8,64")
    parser.add_argument("--producers", default="1,3")
    parser.add_argument("--megabytes", type=float, default=150)
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    parser.add_argument("--profile", metavar="PREFIX")
    args = parser.parse_args()
    count = int(args.megabytes * 1e6 / args.size)
    configurations = [
        (int(p), int(n)) for p in args.partitions.split(",") for n in args.producers.split(",")
    ]
    console = Console(width=160)
    figures: dict[tuple[int, int], dict[str, tuple[float, float, str]]] = {}
    for name in args.brokers.split(","):
        with broker(name) as running:
            running.start()
            produce(running.bootstrap, create_topic(running.bootstrap, 8), count // 10, args.size)
            for partitions, producers in configurations:
                spy = None
                if args.profile and name == "localbroker":
                    path = Path(f"{args.profile}-{partitions}p-{producers}x.txt")
                    spy = sample(running.pid, path)
                topic = create_topic(running.bootstrap, partitions)
                wall, cpu = run_once(
                    running.bootstrap, running.pid, topic, producers, count, args.size
                )
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(30)
                figures.setdefault((partitions, producers), {})[name] = (wall, cpu, machine_load())
                console.log(
                    f"{name} {partitions}p x{producers}: {count / wall:,.0f} rec/s,"
                    f" broker CPU {cpu:.2f} s of {wall:.2f} s; {machine_load()}"
                )
    table = Table(
        title=f"produce ceiling: {args.size} B records, acks=all, {args.megabytes:.0f} MB a run"
    )
    for column in (
        "partitions",
        "producers",
        "broker",
        "records/s",
        "MB/s",
        "broker cores",
        "records/s per core",
        "MB/s per core",
        "per core / Kafka",
        "load",
    ):
        table.add_column(column, justify="right")
    for (partitions, producers), by_broker in figures.items():
        reference = by_broker.get("kafka")
        for name, (wall, cpu, load) in by_broker.items():
            per_core = count / cpu
            table.add_row(
                str(partitions),
                str(producers),
                name,
                f"{count / wall:,.0f}",
                f"{count * args.size / 1e6 / wall:,.1f}",
                f"{cpu / wall:.2f}",
                f"{per_core:,.0f}",
                f"{count * args.size / 1e6 / cpu:,.1f}",
                ratio(per_core, count / reference[1]) if reference and name != "kafka" else "",
                load.removeprefix("load "),
            )
    console.print(table)


if __name__ == "__main__":
    main()
