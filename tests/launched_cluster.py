"""`localbroker --cluster N` as a test (or bench/) runs it: the launcher process, its nodes'
addresses, pids and command lines, and nodes killed with SIGKILL and started again by hand.

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
from collections.abc import Iterator, Mapping
from pathlib import Path

from brokers import listening
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from waiting import wait_until

from localbroker.lifeline import die_with_parent

NODE_LINE = re.compile(r"node (\d+) \(pid (\d+)\): (.+)")
STOP_TIMEOUT = 20.0


class Launched:
    """A launcher process and what it printed: each node's client address, pid and command."""

    def __init__(
        self, data_dir: Path, output: Path, overrides: Mapping[str, object] | None = None
    ) -> None:
        command = [sys.executable, "-m", "localbroker", "--cluster", "3"]
        command += ["--data-dir", str(data_dir), "--log-level", "WARNING"]
        command += [f"--override={key}={value}" for key, value in (overrides or {}).items()]
        self.output = output
        with output.open("wb") as sink:
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
    directory: Path, overrides: Mapping[str, object] | None = None
) -> Iterator[Launched]:
    """A launcher over directory/data, its output in directory/launcher.out, stopped after."""
    launched = Launched(directory / "data", directory / "launcher.out", overrides)
    try:
        yield launched
    finally:
        launched.stop()
