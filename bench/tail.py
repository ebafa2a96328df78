"""How the Tail pane keeps up with a fast topic: records/s shown, key latency, memory.

    python bench/tail.py [--rate 25000] [--records 1000000] [--presses 50] [--partitions 3]
                         [--format json|avro|protobuf]

The real app (WorkbenchApp, driven headless by Textual's Pilot at 160x48) tails a topic of
its embedded localbroker, which runs in the app's process as `kwb` runs it, while a
confluent-kafka producer in another process writes `--records` records at `--rate`
records/s. With `--format avro` or `protobuf` the values are ~1 KB orders (bench/
schema_decode.py's nested order) written by confluent-kafka's AvroSerializer or
ProtobufSerializer through the embedded broker's Schema Registry, each with its own id;
the app is given that registry as `kwb` gives it, so the pane decodes every record it draws
and every record a filter reads. Measured while the records flow:

- the rates: acknowledged by the broker to the producer, received by the pane (its ring),
  drawn (taken into the list at a redraw), and frames composed per second;
- key-press latency: from `pilot.press` to the first frame composed with the effect (the
  key goes through the driver's queue like a real one; headless, the frame is composed but
  not written to a terminal): the cursor keys k/j in the list, and typing in the filter,
  where every key refilters the 100,000 records held;
- resident memory (RSS, app and broker together) before the tail, then every 100,000
  records, and after all of them: bounded means flat once the ring is full.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.peers import percentile  # noqa: E402

SIZE = (160, 48)
TOPIC = "bench-tail"
TIMEOUT = 300.0
FILTER_WORDS = ("warehouse", "express", "order-99")


# -- the producer (its own process) ---------------------------------------------------------


def payloads(count: int = 1000) -> list[bytes]:
    """JSON orders of about 130 bytes, a tenth of them text, like a busy orders topic."""
    out = []
    for i in range(count):
        if i % 10 == 3:
            out.append(f"order {i} shipped to warehouse {i % 7} (standard)".encode())
            continue
        document = {
            "order": 100_000 + i,
            "customer": f"c-{i % 997:04d}",
            "items": [{"sku": f"A-{i % 31}", "qty": 1 + i % 5}],
            "total": round(9.5 + (i % 70) * 1.25, 2),
            "express": i % 9 == 0,
        }
        out.append(json.dumps(document).encode())
    return out


ID_MARK = b"order-#########"
"""The order id the serializer is given; each record gets its own number in its place, so no
two values are alike (the pane's decoded-value cache never spares it a decode)."""


def schema_payload(kind: str, registry: str) -> bytes:
    """A ~1 KB order (schema_decode.py's nested one, its id ID_MARK) as Confluent's serializer
    for `kind` writes it, the schema registered under `<TOPIC>-value`."""
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.serialization import MessageField, SerializationContext
    from schema_decode import AVSC, PROTO, SIZES, order

    client = SchemaRegistryClient({"url": registry})
    context = SerializationContext(TOPIC, MessageField.VALUE)
    value = {**order(*SIZES["~1 KB nested"]), "id": ID_MARK.decode()}
    value["placed_at"] = "2024-12-06T15:46:40.123Z"
    if kind == "avro":
        from confluent_kafka.schema_registry.avro import AvroSerializer

        return AvroSerializer(client, AVSC)({**value, "checksum": b"\xde\xad"}, context)
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from google.protobuf.json_format import ParseDict
    from google.protobuf.message_factory import GetMessageClass

    from localbroker.schema_registry.formats.protobuf import PROTOBUF

    message = GetMessageClass(PROTOBUF.parse(PROTO, {}).message([0]))  # type: ignore[attr-defined]
    serialize = ProtobufSerializer(message, client)
    return serialize(ParseDict({**value, "checksum": "3q2+7w=="}, message()), context)


def value_maker(kind: str, registry: str) -> Callable[[int], bytes]:
    """The value of record number `n`: the JSON payloads in turn, or a schema payload with
    `n` as its id."""
    if kind == "json":
        values = payloads()
        return lambda n: values[n % len(values)]
    template = schema_payload(kind, registry)
    assert template.count(ID_MARK) == 1
    return lambda n: template.replace(ID_MARK, b"order-%09d" % n)


def produce(
    bootstrap: str,
    topic: str,
    rate: float,
    count: int,
    partitions: int,
    value_of: Callable[[int], bytes],
) -> None:
    """Write `count` records (record n's value is `value_of(n)`) at `rate` per second (in
    steps of 2 ms), then print what was acknowledged and how long it took, as JSON."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 5,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 1_000_000,
        }
    )
    headers = [("source", b"bench")]
    started = time.perf_counter()
    sent = 0
    while sent < count:
        due = min(count, int((time.perf_counter() - started) * rate) + 1)
        while sent < due:
            try:
                producer.produce(
                    topic,
                    value_of(sent),
                    key=f"order-{sent}".encode(),
                    partition=sent % partitions,
                    headers=headers if sent % 4 == 0 else None,
                )
            except BufferError:
                producer.poll(0.005)
                continue
            sent += 1
        producer.poll(0)
        time.sleep(0.002)
    left = producer.flush(TIMEOUT)
    print(json.dumps({"sent": sent - left, "seconds": time.perf_counter() - started}))


# -- measuring the app ------------------------------------------------------------------------


def rss_mb() -> float:
    """This process's resident set size now (app and embedded broker)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Frames:
    """Frames the app composes; `wait_for` times the first one showing a condition."""

    times: list[float] = field(default_factory=list)
    waiting: list[tuple[Callable[[], bool], asyncio.Future[float]]] = field(default_factory=list)

    def composed(self) -> None:
        now = time.perf_counter()
        self.times.append(now)
        for condition, future in list(self.waiting):
            if not future.done() and condition():
                future.set_result(now)
                self.waiting.remove((condition, future))

    def watch(self, app: Any) -> None:
        """Count every frame `app` composes (its private `_display` wrapped)."""
        display = app._display

        def composed(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.composed()

        app._display = composed

    def first_showing(self, condition: Callable[[], bool]) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.append((condition, future))
        return future


@dataclass
class Sample:
    at: float
    received: int
    drawn: int
    shown_rate: float


async def timed_press(pilot: Any, frames: Frames, key: str, effect: Callable[[], bool]) -> float:
    """Seconds from pressing `key` to the first frame composed with `effect()` true."""
    started = time.perf_counter()
    shown = frames.first_showing(effect)
    await pilot.press(key)
    seen = await asyncio.wait_for(shown, 30)
    return seen - started


async def measure(args: argparse.Namespace, bootstrap: str, embedded: Any) -> dict[str, Any]:
    from textual.widgets import Input
    from workbench_pilot import wait_connected, wait_until, workbench_app

    from tui.app import WorkbenchApp
    from tui.widgets.record_log import RecordLog
    from tui.widgets.tail_pane import TailPane

    app = workbench_app(embedded)
    if args.format != "json":  # the registry, as kwb gives its embedded broker's to the app
        from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
        from tui.workbench import Workbench

        profile = Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])
        app = WorkbenchApp(Workbench.local(profile, embedded), watch_theme_files=False)
    gc.freeze()  # as kwb does before it runs the app (tui/launch.py)
    frames = Frames()
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        frames.watch(app)
        await wait_connected(pilot, app)
        await pilot.press("3")
        pane = app.query_one(TailPane)
        log = pane.query_one(RecordLog)
        await wait_until(pilot, lambda: app.focused is not None, "focus in the tail pane")
        await pilot.press(*TOPIC, "enter")
        await wait_until(
            pilot, lambda: pane.session is not None and bool(pane.session.offsets), "the tail"
        )
        result["rss_before"] = rss_mb()

        samples: list[Sample] = []
        memory: list[tuple[int, float]] = []
        stop_sampling = asyncio.Event()

        async def sample() -> None:
            next_mark = 100_000
            while not stop_sampling.is_set():
                received = pane.ring.total
                samples.append(
                    Sample(time.perf_counter(), received, pane.drawn_total, pane.rate.rate)
                )
                if received >= next_mark:
                    memory.append((received, rss_mb()))
                    next_mark += 100_000
                await asyncio.sleep(0.25)

        command = [sys.executable, __file__, "--produce", bootstrap, "--rate", str(args.rate)]
        command += ["--records", str(args.records), "--partitions", str(args.partitions)]
        command += ["--format", args.format, "--registry", str(embedded.schema_registry_url)]
        producer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        result["produce_started"] = time.perf_counter()
        lags: list[tuple[float, float]] = []

        async def loop_lag() -> None:
            while not stop_sampling.is_set():
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append((before, time.perf_counter() - before - 0.01))

        sampler = asyncio.create_task(sample())
        lag_monitor = asyncio.create_task(loop_lag())
        try:
            await wait_until(
                pilot,
                lambda: pane.ring.total >= min(pane.ring.capacity, args.records // 2),
                "a full ring",
                timeout=TIMEOUT,
            )
            cursor: list[float] = []
            for i in range(args.presses):
                moved = asyncio.Event()
                key = "k" if i % 2 == 0 else "j"
                action = log.action_cursor_up if key == "k" else log.action_cursor_down

                def run(action: Callable[[], None] = action, moved: asyncio.Event = moved) -> None:
                    action()
                    moved.set()

                setattr(log, f"action_cursor_{'up' if key == 'k' else 'down'}", run)
                cursor.append(await timed_press(pilot, frames, key, moved.is_set))
                await asyncio.sleep(random.uniform(0.05, 0.15))
            for name in ("action_cursor_up", "action_cursor_down"):
                log.__dict__.pop(name, None)
            result["cursor"] = cursor
            result["cursor_during"] = pane.rate.rate

            result["filter_from"] = time.perf_counter()
            await pilot.press("G", "slash")
            field_ = pane.query_one("#tail-filter", Input)
            typing: list[float] = []
            for word in FILTER_WORDS:
                for char in word:
                    expected = field_.value + char

                    def typed(expected: str = expected) -> bool:
                        return field_.value == expected

                    typing.append(await timed_press(pilot, frames, char, typed))
                    await asyncio.sleep(random.uniform(0.05, 0.15))
                await pilot.press("ctrl+u")
            await pilot.press("escape")
            result["typing"] = typing

            out, _ = await asyncio.to_thread(producer.communicate, timeout=TIMEOUT)
            result["produced"] = json.loads(out)
            await wait_until(
                pilot,
                lambda: pane.ring.total >= args.records,
                f"{args.records:,} records in the pane",
                timeout=TIMEOUT,
            )
            await pilot.pause(0.5)
        finally:
            stop_sampling.set()
            await sampler
            await lag_monitor
            if producer.poll() is None:
                producer.kill()
                producer.wait(10)
        result["samples"] = samples
        result["lags"] = lags
        result["memory"] = memory
        result["rss_after"] = rss_mb()
        result["frames"] = frames.times
        result["held"] = len(pane.ring)
        result["capacity"] = pane.ring.capacity
        result["received"] = pane.ring.total
    return result


# -- the run and the table ------------------------------------------------------------------


def create_topic(bootstrap: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, partitions, 1)])[TOPIC].result(60)
    deadline = time.monotonic() + 60
    while len(admin.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions) < partitions:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{TOPIC} never showed {partitions} partitions")
        time.sleep(0.1)


def rates(
    samples: list[Sample], what: Callable[[Sample], int], since: float, until: float
) -> list[float]:
    """Per-second rates between consecutive samples taken in [since, until]."""
    inside = [s for s in samples if since <= s.at <= until]
    return [
        (what(b) - what(a)) / (b.at - a.at) for a, b in itertools.pairwise(inside) if b.at > a.at
    ]


def report_table(args: argparse.Namespace, result: dict[str, Any]) -> None:
    samples: list[Sample] = result["samples"]
    produced = result["produced"]
    first = next(s for s in samples if s.received > 0)
    last_new = next(s for s in samples if s.received == samples[-1].received)
    span = max(last_new.at - first.at, 1e-9)
    received_avg = (last_new.received - first.received) / span
    drawn_last = next(s for s in samples if s.drawn == samples[-1].drawn)
    drawn_avg = (drawn_last.drawn - first.drawn) / max(drawn_last.at - first.at, 1e-9)
    received_each = rates(samples, lambda s: s.received, first.at, last_new.at)
    frames = [t for t in result["frames"] if first.at <= t <= last_new.at]
    shown = [s.shown_rate for s in samples if first.at <= s.at <= last_new.at and s.shown_rate]

    table = Table(
        title=f"Tail pane under load: {args.records:,} {args.format} records at {args.rate:,.0f}/s"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "produced (acked)",
        f"{produced['sent'] / produced['seconds']:,.0f} rec/s",
        f"{produced['sent']:,} records in {produced['seconds']:.1f} s, confluent-kafka",
    )
    table.add_row(
        "received by the pane",
        f"{received_avg:,.0f} rec/s",
        f"mean; per 0.25 s: median {statistics.median(received_each):,.0f}, "
        f"min {min(received_each):,.0f}",
    )
    # Only when the filter was typed while records still arrived: otherwise this span is the
    # whole run and the row would repeat "received by the pane".
    unfiltered = [s for s in samples if first.at <= s.at <= result["filter_from"]]
    if result["filter_from"] < last_new.at and len(unfiltered) > 1:
        a, b = unfiltered[0], unfiltered[-1]
        table.add_row(
            "received, no filter yet",
            f"{(b.received - a.received) / (b.at - a.at):,.0f} rec/s",
            "mean until the filter is typed (only the rows drawn are decoded)",
        )
    table.add_row(
        "drawn into the list", f"{drawn_avg:,.0f} rec/s", "taken in at each redraw (12/s)"
    )
    table.add_row(
        "frames composed", f"{len(frames) / span:.1f} /s", "whole-screen updates while tailing"
    )
    table.add_row(
        "rate the pane shows",
        f"{statistics.median(shown):,.0f} rec/s",
        "median of its own rec/s figure while records flowed",
    )
    table.add_row(
        "all records in the pane",
        f"{last_new.at - result['produce_started']:.1f} s",
        f"after the producer started (it took {produced['seconds']:.1f} s)",
    )
    for name, key in (("cursor key (k/j)", "cursor"), ("typing in the filter", "typing")):
        values = [v * 1000 for v in result[key]]
        table.add_row(
            f"{name} latency",
            f"{statistics.median(values):.0f} ms",
            f"median of {len(values)}; p99 {percentile(values, 0.99):.0f} ms, "
            f"max {max(values):.0f} ms",
        )
    lags = [lag * 1000 for at, lag in result["lags"] if first.at <= at <= last_new.at]
    table.add_row(
        "event-loop lag",
        f"{statistics.median(lags):.1f} ms",
        f"a 10 ms sleep overshoots by this; p99 {percentile(lags, 0.99):.0f} ms, "
        f"max {max(lags):.0f} ms",
    )
    table.add_row("RSS before the tail", f"{result['rss_before']:.0f} MB", "app + embedded broker")
    for received, rss in result["memory"]:
        table.add_row(f"RSS at {received // 1000:,}k received", f"{rss:.0f} MB", "")
    table.add_row(
        f"RSS after {result['received']:,} records",
        f"{result['rss_after']:.0f} MB",
        f"ring holds {result['held']:,} of {result['capacity']:,}",
    )
    Console().print(table)
    if args.verbose:
        for key in ("cursor", "typing"):
            print(key, " ".join(f"{v * 1000:.0f}" for v in result[key]))
    Console().print(
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · "
        f"{args.partitions} partitions · terminal {SIZE[0]}x{SIZE[1]} (headless)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=25_000, help="records/s to produce")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--presses", type=int, default=50, help="cursor key presses")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="every latency, in ms")
    parser.add_argument("--format", choices=("json", "avro", "protobuf"), default="json")
    parser.add_argument("--produce", metavar="BOOTSTRAP", help=argparse.SUPPRESS)
    parser.add_argument("--registry", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.produce:
        value_of = value_maker(args.format, args.registry)
        produce(args.produce, TOPIC, args.rate, args.records, args.partitions, value_of)
        return

    sys.path.insert(0, str(ROOT / "tests"))
    with tempfile.TemporaryDirectory(prefix="kwb-bench-tail-") as home:
        os.environ["XDG_CONFIG_HOME"] = str(Path(home) / "config")
        os.environ["XDG_DATA_HOME"] = str(Path(home) / "data")
        from tui.embedded import EmbeddedBroker

        registry = None if args.format == "json" else 0
        embedded = EmbeddedBroker(Path(home) / "broker", port=0, schema_registry_port=registry)
        embedded.start()
        try:
            create_topic(embedded.bootstrap, args.partitions)
            result = asyncio.run(measure(args, embedded.bootstrap, embedded))
        finally:
            embedded.stop()
    report_table(args, result)


if __name__ == "__main__":
    main()
