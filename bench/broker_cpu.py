"""The CPU a broker spends per produce and consume, against the wall-clock time the client takes.

    python bench/broker_cpu.py [--size 100] [--partitions 8] [--megabytes 30] [--repeat 3]
                               [--brokers localbroker,kafka]

Runs throughput.py's produce (acks=all) and consume, and reads the broker process's user and
system time (every thread: a JVM's too) before and after each. A broker whose CPU seconds come
near the wall-clock seconds bounds the run; one far below them waits for the client.
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial
from pathlib import Path

from peers import machine_load
from startup import broker
from throughput import consume, create_topic, produce

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (fields 14 and 15 of /proc/PID/stat, after the command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--megabytes", type=float, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--brokers", default="localbroker,kafka")
    args = parser.parse_args()
    count = int(args.megabytes * 1e6 / args.size)
    for name in args.brokers.split(","):
        with broker(name) as running:
            running.start()
            for _ in range(args.repeat):
                topic = create_topic(running.bootstrap, args.partitions)
                figures = []
                for phase, run in (
                    ("produce", partial(produce, running.bootstrap, topic, count, args.size)),
                    ("consume", partial(consume, running.bootstrap, topic, args.partitions, count)),
                ):
                    cpu, wall = cpu_seconds(running.pid), time.perf_counter()
                    run()
                    cpu, wall = cpu_seconds(running.pid) - cpu, time.perf_counter() - wall
                    figures.append(f"{phase} {wall:.2f} s, broker CPU {cpu:.2f} s")
                print(
                    f"{name} {args.size} B x{args.partitions}: {'; '.join(figures)};",
                    machine_load(),
                )


if __name__ == "__main__":
    main()
