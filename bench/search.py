"""How fast a topic search scans, and how the keyboard feels while one runs.

    python bench/search.py [--records 2000000] [--partitions 3] [--compression none]

localbroker runs as its own process (as a cluster would) and holds `--records` JSON orders
of about 130 bytes, produced by confluent-kafka; one in 20,000 is FAILED. Then:

- records scanned a second by TopicSearch (tui/kafka/topic_search.py) for queries of each
  kind: a text (its batches ruled out by their bytes), a JSON field with a value, a key, a
  JSON comparison that reads every value, a regular expression; each the best of three runs;
- in the real app (WorkbenchApp, headless under Textual's Pilot, on the same broker), key
  latency while a search runs in the Search pane and while none does: from `pilot.press` to
  the first frame composed with the key's effect (a letter typed into the Topics pane's
  filter), and the event loop's lag (how late a 10 ms sleep wakes).

The goal is 200,000 records/s scanned; the search gives the loop back every half megabyte.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.peers import localbroker, percentile  # noqa: E402
from bench.tail import Frames, timed_press  # noqa: E402

TOPIC = "bench-search"
SIZE = (160, 48)
FAILED_EVERY = 20_000
QUERIES = {
    "text (batches ruled out by bytes)": "FAILED",
    "JSON field = value": "$.status=FAILED",
    "key": "key:order-1234567",
    "JSON comparison (every value read)": "$.total>1000",
    "regular expression (every record)": "/order-12345[0-9]{2}$/",
}
LATENCY_QUERY = "$.total>1000"
"""The search the keys are timed against: it reads every value, the longest and busiest."""


def payload(i: int) -> bytes:
    return json.dumps(
        {
            "order": 100_000 + i,
            "customer": f"c-{i % 997:04d}",
            "status": "FAILED" if i % FAILED_EVERY == 7 else "SHIPPED",
            "total": round(9.5 + (i % 70) * 1.25, 2),
            "express": i % 9 == 0,
        }
    ).encode()


def produce(bootstrap: str, records: int, partitions: int, compression: str) -> float:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(TOPIC, partitions, 1)])[TOPIC].result(60)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 1_000_000,
            "compression.type": compression,
        }
    )
    values = [payload(i) for i in range(FAILED_EVERY)]
    started = time.perf_counter()
    for i in range(records):
        while True:
            try:
                producer.produce(
                    TOPIC,
                    values[i % FAILED_EVERY],
                    key=f"order-{i}".encode(),
                    partition=i % partitions,
                    headers=[("source", b"bench")] if i % 4 == 0 else None,
                )
                break
            except BufferError:
                producer.poll(0.01)
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(300) == 0
    return time.perf_counter() - started


async def scan_rates(bootstrap: str) -> dict[str, tuple[float, int, int]]:
    """Query -> (records/s, matches, records decoded), the best of three runs."""
    from tui.kafka.connection import from_properties
    from tui.kafka.search_query import parse_query
    from tui.kafka.topic_search import SearchSpec, TopicSearch

    results = {}
    for name, query in QUERIES.items():
        best = None
        for _ in range(3):
            search = TopicSearch(
                from_properties(bootstrap, {}),
                SearchSpec(TOPIC, query=parse_query(query), limit=100_000),
            )
            started = time.perf_counter()
            progress = await search.run(lambda hits: None)
            rate = progress.scanned / (time.perf_counter() - started)
            if best is None or rate > best[0]:
                best = (rate, progress.matched, progress.decoded)
        assert best is not None
        results[name] = best
    return results


async def key_latency(bootstrap: str, presses: int) -> dict[str, Any]:
    from textual.widgets import Input
    from workbench_pilot import external_app, wait_connected, wait_until

    from tui.widgets.search_pane import SearchPane

    app = external_app(bootstrap)
    frames = Frames()
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        frames.watch(app)
        await wait_connected(pilot, app)
        search = app.query_one(SearchPane)
        await pilot.press("2", "slash")
        topic_filter = app.query_one("#topic-filter", Input)
        await wait_until(pilot, lambda: topic_filter.has_focus, "the topics filter")

        async def type_letters() -> tuple[list[float], list[float]]:
            typed: list[float] = []
            lags: list[float] = []
            stop = asyncio.Event()

            async def lag() -> None:
                while not stop.is_set():
                    before = time.perf_counter()
                    await asyncio.sleep(0.01)
                    lags.append(time.perf_counter() - before - 0.01)

            monitor = asyncio.create_task(lag())
            for i in range(presses):
                letter = "bench"[i % 5]
                expected = topic_filter.value + letter

                def shown(expected: str = expected) -> Callable[[], bool]:
                    return lambda: topic_filter.value == expected

                typed.append(await timed_press(pilot, frames, letter, shown()))
                if i % 5 == 4:
                    await pilot.press("ctrl+u")
                await asyncio.sleep(random.uniform(0.05, 0.15))
            stop.set()
            await monitor
            return typed, lags

        result["idle"] = await type_letters()
        search.controls.fill(TOPIC, LATENCY_QUERY)
        search.start_search()
        await pilot.press("2", "slash")  # back to the filter while the search runs
        await wait_until(pilot, lambda: topic_filter.has_focus, "the topics filter again")
        result["searching"] = await type_letters()
        running = search.search
        assert running is not None
        result["search_outcome"] = running.progress.outcome
        result["scanned_while_typing"] = running.progress.scanned
        await wait_until(pilot, lambda: running.progress.outcome is not None, "the search", 600)
        result["search_rate"] = running.progress.rate(time.monotonic())
    return result


def report(args: argparse.Namespace, seconds: float, rates: dict[str, Any], keys: Any) -> None:
    table = Table(title=f"Topic search: {args.records:,} records, {args.partitions} partitions")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row(
        "produced", f"{args.records / seconds:,.0f} rec/s", f"compression {args.compression}"
    )
    for name, (rate, matched, decoded) in rates.items():
        table.add_row(
            f"scan: {name}",
            f"{rate:,.0f} rec/s",
            f"{QUERIES[name]} · {matched:,} match{'es' if matched != 1 else ''}"
            f" · {decoded:,} records decoded",
        )
    for label, key in (("no search running", "idle"), ("a search running", "searching")):
        typed, lags = keys[key]
        typed_ms = [t * 1000 for t in typed]
        lags_ms = [lag * 1000 for lag in lags]
        table.add_row(
            f"key latency, {label}",
            f"{statistics.median(typed_ms):.0f} ms",
            f"median of {len(typed_ms)}; p99 {percentile(typed_ms, 0.99):.0f} ms, "
            f"max {max(typed_ms):.0f} ms; loop lag median {statistics.median(lags_ms):.1f} ms, "
            f"p99 {percentile(lags_ms, 0.99):.0f} ms",
        )
    still = "still running" if keys["search_outcome"] is None else keys["search_outcome"]
    table.add_row(
        "search in the app",
        f"{keys['search_rate']:,.0f} rec/s",
        f"{LATENCY_QUERY}: {keys['scanned_while_typing']:,} records scanned while the keys"
        f" were typed ({still} after the last)",
    )
    console = Console(width=150)
    console.print(table)
    console.print(
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · localbroker in its own"
        " process · app headless"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--compression", default="none", help="none, gzip, lz4, zstd, snappy")
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="kwb-bench-search-")
    os.environ["XDG_CONFIG_HOME"] = str(Path(home) / "config")  # no profiles of yours
    with localbroker() as bootstrap:
        seconds = produce(bootstrap, args.records, args.partitions, args.compression)
        rates = asyncio.run(scan_rates(bootstrap))
        keys = asyncio.run(key_latency(bootstrap, args.presses))
    report(args, seconds, rates, keys)


if __name__ == "__main__":
    main()
