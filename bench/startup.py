"""Start-up time of localbroker with about 1 GB of existing log, clean and after kill -9.

    python bench/startup.py [--gigabytes 1.0] [--partitions 8] [--repeat 3]

The log is written through the broker with librdkafka (1 KB records). Start-up is measured
from process launch to the `listening on` line, after a clean SIGTERM, after a kill -9 with
nothing unflushed, and after a kill -9 right behind a burst of writes (the recovery scan).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import subprocess
import tempfile
from pathlib import Path

from peers import START_TIMEOUT, free_port, localbroker_command, ready_line
from rich.console import Console
from rich.table import Table
from throughput import create_topic, produce

RECORD_SIZE = 1000


class Broker:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.process: subprocess.Popen[str] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> float:
        self.process = subprocess.Popen(
            localbroker_command(self.data_dir, self.port),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        return ready_line(self.process, START_TIMEOUT)

    def stop(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(START_TIMEOUT)


def log_bytes(data_dir: Path) -> int:
    return sum(path.stat().st_size for path in data_dir.glob("*/*.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=120)
    data_dir = Path(tempfile.mkdtemp(prefix="lb-startup-"))
    broker = Broker(data_dir, free_port())
    table = Table(title="localbroker start-up (process launch to `listening on`)")
    for column in ("case", "log on disk", "median s", "runs s"):
        table.add_column(column, justify="right")
    try:
        broker.start()
        topic = create_topic(broker.bootstrap, args.partitions)
        count = int(args.gigabytes * 1e9 / RECORD_SIZE)
        console.log(f"writing {count:,} records of {RECORD_SIZE} B ...")
        produce(broker.bootstrap, topic, count, RECORD_SIZE)
        broker.stop(signal.SIGTERM)
        size = f"{log_bytes(data_dir) / 1e9:.2f} GB"

        def measure(case: str, before_each: str) -> None:
            runs = []
            for _ in range(args.repeat):
                if before_each == "kill-idle":
                    broker.start()
                    broker.stop(signal.SIGKILL)
                elif before_each == "kill-after-writes":
                    broker.start()
                    produce(broker.bootstrap, topic, count // 10, RECORD_SIZE)
                    broker.stop(signal.SIGKILL)
                runs.append(broker.start())
                broker.stop(signal.SIGTERM)
            table.add_row(
                case,
                f"{log_bytes(data_dir) / 1e9:.2f} GB",
                f"{statistics.median(runs):.3f}",
                ", ".join(f"{r:.3f}" for r in runs),
            )

        del size
        measure("clean shutdown", "none")
        measure("kill -9, nothing unflushed", "kill-idle")
        measure("kill -9 after writing 10% more", "kill-after-writes")
        console.print(table)
    finally:
        if broker.process is not None and broker.process.poll() is None:
            broker.process.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
