"""`localbroker --cluster 3` started as a process by tests (and bench/): the launcher, its
nodes' addresses, pids and command lines, nodes killed with SIGKILL and started again by
hand, and what the nodes agree on, asked over the wire as clients ask.

The launcher prints the bootstrap list and, per node, `node N (pid P): COMMAND`; a node
killed here is started again with that command line (the launcher lets the others carry on,
as a person restarting a crashed node would). `stop` stops the launcher and every node,
including those restarted here, whatever state they are in.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from brokers import listening
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from kio.schema.errors import ErrorCode
from waiting import wait_until
from wire import RawClient

from localbroker.lifeline import die_with_parent
from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import ApiKey

SESSION_MS = 3000
OVERRIDES = {"broker.session.timeout.ms": SESSION_MS, "broker.heartbeat.interval.ms": 300}
"""Quick fencing, for the tests that wait for a dead broker to be fenced."""
NODE_LINE = re.compile(r"node (\d+) \(pid (\d+)\): (.+)")
STOP_TIMEOUT = 20.0


class Launched:
    """A launcher process and what it printed: each node's client address, pid and command."""

    def __init__(
        self,
        data_dir: Path,
        output: Path,
        overrides: Mapping[str, object] | None = None,
        log_level: str = "WARNING",
    ) -> None:
        command = [sys.executable, "-m", "localbroker", "--cluster", "3"]
        command += ["--data-dir", str(data_dir), "--log-level", log_level]
        command += [f"--override={key}={value}" for key, value in (overrides or {}).items()]
        self.output = output
        self.data_dir = data_dir
        with output.open("ab") as sink:  # appending, as the nodes restarted here do
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        self.pids: list[int] = []
        self.restarted: dict[int, subprocess.Popen[bytes]] = {}
        text = wait_until(
            lambda: (t := output.read_text()).count("(pid ") == 3 and t, "the launcher's nodes"
        )
        bootstrap = re.search(r"bootstrap servers: (\S+)", text)
        assert bootstrap is not None
        self.addresses = bootstrap.group(1).split(",")
        lines = sorted((int(n), int(pid), cmd) for n, pid, cmd in NODE_LINE.findall(text))
        self.pids = [pid for _, pid, _ in lines]
        self.commands = [shlex.split(cmd) for _, _, cmd in lines]

    @property
    def bootstrap(self) -> str:
        return ",".join(self.addresses)

    def wait_registered(self) -> None:
        """Until Metadata lists all three brokers (registered with the controller)."""
        admin = AdminClient({"bootstrap.servers": self.bootstrap})

        def registered() -> int:
            try:
                return len(admin.list_topics(timeout=5).brokers)
            except KafkaException:  # the nodes do not answer yet
                return 0

        wait_until(lambda: registered() == len(self.addresses), "every broker registered")

    def kill(self, node_id: int) -> None:
        """SIGKILL the node (no flush, no clean shutdown) and wait until it is gone."""
        process = self.restarted.pop(node_id, None)
        if process is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pids[node_id], signal.SIGKILL)
            wait_until(lambda: not listening(self.addresses[node_id]), f"node {node_id} gone")
        else:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def pid(self, node_id: int) -> int:
        process = self.restarted.get(node_id)
        return self.pids[node_id] if process is None else process.pid

    def pause(self, node_id: int) -> None:
        """SIGSTOP: the node stays connected but does nothing (a stalled broker)."""
        os.kill(self.pid(node_id), signal.SIGSTOP)

    def resume(self, node_id: int) -> None:
        os.kill(self.pid(node_id), signal.SIGCONT)

    def partition_dir(self, node_id: int, topic: str, partition: int) -> Path:
        return self.data_dir / f"node-{node_id}" / f"{topic}-{partition}"

    def restart(self, node_id: int) -> None:
        """Start the node again with its command line; return once it accepts clients."""
        with self.output.open("ab") as sink:
            self.restarted[node_id] = subprocess.Popen(
                self.commands[node_id],
                stdout=sink,
                stderr=subprocess.STDOUT,
                preexec_fn=lambda: die_with_parent(parent=os.getppid()),
            )
        wait_until(lambda: listening(self.addresses[node_id]), f"node {node_id} listening")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for process in self.restarted.values():
            process.kill()
            process.wait(STOP_TIMEOUT)
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def launched_cluster(
    directory: Path, overrides: Mapping[str, object] | None = None, log_level: str = "WARNING"
) -> Iterator[Launched]:
    """A launcher over directory/data, its output (every node's log, from `log_level` up) in
    directory/launcher.out, stopped after."""
    launched = Launched(directory / "data", directory / "launcher.out", overrides, log_level)
    try:
        yield launched
    finally:
        launched.stop()


@contextlib.contextmanager
def launching(tmp_path: Path) -> Iterator[Callable[[], Launched]]:
    """Start a launcher on tmp_path/data (again: the same data); every one stopped after."""
    started: list[Launched] = []

    def launch() -> Launched:
        launched = Launched(tmp_path / "data", tmp_path / f"launcher-{len(started)}.out", OVERRIDES)
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
