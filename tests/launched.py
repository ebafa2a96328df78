"""`localbroker --cluster 3` started as a process by tests: its nodes' addresses and pids,
and what the nodes agree on, asked over the wire as clients ask.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kio.schema.errors import ErrorCode
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import ApiKey

SESSION_MS = 3000
OVERRIDES = {"broker.session.timeout.ms": SESSION_MS, "broker.heartbeat.interval.ms": 300}


class Launched:
    """A launcher process and what it printed: each node's client address and pid."""

    def __init__(self, data_dir: Path, output: Path) -> None:
        command = [sys.executable, "-m", "localbroker", "--cluster", "3"]
        command += ["--data-dir", str(data_dir), "--log-level", "WARNING"]
        command += [f"--override={key}={value}" for key, value in OVERRIDES.items()]
        with output.open("wb") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        self.pids: list[int] = []
        text = wait_until(
            lambda: (t := output.read_text()).count("(pid ") == 3 and t, "the launcher's nodes"
        )
        bootstrap = re.search(r"bootstrap servers: (\S+)", text)
        assert bootstrap is not None
        self.addresses = bootstrap.group(1).split(",")
        self.pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", text)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def launching(tmp_path: Path) -> Iterator[Callable[[], Launched]]:
    """Start a launcher on tmp_path/data (again: the same data); every one stopped after."""
    started: list[Launched] = []

    def launch() -> Launched:
        launched = Launched(tmp_path / "data", tmp_path / f"launcher-{len(started)}.out")
        started.append(launched)
        return launched

    try:
        yield launch
    finally:
        for launched in started:
            launched.stop()


def metadata(address: str, topics: list[str] | None = None) -> Any:
    """The node's Metadata answer, or None while it does not answer."""
    body = request_body(
        ApiKey.METADATA,
        12,
        {
            "topics": None if topics is None else [{"name": t} for t in topics],
            "allow_auto_topic_creation": False,
            "include_topic_authorized_operations": False,
        },
    )
    try:
        with RawClient(address, timeout=5) as client:
            return client.recv(ApiKey.METADATA, 12, client.send(body))
    except (OSError, AssertionError):
        return None


def partitions(answer: Any) -> dict[int, tuple[int, tuple[int, ...]]] | None:
    """Each partition's (leader, isr) in the answer's only topic; None if it has none."""
    topic = answer.topics[0]
    if topic.error_code != ErrorCode.none or not topic.partitions:
        return None
    return {p.partition_index: (p.leader_id, tuple(p.isr_nodes)) for p in topic.partitions}


def agreed(addresses: list[str], brokers: set[int], topic: str | None = None) -> Any:
    """The nodes' common (controller, partitions of `topic`) once each lists `brokers`."""
    seen = []
    for address in addresses:
        answer = metadata(address, None if topic is None else [topic])
        if answer is None or {b.node_id for b in answer.brokers} != brokers:
            return None
        layout = partitions(answer) if topic is not None else {}
        if layout is None:
            return None
        seen.append((answer.controller_id, layout))
    return seen[0] if all(s == seen[0] for s in seen) and seen[0][0] >= 0 else None


def create(bootstrap: list[str], name: str, replicas: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": ",".join(bootstrap)})
    admin.create_topics([NewTopic(name, 3, replicas)], request_timeout=15)[name].result(20)
