"""Scale: 10,000 partitions, 100 GB of log, and the Topics pane over 1,000 topics.

    python bench/scale.py [--topics 1000] [--partitions 10] [--gigabytes 100]
                          [--brokers localbroker,kafka] [--parts partitions,log,tui]
                          [--presses 20] [--traffic 2000]

- partitions: `--topics` topics of `--partitions` partitions each are created (CreateTopics,
  100 topics a request); then Metadata latency (every topic, and one topic: librdkafka's
  list_topics, median of 5), resident memory, start-up after a clean stop (to the first
  Metadata answer, as startup.py measures it) and the same figures again after it.
- log: one partition holding `--gigabytes` of log in segments of 1 GB (Kafka's default
  segment.bytes), written as sparse files: each segment is one valid record batch (CRC32C
  over all of it) whose single record's value is 1e9 zero bytes, left as a hole. The broker
  is stopped cleanly first and its recovery point checkpoint set to the new log end, so both
  brokers load the log as after a clean shutdown (neither reads a trusted segment's data at
  start-up; 100 GB of real records would load the same way, only with fuller indexes).
  Reported: start-up (median of 3), resident memory, and the log end offset ListOffsets
  answers (the log really is there).
- tui: the workbench (Textual's Pilot, headless) on localbroker with those topics: keypress
  to the first frame showing its effect in the Topics pane, for cursor moves and for letters
  typed into its filter (the table re-filtered), while another process produces `--traffic`
  records/s round-robin over every topic (so every row changes at each snapshot; 0 for
  none). The goal is under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from crc32c import crc32c
from peers import machine_load, percentile, ratio
from rich.console import Console
from startup import Broker, broker, resident_megabytes
from throughput import TIMEOUT, create_topic

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.tail import Frames, timed_press  # noqa: E402
from localbroker.log.checkpoints import (  # noqa: E402
    RECOVERY_POINT_FILE,
    read_checkpoint,
    write_checkpoint,
)
from localbroker.varints import zigzag  # noqa: E402
from tui.kafka.pacing import Pacer  # noqa: E402

SEGMENT_VALUE = 1_000_000_000
SIZE = (160, 48)


def create_topics(bootstrap: str, topics: int, partitions: int) -> float:
    """Seconds to create `topics` topics of `partitions` partitions, 100 a request."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [f"scale-{i:04d}" for i in range(topics)]
    started = time.perf_counter()
    for first in range(0, topics, 100):
        chunk = [NewTopic(name, partitions, 1) for name in names[first : first + 100]]
        for future in admin.create_topics(chunk, request_timeout=TIMEOUT).values():
            future.result(TIMEOUT)
    while len(admin.list_topics(timeout=TIMEOUT).topics) < topics:
        time.sleep(0.1)
    return time.perf_counter() - started


def metadata_ms(bootstrap: str) -> tuple[float, float]:
    """Median milliseconds of a Metadata request for every topic, and for one topic."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.list_topics(timeout=TIMEOUT)  # connected
    every, one = [], []
    for _ in range(5):
        started = time.perf_counter()
        admin.list_topics(timeout=TIMEOUT)
        every.append(time.perf_counter() - started)
        started = time.perf_counter()
        admin.list_topics("scale-0000", timeout=TIMEOUT)
        one.append(time.perf_counter() - started)
    return statistics.median(every) * 1e3, statistics.median(one) * 1e3


def many_partitions(name: str, topics: int, partitions: int, console: Console) -> dict[str, float]:
    with broker(name) as running:
        running.start()
        created = create_topics(running.bootstrap, topics, partitions)
        every, one = metadata_ms(running.bootstrap)
        rss = resident_megabytes(running.pid)
        running.stop()
        startup = running.start()
        every_after, one_after = metadata_ms(running.bootstrap)
        figures = {
            "create (s)": created,
            "Metadata, all topics (ms)": every,
            "Metadata, one topic (ms)": one,
            "RSS after creating (MB)": rss,
            "start-up (s)": startup,
            "RSS after start-up (MB)": resident_megabytes(running.pid),
            "Metadata, all topics, after restart (ms)": every_after,
            "Metadata, one topic, after restart (ms)": one_after,
        }
        console.log(f"{name}: {figures}; {machine_load()}")
        return figures


def sparse_batch_prefix(timestamp: int) -> tuple[bytes, int]:
    """The bytes before the hole of a one-record batch with a SEGMENT_VALUE-byte zero value
    (base offset 0, patched per segment), and the batch's full length."""
    body = b"\x00\x00\x00" + zigzag(-1) + zigzag(SEGMENT_VALUE)
    record_length = len(body) + SEGMENT_VALUE + 1  # + the headers count, 0
    after_crc = struct.pack(">hiqqqhii", 0, 0, timestamp, timestamp, -1, -1, -1, 1)
    records_prefix = zigzag(record_length) + body
    crc = crc32c(after_crc + records_prefix)
    zeros = bytes(64 << 20)
    left = SEGMENT_VALUE + 1
    while left:
        chunk = min(left, len(zeros))
        crc = crc32c(memoryview(zeros)[:chunk], crc)
        left -= chunk
    batch_length = 4 + 1 + 4 + len(after_crc) + len(records_prefix) + SEGMENT_VALUE + 1
    prefix = struct.pack(">qiibI", 0, batch_length, 0, 2, crc) + after_crc + records_prefix
    return prefix, 12 + batch_length


def write_sparse_log(partition_dir: Path, segments: int) -> None:
    """Replace the partition's files with `segments` one-batch sparse segments, empty
    indexes, and a recovery point at the new log end."""
    for stale in partition_dir.iterdir():
        if stale.suffix in (".log", ".index", ".timeindex", ".snapshot", ".txnindex"):
            stale.unlink()
    prefix, length = sparse_batch_prefix(int(time.time() * 1000))
    for offset in range(segments):
        stem = partition_dir / f"{offset:020d}"
        with open(stem.with_suffix(".log"), "wb") as file:
            file.write(struct.pack(">q", offset) + prefix[8:])
            file.truncate(length)
        stem.with_suffix(".index").touch()
        stem.with_suffix(".timeindex").touch()
    checkpoint = partition_dir.parent / RECOVERY_POINT_FILE
    topic, _, partition = partition_dir.name.rpartition("-")
    offsets = read_checkpoint(checkpoint, "")
    offsets[(topic, int(partition))] = segments
    write_checkpoint(checkpoint, offsets)


def large_log(name: str, gigabytes: float, console: Console) -> dict[str, float]:
    with broker(name) as running:
        running.start()
        topic = create_topic(running.bootstrap, 1)
        running.stop()
        temp = Path(tempfile.gettempdir())
        data_dirs = list(temp.glob(f"startup-{name}-*/**/{topic}-0"))
        if len(data_dirs) != 1:
            raise RuntimeError(f"no single partition directory for {topic}: {data_dirs}")
        segments = round(gigabytes * 1e9 / SEGMENT_VALUE)
        write_sparse_log(data_dirs[0], segments)
        runs = []
        for _ in range(3):
            runs.append(running.start())
            running.stop()
        running.start()
        figures = {
            "start-up (s)": statistics.median(runs),
            "RSS (MB)": resident_megabytes(running.pid),
            "log end offset": float(end_offset(running, topic)),
            "segments": float(segments),
        }
        console.log(f"{name}: {figures}; {machine_load()}")
        return figures


def end_offset(running: Broker, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": running.bootstrap, "group.id": "scale"})
    try:
        return int(consumer.get_watermark_offsets(TopicPartition(topic, 0), TIMEOUT)[1])
    finally:
        consumer.close()


def produce_everywhere(bootstrap: str, topics: int, rate: float, stop: Any) -> None:
    """`rate` records a second of 100 B, round-robin over every topic, until `stop` is set
    (in a process of its own: not sharing the app's interpreter lock)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    names = [f"scale-{i:04d}" for i in range(topics)]
    pacer, sent = Pacer(), 0
    while not stop.is_set():
        producer.produce(names[sent % topics], b"x" * 100)
        sent += 1
        producer.poll(0)
        ahead = pacer.due_in(sent, rate)
        if ahead > 0:
            time.sleep(ahead)
    producer.flush(TIMEOUT)


@contextlib.contextmanager
def traffic(bootstrap: str, topics: int, rate: float) -> Iterator[None]:
    """produce_everywhere in a child process while the block runs (nothing at rate 0)."""
    if rate <= 0:
        yield
        return
    stop = multiprocessing.Event()
    child = multiprocessing.Process(
        target=produce_everywhere, args=(bootstrap, topics, rate, stop), daemon=True
    )
    child.start()
    try:
        yield
    finally:
        stop.set()
        child.join(TIMEOUT)
        if child.is_alive():
            child.kill()


async def topics_pane_keys(bootstrap: str, topics: int, presses: int) -> dict[str, list[float]]:
    """Seconds from each key to the frame showing its effect: cursor moves, filter letters."""
    from textual.widgets import Input
    from workbench_pilot import external_app, wait_until

    from tui.widgets.list_table import ListTable

    app = external_app(bootstrap)
    frames = Frames()
    result: dict[str, list[float]] = {"cursor down": [], "filter letter": []}
    async with app.run_test(size=SIZE) as pilot:
        frames.watch(app)
        await pilot.press("2")
        table = app.query_one("#topic-list", ListTable)
        await wait_until(pilot, lambda: table.row_count >= topics, "every topic listed", 120)
        table.focus()
        await wait_until(pilot, lambda: table.has_focus, "the topic table focused")
        for _ in range(presses):
            below = table.cursor_row + 1

            def moved(below: int = below) -> bool:
                return table.cursor_row == below

            result["cursor down"].append(await timed_press(pilot, frames, "down", moved))
        await pilot.press("slash")
        topic_filter = app.query_one("#topic-filter", Input)
        await wait_until(pilot, lambda: topic_filter.has_focus, "the topics filter")
        for i in range(presses):
            digit = str(i % 10)

            typed = f"scale-0{digit}"
            shown = sum(typed in f"scale-{i:04d}" for i in range(topics))

            def narrowed(typed: str = typed, shown: int = shown) -> bool:
                return topic_filter.value == typed and table.row_count == shown

            await pilot.press(*"scale-0")
            await wait_until(pilot, lambda: table.row_count == topics, "every topic again")
            result["filter letter"].append(await timed_press(pilot, frames, digit, narrowed))
            await pilot.press("ctrl+u")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=10)
    parser.add_argument("--gigabytes", type=float, default=100)
    parser.add_argument("--brokers", default="localbroker,kafka")
    parser.add_argument("--parts", default="partitions,log,tui")
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument(
        "--traffic",
        type=float,
        default=2000,
        help="records/s produced round-robin over every topic during the tui part",
    )
    args = parser.parse_args()
    names = args.brokers.split(",")
    parts = args.parts.split(",")
    console = Console(width=160)
    tables: dict[str, dict[str, dict[str, float]]] = {}
    if "partitions" in parts:
        tables[f"{args.topics} topics x {args.partitions} partitions"] = {
            name: many_partitions(name, args.topics, args.partitions, console) for name in names
        }
    if "log" in parts:
        tables[f"{args.gigabytes:g} GB of log, 1 GB segments, sparse"] = {
            name: large_log(name, args.gigabytes, console) for name in names
        }
    for title, by_broker in tables.items():
        console.print(f"\n{title}")
        for measure in next(iter(by_broker.values())):
            cells = [f"{by_broker[name][measure]:>10,.2f}" for name in by_broker]
            against = ""
            if "kafka" in by_broker and "localbroker" in by_broker:
                against = ratio(by_broker["localbroker"][measure], by_broker["kafka"][measure])
            console.print(f"  {measure:42} {'  '.join(cells)}  localbroker/Kafka {against}")
        console.print(f"  ({', '.join(by_broker)}; {machine_load()})")
    if "tui" in parts:
        with broker("localbroker") as running:
            running.start()
            create_topics(running.bootstrap, args.topics, args.partitions)
            with traffic(running.bootstrap, args.topics, args.traffic):
                keys = asyncio.run(topics_pane_keys(running.bootstrap, args.topics, args.presses))
        for what, seconds in keys.items():
            console.print(
                f"Topics pane, {args.topics} topics, {args.traffic:g} records/s over all,"
                f" {what}: median"
                f" {statistics.median(seconds) * 1e3:.0f} ms, p90"
                f" {percentile(seconds, 0.9) * 1e3:.0f} ms, max {max(seconds) * 1e3:.0f} ms;"
                f" {machine_load()}"
            )


if __name__ == "__main__":
    main()
