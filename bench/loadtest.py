"""kwb's load tools against Kafka's own: `kwb perf` and the TUI's traffic generator against
ProducerPerformance (kafka-producer-perf-test), `kwb consumer-perf` against ConsumerPerformance,
on the same broker, and the TUI's keypress latency while its generator runs at full rate.

    python bench/loadtest.py [--repeat 1] [--sizes 100,1000] [--acks 1,all] [--scale 1.0]
                             [--brokers localbroker] [--aiokafka] [--consumers-only]
                             [--profile PREFIX]

For each record size and acks, on one broker (in its own process), at unlimited rate, one
partition, a fresh topic per run, runs interleaved:

- Kafka's ProducerPerformance, the Java tool from the reference Apache Kafka (tests/
  reference_kafka.py), run as kafka-producer-perf-test.sh runs it (-Xmx512M);
- `kwb perf` with the same flags (its default engine: librdkafka when installed); with
  `--aiokafka`, also `kwb perf` on its aiokafka fallback;
- the TUI: the workbench app, headless (Pilot), Generator pane shown and charting, a generator
  started as the pane starts it, until it has sent as many records; meanwhile a key is pressed
  every 200 ms (tab / shift+tab, moving the focus through the pane's form) and the time from
  the key to the first frame the app composes with the focus moved is its keypress latency
  (as bench/tail.py measures keys; Pilot.press's own return waits for the whole process to
  look idle, which an app drawing charts beside a broker never does, so timing it measured
  Textual's idle heuristic, about 100 ms even with nothing running);
- ConsumerPerformance and `kwb consumer-perf` (librdkafka when installed; with `--aiokafka`
  also on aiokafka) reading those records back in a fresh group; `--consumers-only` runs
  only ProducerPerformance, to write them, and the consumers.

Records per run: RECORDS by size, times `--scale`.
Rates are records/s as each tool prints them (from its first send to its last
acknowledgement); medians of `--repeat` runs, with ratios to Kafka's tool and the load
average beside them. `--profile PREFIX` samples `kwb perf` and the TUI with py-spy
(PREFIX-<tool>-<size>B-acks<acks>.txt, collapsed stacks; read them with hot_frames.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator import connected, workbench_app
from peers import chosen, machine_load, percentile, py_spy, ratio
from rich.console import Console
from rich.table import Table
from tail import Frames, timed_press
from textual.pilot import Pilot

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from reference_kafka import kafka_classpath, tools_log4j

from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties
from tui.kafka.generator import GeneratorSpec

TOTAL = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")
TIMEOUT_S = 600.0
PRESS_EVERY_S = 0.2
BUSY_PRESSES = 20
"""Keys pressed at least while a generator runs (it runs on past its records if need be)."""
PERF_HEAP = "-Xmx512M"
"""kafka-producer-perf-test.sh's and kafka-consumer-perf-test.sh's KAFKA_HEAP_OPTS."""
RECORDS = {100: 1_000_000, 1000: 300_000}
"""Records per run: enough for the JVM's compilers to be done early (ProducerPerformance
takes a second or two to reach its pace), a few seconds at Kafka's tool's rate here."""
PRODUCERS = ("ProducerPerformance", "kwb perf", "kwb perf (aiokafka)", "TUI generator")
CONSUMERS = ("ConsumerPerformance", "kwb consumer-perf", "kwb consumer-perf (aiokafka)")


@dataclass
class Figures:
    """Records/s per tool over the runs of one configuration, and the TUI's key latencies."""

    rates: dict[str, list[float]] = field(default_factory=dict)
    keys_ms: list[float] = field(default_factory=list)
    idle_keys_ms: list[float] = field(default_factory=list)

    def add(self, tool: str, rate: float) -> None:
        self.rates.setdefault(tool, []).append(rate)

    def median(self, tool: str) -> float:
        return statistics.median(self.rates[tool]) if tool in self.rates else 0.0


def kwb() -> str:
    return str(Path(sys.executable).with_name("kwb"))


def java_tool(main: str, args: list[str]) -> str:
    """One of Kafka's tools with its script's heap and the JIT it normally has; its stdout."""
    command = [
        "java",
        PERF_HEAP,
        f"-Dlog4j2.configurationFile={tools_log4j()}",
        "-cp",
        kafka_classpath(),
        f"org.apache.kafka.tools.{main}",
        *args,
    ]
    return run(command)


def run(command: list[str], env: dict[str, str] | None = None, profile: Path | None = None) -> str:
    if profile is not None:
        spy = [py_spy(), "record", "--subprocesses", "--format", "raw", "-o", str(profile)]
        command = [*spy, "--", *command]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def create_topic(bootstrap: str) -> str:
    async def create() -> str:
        topic = f"load-{uuid.uuid4().hex[:8]}"
        async with KafkaAdmin(from_properties(bootstrap, {})) as admin:
            await admin.create_topic(topic, 1, 1)
        return topic

    return asyncio.run(create())


def perf_args(topic: str, records: int, size: int, acks: str, bootstrap: str) -> list[str]:
    return [
        "--topic", topic, "--num-records", str(records), "--record-size", str(size),
        "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}", f"acks={acks}",
    ]  # fmt: skip


def total_rate(output: str) -> float:
    """The summary line's records/s: the last line that reads like one (py-spy, profiling,
    writes lines of its own after it)."""
    found = TOTAL.findall(output)
    assert found, output
    return float(found[-1][1])


def producer_performance(bootstrap: str, topic: str, records: int, size: int, acks: str) -> float:
    args = perf_args(topic, records, size, acks, bootstrap)
    return total_rate(java_tool("ProducerPerformance", args))


def kwb_perf(
    bootstrap: str,
    topic: str,
    records: int,
    size: int,
    acks: str,
    engine: str | None = None,
    profile: Path | None = None,
) -> float:
    env = {**os.environ, "KWB_PRODUCER_ENGINE": engine} if engine else None
    command = [kwb(), "perf", *perf_args(topic, records, size, acks, bootstrap)]
    return total_rate(run(command, env, profile))


def consumer_rate(output: str) -> float:
    """nMsg.sec of ConsumerPerformance's totals line (the sixth field)."""
    return float(output.strip().splitlines()[-1].split(", ")[5])


def consumer_performance(bootstrap: str, topic: str, records: int) -> float:
    args = ["--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(records)]
    return consumer_rate(java_tool("ConsumerPerformance", args))


def kwb_consumer_perf(bootstrap: str, topic: str, records: int, engine: str | None = None) -> float:
    args = ["--bootstrap-server", bootstrap, "--topic", topic, "--messages", str(records)]
    env = {**os.environ, "KWB_PRODUCER_ENGINE": engine} if engine else None
    return consumer_rate(run([kwb(), "consumer-perf", *args], env))


async def press(pilot: Pilot[None], frames: Frames, keys_ms: list[float]) -> None:
    """Press tab or shift+tab, by turns, and add the time until a frame shows the focus moved."""
    app = pilot.app
    before = app.focused
    key = ("tab", "shift+tab")[len(keys_ms) % 2]
    seconds = await timed_press(pilot, frames, key, lambda: app.focused is not before)
    keys_ms.append(seconds * 1000)
    await asyncio.sleep(PRESS_EVERY_S)  # not pilot.pause: it wakes every widget


async def tui_generator(
    bootstrap: str, topic: str, records: int, size: int, acks: str, figures: Figures
) -> float:
    """The app, headless, with the Generator pane shown: a generator started as the pane
    starts it sends `records` (and on, until BUSY_PRESSES keys were pressed); a key is pressed
    every PRESS_EVERY_S meanwhile, and 10 times before it starts, for the app's latency idle."""
    app = workbench_app(bootstrap, None)
    frames = Frames()
    async with app.run_test(size=(120, 36)) as pilot:
        frames.watch(app)
        await connected(app, pilot)
        await pilot.press("6")
        for _ in range(10):
            await press(pilot, frames, figures.idle_keys_ms)
        spec = GeneratorSpec(topic, None, size, "random", "none", acks=acks)
        busy = len(figures.keys_ms)
        generator = await app.generators.start(app.workbench.connection, app.admin, spec)
        deadline = time.monotonic() + TIMEOUT_S
        while generator.stats.count < records or len(figures.keys_ms) < busy + BUSY_PRESSES:
            if time.monotonic() > deadline or not generator.running:
                raise TimeoutError(f"the generator stopped or stalled: {generator.error}")
            await press(pilot, frames, figures.keys_ms)
        await generator.stopped()
        return generator.totals.records_per_sec


def tui_process(bootstrap: str, topic: str, records: int, size: int, acks: str) -> None:
    """The TUI run in a process of its own (for py-spy): `python loadtest.py --tui ...`."""
    asyncio.run(tui_generator(bootstrap, topic, records, size, acks, Figures()))


def measure(
    bootstrap: str,
    size: int,
    acks: str,
    records: int,
    figures: Figures,
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> None:
    """One round: each producer tool into a topic of its own (ProducerPerformance alone with
    `--consumers-only`), then the consumers read the records ProducerPerformance wrote."""
    reference_topic = create_topic(bootstrap)
    figures.add(
        "ProducerPerformance",
        producer_performance(bootstrap, reference_topic, records, size, acks),
    )
    if not args.consumers_only:
        producers(bootstrap, (size, acks, records), figures, args)
    figures.add("ConsumerPerformance", consumer_performance(bootstrap, reference_topic, records))
    figures.add("kwb consumer-perf", kwb_consumer_perf(bootstrap, reference_topic, records))
    if args.aiokafka:
        figures.add(
            "kwb consumer-perf (aiokafka)",
            kwb_consumer_perf(bootstrap, reference_topic, records, "aiokafka"),
        )
    log(
        f"{size}B-acks{acks}: "
        + ", ".join(f"{tool} {rates[-1]:,.0f}" for tool, rates in figures.rates.items())
        + f"; {machine_load()}"
    )


def producers(
    bootstrap: str, run: tuple[int, str, int], figures: Figures, args: argparse.Namespace
) -> None:
    """kwb perf (on each engine asked for) and the TUI's generator, each into a new topic;
    `run` is the record size, acks and record count."""
    size, acks, records = run
    tag = f"{size}B-acks{acks}"
    profile = (lambda tool: Path(f"{args.profile}-{tool}-{tag}.txt")) if args.profile else None
    figures.add(
        "kwb perf",
        kwb_perf(
            bootstrap, create_topic(bootstrap), records, size, acks, None,
            profile("kwb-perf") if profile else None,
        ),
    )  # fmt: skip
    if args.aiokafka:
        figures.add(
            "kwb perf (aiokafka)",
            kwb_perf(bootstrap, create_topic(bootstrap), records, size, acks, "aiokafka"),
        )
    topic = create_topic(bootstrap)
    if profile:
        command = [sys.executable, __file__, "--tui", bootstrap, topic, str(records), str(size)]
        run([*command, acks], profile=profile("tui"))
    else:
        rate = asyncio.run(tui_generator(bootstrap, topic, records, size, acks, figures))
        figures.add("TUI generator", rate)


def report(console: Console, results: dict[tuple[str, int, str], Figures], loads: str) -> None:
    table = Table(title=f"records/s, unlimited rate, 1 partition, median of runs; {loads}")
    for column in ("broker", "size", "acks", *PRODUCERS, "kwb perf /", "TUI /"):
        table.add_column(column, justify="right")
    table.add_column("keys idle p50", justify="right")
    table.add_column("keys busy p50/p99/max ms", justify="right")
    consumers = Table(title="consumer: nMsg.sec, median of runs (rebalance time included)")
    for column in ("broker", "size", "acks", *CONSUMERS, "kwb /"):
        consumers.add_column(column, justify="right")
    for (broker, size, acks), figures in results.items():
        reference = figures.median("ProducerPerformance")
        keys = figures.keys_ms
        table.add_row(
            broker,
            f"{size} B",
            acks,
            *(f"{figures.median(tool):,.0f}" for tool in PRODUCERS),
            ratio(figures.median("kwb perf"), reference),
            ratio(figures.median("TUI generator"), reference),
            f"{percentile(figures.idle_keys_ms, 0.5):.0f}",
            "/".join(
                f"{q:.0f}"
                for q in (percentile(keys, 0.5), percentile(keys, 0.99), max(keys, default=0))
            ),
        )
        consumers.add_row(
            broker,
            f"{size} B",
            acks,
            *(f"{figures.median(tool):,.0f}" for tool in CONSUMERS),
            ratio(figures.median(CONSUMERS[1]), figures.median(CONSUMERS[0])),
        )
    console.print(table)
    console.print(consumers)


def main() -> None:
    if sys.argv[1:2] == ["--tui"]:
        bootstrap, topic, records, size, acks = sys.argv[2:7]
        tui_process(bootstrap, topic, int(records), int(size), acks)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--acks", default="1,all")
    parser.add_argument("--scale", type=float, default=1.0, help="times RECORDS per run")
    parser.add_argument("--brokers", default="localbroker")
    parser.add_argument("--aiokafka", action="store_true", help="also kwb perf on aiokafka")
    parser.add_argument(
        "--consumers-only",
        action="store_true",
        help="only ProducerPerformance (to write the records) and the consumers",
    )
    parser.add_argument("--profile", metavar="PREFIX", help="py-spy kwb perf and the TUI")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="kwb-bench-home-")
    os.environ["XDG_CONFIG_HOME"] = str(Path(home) / "config")
    os.environ["XDG_DATA_HOME"] = str(Path(home) / "data")
    console = Console(width=180)
    results: dict[tuple[str, int, str], Figures] = {}
    start_load = machine_load()
    for broker, start in chosen(args.brokers).items():
        for size in (int(s) for s in args.sizes.split(",")):
            for acks in args.acks.split(","):
                with start() as bootstrap:  # a fresh broker per configuration
                    records = int(RECORDS[size] * args.scale) if size in RECORDS else 0
                    records = records or int(args.scale * 100_000_000 / size)
                    figures = results.setdefault((broker, size, acks), Figures())
                    for _ in range(args.repeat):
                        measure(bootstrap, size, acks, records, figures, args, console.log)
    report(console, results, f"{start_load} at the start, {machine_load()} at the end")


if __name__ == "__main__":
    main()
