"""How long `kwb` takes to show a live workbench, measured in a real terminal (tmux).

    python bench/launch.py [--repeat 5]

Four moments from the keystroke that starts `kwb`: the first frame (tab bar drawn), the
workbench's broker (a child process) accepting connections on its port, the workbench
connected to it (status line), and the Brokers pane filled (the controller row). Each run
uses a fresh home, so the broker starts on an empty data directory. Goals (issue 16): the
first frame under 1.5 s, the broker accepting within 2 s.

On a shared machine the wall times say more about the load than about kwb, so two more
columns give the CPU seconds each process had used by the first frame: kwb's, and its
broker's (idle once up, so what it took to start): on two free cores, the wall times
approach them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from broker_cpu import cpu_seconds
from brokers import listening
from peers import free_port
from terminal import Terminal, workbench_env

from tui.broker_process import RUNNING_FILE

MOMENTS = (
    ("first frame", "1 Brokers"),
    ("connected", "● connected"),
    ("brokers shown", "controller"),
)
ACCEPTING = "broker accepting"
KWB_CPU, BROKER_CPU = "kwb CPU at first frame", "broker CPU"
POLL_S = 0.005


def accepting_after(bootstrap: str, started: float, deadline_s: float = 30.0) -> float:
    """Seconds from `started` until `bootstrap` accepts a connection (polled every 5 ms)."""
    while not listening(bootstrap):
        if time.monotonic() - started > deadline_s:
            raise TimeoutError(f"nothing accepts connections at {bootstrap}")
        time.sleep(POLL_S)
    return time.monotonic() - started


def launch_once(kwb: str) -> dict[str, float]:
    port = free_port()
    command = [kwb, "--port", str(port)]
    with tempfile.TemporaryDirectory() as home, Terminal(command, workbench_env(home)) as term:
        started = time.monotonic()
        seen: dict[str, float] = {}
        watcher = threading.Thread(
            target=lambda: seen.__setitem__(
                ACCEPTING, accepting_after(f"127.0.0.1:{port}", started)
            )
        )
        watcher.start()
        for name, text in MOMENTS:
            term.wait_for(text, timeout=30)
            seen[name] = time.monotonic() - started
            if name == MOMENTS[0][0]:
                record = Path(home, "data", "kafka-workbench", "localbroker", RUNNING_FILE)
                running = json.loads(record.read_text())
                seen[KWB_CPU] = cpu_seconds(running["pid"])
                seen[BROKER_CPU] = cpu_seconds(running["broker_pid"])
        watcher.join(30)
        term.send("q")
        term.wait_exit(15)
        return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kwb", default=str(Path(sys.executable).with_name("kwb")))
    args = parser.parse_args()
    runs = [launch_once(args.kwb) for _ in range(args.repeat)]
    table = Table(title=f"kwb launch, median of {args.repeat} (seconds from start)")
    names = [MOMENTS[0][0], ACCEPTING, *(name for name, _ in MOMENTS[1:]), KWB_CPU, BROKER_CPU]
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(*(f"{statistics.median(run[name] for run in runs):.2f}" for name in names))
    Console().print(table)


if __name__ == "__main__":
    main()
