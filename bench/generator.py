"""The traffic generator's reachable rate inside the TUI against `kwb perf`, the same engine
run from the command line.

    python bench/generator.py [--repeat 3] [--sizes 100,1000] [--seconds 5]

For each record size, at unlimited rate, acks=all, no keys, random payloads (kafka-producer-
perf-test's), on a fresh localbroker each run:

- kwb perf: the CLI as a subprocess, against localbroker in its own process;
- TUI: the workbench app, headless, with the Generator pane shown and charting, and its
  broker embedded in the same process, as `kwb` runs it (one GIL for broker, UI and load);
- TUI, broker apart: the same app against localbroker in its own process, which separates
  what the UI costs from what sharing a process with the broker costs.

Each run sends about `--seconds` worth of records (sized from a first CLI run); the rate is
records acknowledged over the time from the first send to the last acknowledgement, as
ProducerPerformance counts it. Medians of `--repeat` runs, runs of each kind interleaved;
the ratios are to kwb perf's (these machines are noisy, ratios less so).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from peers import localbroker
from rich.console import Console
from rich.table import Table
from textual.pilot import Pilot

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties
from tui.kafka.generator import GeneratorSpec
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.workbench import Workbench

TOPIC = "bench"
TOTAL = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")
KINDS = ("kwb perf", "TUI", "TUI, broker apart")
TIMEOUT_S = 300.0


def kwb() -> str:
    return str(Path(sys.executable).with_name("kwb"))


async def create_topic(bootstrap: str) -> None:
    async with KafkaAdmin(from_properties(bootstrap, {})) as admin:
        await admin.create_topic(TOPIC, 1, 1)


def cli_rate(bootstrap: str, records: int, size: int) -> float:
    asyncio.run(create_topic(bootstrap))
    done = subprocess.run(
        [
            kwb(), "perf", "--topic", TOPIC, "--num-records", str(records),
            "--throughput", "-1", "--record-size", str(size), "--bootstrap-server", bootstrap,
        ],
        capture_output=True, text=True, timeout=TIMEOUT_S, check=True,
    )  # fmt: skip
    found = TOTAL.search(done.stdout.splitlines()[-1])
    assert found is not None, done.stdout
    return float(found.group(2))


def workbench_app(bootstrap: str, embedded: EmbeddedBroker | None) -> WorkbenchApp:
    """The workbench's app on `bootstrap`, as `kwb` makes it (for run_test)."""
    workbench = Workbench(
        Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE]),
        from_properties(bootstrap, {}),
        embedded,
    )
    return WorkbenchApp(workbench, watch_theme_files=False)


async def connected(app: WorkbenchApp, pilot: Pilot[None]) -> None:
    """Wait until the app has its admin client and a first snapshot of the cluster."""
    deadline = time.monotonic() + 30
    while app.admin is None or app.snapshot is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the app never connected")
        await pilot.pause(0.05)


async def tui_rate(
    bootstrap: str, embedded: EmbeddedBroker | None, records: int, size: int
) -> float:
    """Start a generator from the app, as the pane does, and let it send `records`."""
    app = workbench_app(bootstrap, embedded)
    async with app.run_test(size=(120, 36)) as pilot:
        await connected(app, pilot)
        assert app.admin is not None
        await app.admin.create_topic(TOPIC, 1, 1)
        await pilot.press("6")
        spec = GeneratorSpec(TOPIC, None, size, "random", "none")
        generator = await app.generators.start(app.workbench.connection, app.admin, spec)
        deadline = time.monotonic() + TIMEOUT_S
        while generator.stats.count < records:
            if time.monotonic() > deadline or not generator.running:
                raise TimeoutError(f"the generator stopped or stalled: {generator.error}")
            await asyncio.sleep(0.2)  # not pilot.pause: it wakes every widget each time
        await generator.stopped()
        return generator.totals.records_per_sec


@contextlib.contextmanager
def embedded_broker() -> Iterator[EmbeddedBroker]:
    with tempfile.TemporaryDirectory(prefix="kwb-bench-") as data:
        broker = EmbeddedBroker(Path(data), port=0).start()
        try:
            yield broker
        finally:
            broker.stop()


def run(kind: str, records: int, size: int) -> float:
    if kind == "TUI":
        with embedded_broker() as broker:
            return asyncio.run(tui_rate(broker.bootstrap, broker, records, size))
    with localbroker() as bootstrap:
        if kind == "kwb perf":
            return cli_rate(bootstrap, records, size)
        return asyncio.run(tui_rate(bootstrap, None, records, size))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="kwb-bench-home-")
    os.environ["XDG_CONFIG_HOME"] = str(Path(home) / "config")
    os.environ["XDG_DATA_HOME"] = str(Path(home) / "data")
    console = Console()
    table = Table(title=f"records/s at unlimited rate, median of {args.repeat} (acks=all)")
    table.add_column("record size", justify="right")
    table.add_column("records", justify="right")
    for kind in KINDS:
        table.add_column(kind, justify="right")
    for kind in KINDS[1:]:
        table.add_column(f"{kind} / kwb perf", justify="right")
    for size in (int(s) for s in args.sizes.split(",")):
        probe = 20_000
        records = max(int(run("kwb perf", probe, size) * args.seconds), probe)
        rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(args.repeat):
            for kind in KINDS:
                rates[kind].append(run(kind, records, size))
                console.log(f"{size} B {kind}: {rates[kind][-1]:,.0f} records/s")
        median = {kind: statistics.median(rates[kind]) for kind in KINDS}
        table.add_row(
            f"{size} B",
            f"{records:,}",
            *(f"{median[kind]:,.0f}" for kind in KINDS),
            *(f"{median[kind] / median[KINDS[0]]:.2f}" for kind in KINDS[1:]),
        )
    console.print(table)


if __name__ == "__main__":
    main()
