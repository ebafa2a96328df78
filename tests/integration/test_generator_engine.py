"""The traffic generator's engine: librdkafka in a child process, against a real localbroker.

What the child sends is what the UI's Stats count (records, bytes, one latency each), a stop
reaches it and it answers what it sent before stopping, and it never outlives the process
that started it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from waiting import wait_until

from tui.kafka.admin import KafkaAdmin
from tui.kafka.connection import from_properties
from tui.kafka.partitioner import StickyPartitioner
from tui.kafka.perf.engine import start_engine
from tui.kafka.perf.producer import ProducerLoad, Stats
from tui.kafka.perf.worker import WorkerEngine

RUN_TIMEOUT_S = 60


async def create(bootstrap: str, topic: str, partitions: int = 1) -> None:
    async with KafkaAdmin(from_properties(bootstrap, {})) as admin:
        await admin.create_topic(topic, partitions, 1)


def high_watermark(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check", "log_level": 0})
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    finally:
        consumer.close()
    return int(high)


async def test_the_child_sends_the_load_and_the_stats_count_every_answer(broker) -> None:
    await create(broker.bootstrap, "counted")
    connection = from_properties(broker.bootstrap, {})
    engine, ignored = await start_engine(connection, {"acks": "1"}, process=True)
    assert isinstance(engine, WorkerEngine) and ignored == []
    stats = Stats(2500)
    try:
        await asyncio.wait_for(
            engine.run(ProducerLoad("counted", 2500, -1, 120), stats), RUN_TIMEOUT_S
        )
    finally:
        await engine.close()
    assert (stats.count, stats.bytes, stats.errors) == (2500, 2500 * 120, 0)
    assert sum(stats.latencies.values()) == 2500
    assert stats.done.is_set()
    assert high_watermark(broker.bootstrap, "counted") == 2500


async def test_a_stopped_child_answers_what_it_sent_and_exits(broker) -> None:
    await create(broker.bootstrap, "stopped")
    connection = from_properties(broker.bootstrap, {})
    engine, _ = await start_engine(connection, {}, process=True)
    assert isinstance(engine, WorkerEngine)
    stats, stop = Stats(None), asyncio.Event()
    run = asyncio.create_task(engine.run(ProducerLoad("stopped", None, -1, 100), stats, stop))
    try:
        for _ in range(RUN_TIMEOUT_S * 10):
            if stats.count >= 1000 or run.done():
                break
            await asyncio.sleep(0.1)
        assert stats.count >= 1000, stats.first_error
        stop.set()
        await asyncio.wait_for(run, RUN_TIMEOUT_S)
    finally:
        run.cancel()
        await engine.close()
    assert stats.errors == 0 and stats.expected == stats.count
    assert high_watermark(broker.bootstrap, "stopped") == stats.count
    assert engine._process is not None and engine._process.poll() is not None


PARENT = textwrap.dedent(
    """
    import asyncio, sys
    from tui.kafka.connection import from_properties
    from tui.kafka.perf.engine import start_engine
    from tui.kafka.perf.producer import ProducerLoad, Stats

    async def main():
        engine, _ = await start_engine(from_properties(sys.argv[1], {}), {}, process=True)
        print(engine._process.pid, flush=True)
        await engine.run(ProducerLoad("orphan", None, 1000, 100), Stats(None))

    asyncio.run(main())
    """
)


def test_the_child_exits_when_the_process_that_started_it_is_killed(broker) -> None:
    asyncio.run(create(broker.bootstrap, "orphan"))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, broker.bootstrap], stdout=subprocess.PIPE, text=True
    )
    child = None
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        wait_until(lambda: high_watermark(broker.bootstrap, "orphan") > 0, "records sent")
        parent.send_signal(signal.SIGKILL)
        parent.wait(RUN_TIMEOUT_S)
        wait_until(lambda: not alive(child), "the child gone with its parent")
    finally:
        parent.kill()
        parent.wait(RUN_TIMEOUT_S)
        if child is not None and alive(child):
            os.kill(child, signal.SIGKILL)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def partitions_of_keys(bootstrap: str, topic: str, partitions: int, count: int) -> set[tuple]:
    """(key, partition) of the first `count` records of `topic`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check", "log_level": 0})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    seen: list[tuple] = []

    def read() -> bool:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            seen.append((message.key(), message.partition()))
        return len(seen) >= count

    try:
        wait_until(read, f"{count} records of {topic}", RUN_TIMEOUT_S)
    finally:
        consumer.close()
    return set(seen)


async def test_keyed_records_go_where_the_java_client_puts_them(broker) -> None:
    """librdkafka's default partitioner hashes keys with CRC32; Kafka's uses murmur2."""
    await create(broker.bootstrap, "keyed", 3)
    connection = from_properties(broker.bootstrap, {})
    engine, _ = await start_engine(connection, {"acks": "1"}, process=True)
    load = ProducerLoad("keyed", 300, -1, 50, keys="round-robin", key_count=30)
    try:
        await asyncio.wait_for(engine.run(load, Stats(300)), RUN_TIMEOUT_S)
    finally:
        await engine.close()
    java = StickyPartitioner(1)
    placed = partitions_of_keys(broker.bootstrap, "keyed", 3, 300)
    assert placed == {(k, java(k, [0, 1, 2], [0, 1, 2])) for k, _ in placed}
    assert len(placed) == 30
