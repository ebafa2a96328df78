"""Consumer-group timings with librdkafka, localbroker against a peer in the same run.

    python bench/groups.py [--members 8] [--session-timeout-ms 6000] [--commits 5000]

- join: 8 consumers subscribe to one topic; time until every partition is assigned.
- recovery: one member is killed (SIGKILL, no LeaveGroup); time until the survivors own all
  partitions again (bounded below by the session timeout).
- commits: synchronous OffsetCommit round trips per second from one consumer.
Each consumer is its own process, so the clients don't share a GIL with each other.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from peers import localbroker, tansu
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

    def read(self) -> None:
        assert self.process.stdout is not None
        while line := self.process.stdout.readline():
            self.partitions = json.loads(line)

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
    args = parser.parse_args()
    brokers: dict[str, Callable[[], AbstractContextManager[str]]] = {
        "localbroker": localbroker,
        "tansu": tansu,
    }
    table = Table(
        title=f"librdkafka groups: {args.members} members, session timeout "
        f"{args.session_timeout_ms} ms, range assignor"
    )
    for column in ("broker", "join all (s)", "recover after kill -9 (s)", "sync commits/s"):
        table.add_column(column, justify="right")
    console = Console(width=120)
    rows = {}
    for name, start in brokers.items():
        with start() as bootstrap:
            try:
                join, recovery = group_timings(bootstrap, args.members, args.session_timeout_ms)
                rate = commit_rate(bootstrap, args.commits)
                rows[name] = (join, recovery, rate)
                table.add_row(name, f"{join:.2f}", f"{recovery:.2f}", f"{rate:,.0f}")
            except Exception as exc:  # a peer without groups support still prints a row
                table.add_row(name, "failed", "failed", str(exc)[:40])
            console.log(f"{name} done")
    console.print(table)
    if len(rows) == 2:
        local, peer = rows["localbroker"], rows["tansu"]
        console.print(
            f"ratios localbroker/tansu: join {local[0] / peer[0]:.2f}x (lower is "
            f"better), recovery {local[1] / peer[1]:.2f}x, commits "
            f"{local[2] / peer[2]:.2f}x (higher is better)"
        )


if __name__ == "__main__":
    main()
