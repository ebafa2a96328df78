"""Consumer-group timings with librdkafka: localbroker, Apache Kafka and Tansu in one run.

    python bench/groups.py [--members 8] [--session-timeout-ms 6000] [--commits 5000]
                           [--repeat 5] [--brokers localbroker,kafka,tansu]

- first record: a new group (one consumer, auto.offset.reset=earliest) subscribes to a topic
  that holds a record; time from creating the consumer to receiving that record (coordinator
  lookup, join, sync, offset fetch, list offsets, fetch), the median of `--repeat` new groups;
  and apart, the time of the broker's very first group (Kafka creates __consumer_offsets then).
- join: 8 consumers subscribe to one topic; time until every partition is assigned.
- recovery: one member is killed (SIGKILL, no LeaveGroup); time until the survivors own all
  partitions again (bounded below by the session timeout).
- commits: synchronous OffsetCommit round trips per second from one consumer.
Each consumer is its own process, so the clients don't share a GIL with each other. Ratios are
localbroker's to Apache Kafka's (both with group.initial.rebalance.delay.ms=0, as Kafka's
shipped single-node config has it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from peers import chosen, machine_load, ratio
from rich.console import Console
from rich.table import Table

TIMEOUT = 60.0
MEMBER_SCRIPT = r"""
import json, sys, time
from confluent_kafka import Consumer
bootstrap, group, topic, session = sys.argv[1:5]
def report(consumer, partitions):
    print(json.dumps(sorted(p.partition for p in partitions)), flush=True)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": session,
              "heartbeat.interval.ms": max(int(session) // 10, 100),
              "partition.assignment.strategy": "range", "enable.auto.commit": False})
c.subscribe([topic], on_assign=report, on_revoke=lambda c, p: print("[]", flush=True))
while True:
    c.poll(0.05)
"""


class Member:
    def __init__(self, bootstrap: str, group: str, topic: str, session_ms: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", MEMBER_SCRIPT, bootstrap, group, topic, str(session_ms)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        os.set_blocking(self.process.stdout.fileno(), False)  # type: ignore[union-attr]
        self.partitions: list[int] = []
        self.pending = ""

    def read(self) -> None:
        """The member's latest assignment; a non-blocking read may end inside a line, whose
        start waits in `pending` for the rest."""
        assert self.process.stdout is not None
        while chunk := self.process.stdout.readline():
            self.pending += chunk
            if self.pending.endswith("\n"):
                self.partitions = json.loads(self.pending)
                self.pending = ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def wait_until(members: list[Member], partitions: int) -> float:
    started = time.perf_counter()
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for member in members:
            member.read()
        owned = sorted(p for m in members for p in m.partitions)
        if owned == list(range(partitions)) and all(m.partitions for m in members):
            return time.perf_counter() - started
        time.sleep(0.005)
    raise TimeoutError("the group never covered every partition")


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(TIMEOUT)
    time.sleep(0.5)


def group_timings(bootstrap: str, members: int, session_ms: int) -> tuple[float, float]:
    topic, group = f"grp-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, members)
    with ExitStack() as stack:
        started = time.perf_counter()
        consumers = [Member(bootstrap, group, topic, session_ms) for _ in range(members)]
        for consumer in consumers:
            stack.callback(consumer.stop)
        wait_until(consumers, members)
        join = time.perf_counter() - started
        victim = consumers.pop()
        victim.stop(signal.SIGKILL)
        recovery = wait_until(consumers, members)
    return join, recovery


def first_record(bootstrap: str, repeat: int) -> tuple[float, float]:
    """Seconds for a new group to receive the first record of a topic: for the broker's first
    group ever (which may create __consumer_offsets), and the median of `repeat` more."""
    topic = f"first-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 1)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    producer.produce(topic, b"first")
    if producer.flush(TIMEOUT):
        raise TimeoutError("the record was never acknowledged")
    timings = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"first-{uuid.uuid4().hex[:8]}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        try:
            consumer.subscribe([topic])
            deadline = time.monotonic() + TIMEOUT
            while (message := consumer.poll(0.01)) is None or message.error():
                if time.monotonic() > deadline:
                    raise TimeoutError("the new group never received the record")
            timings.append(time.perf_counter() - started)
        finally:
            consumer.close()
    return timings[0], statistics.median(timings[1:])


def commit_rate(bootstrap: str, commits: int) -> float:
    topic = f"commit-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 1)
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"c-{topic}", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        started = time.perf_counter()
        for offset in range(commits):
            consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
        return commits / (time.perf_counter() - started)
    finally:
        consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--session-timeout-ms", type=int, default=6000)
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="new groups for the first record")
    parser.add_argument("--brokers", default="localbroker,kafka,tansu")
    args = parser.parse_args()
    columns = (
        "first group's record (s)",
        "first record (s)",
        "join all (s)",
        "recover after kill -9 (s)",
        "sync commits/s",
    )
    console = Console(width=180)
    rows: dict[str, tuple[float, ...]] = {}
    loads = [machine_load()]
    for name, start in chosen(args.brokers).items():
        with start() as bootstrap:
            try:
                # groups before the topic's first: a fresh Kafka creates __consumer_offsets
                fresh, first = first_record(bootstrap, args.repeat)
                join, recovery = group_timings(bootstrap, args.members, args.session_timeout_ms)
                rate = commit_rate(bootstrap, args.commits)
                rows[name] = (fresh, first, join, recovery, rate)
            except Exception as exc:  # a peer without groups support still prints a row
                console.log(f"{name} failed: {exc}")
        loads.append(machine_load())
        console.log(f"{name} done; {loads[-1]}")
    table = Table(
        title=f"librdkafka groups: {args.members} members, session timeout "
        f"{args.session_timeout_ms} ms, range assignor; {loads[0]} at the start, "
        f"{loads[-1]} at the end"
    )
    for column in ("broker", *columns, *(f"{c.split(' (')[0]} / Kafka" for c in columns)):
        table.add_column(column, justify="right")
    reference = rows.get("kafka")
    for name, (fresh, first, join, recovery, rate) in rows.items():
        ratios = (
            [ratio(mine, theirs) for mine, theirs in zip(rows[name], reference, strict=True)]
            if reference
            else []
        )
        table.add_row(
            name,
            f"{fresh:.3f}",
            f"{first:.3f}",
            f"{join:.2f}",
            f"{recovery:.2f}",
            f"{rate:,.0f}",
            *ratios,
        )
    console.print(table)
    console.print("times: lower is better; commits/s: higher is better")


if __name__ == "__main__":
    main()
