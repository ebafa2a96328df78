"""How long `kwb` takes to show a live workbench, measured in a real terminal (tmux).

    python bench/launch.py [--repeat 5]

Three moments from the keystroke that starts `kwb`: the first frame (tab bar drawn), the
embedded broker connected (status line), and the Brokers pane filled (the controller row).
Each run uses a fresh home, so the embedded broker starts on an empty data directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from terminal import Terminal, workbench_env

MOMENTS = (
    ("first frame", "1 Brokers"),
    ("connected", "● connected"),
    ("brokers shown", "controller"),
)


def launch_once(kwb: str) -> list[float]:
    with tempfile.TemporaryDirectory() as home, Terminal([kwb], workbench_env(home)) as term:
        started = time.monotonic()
        seen = []
        for _, text in MOMENTS:
            term.wait_for(text, timeout=30)
            seen.append(time.monotonic() - started)
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
    for name, _ in MOMENTS:
        table.add_column(name, justify="right")
    table.add_row(
        *(f"{statistics.median(run[i] for run in runs):.2f}" for i in range(len(MOMENTS)))
    )
    Console().print(table)


if __name__ == "__main__":
    main()
