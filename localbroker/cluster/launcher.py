"""`localbroker --cluster N --data-dir DIR`: N KRaft nodes as N processes, run together.

Each node is `python -m localbroker` with the settings a KRaft combined node has in Kafka:
`process.roles=broker,controller`, its `node.id`, a PLAINTEXT listener for clients and a
CONTROLLER listener for the quorum, `controller.quorum.voters` naming every node, and its
data in DIR/node-N, formatted first with one cluster id as `kafka-storage.sh format` does
(every node must agree on it). The ports are chosen once and kept in DIR/cluster.properties,
so a restart finds the same cluster at the same addresses with its data.

The launcher prints the bootstrap list and each node's command line (to start one node
again by hand, after it crashed or was killed: the others carry on), and stops the nodes
together: SIGTERM, then SIGKILL for one that does not
stop in time. The nodes die with the launcher (lifeline.py), even when it is killed -9.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from ..config.properties import load_properties
from ..lifeline import die_with_parent
from ..metadata.store import META_PROPERTIES
from ..protocol.kafka_uuid import kafka_uuid_string

LAYOUT_FILE = "cluster.properties"
STOP_TIMEOUT_S = 10.0
HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ClusterLayout:
    """Where each node of a cluster listens, and the cluster's id."""

    cluster_id: str
    client_ports: tuple[int, ...]
    controller_ports: tuple[int, ...]

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{HOST}:{port}" for port in self.client_ports)

    @property
    def voters(self) -> str:
        return ",".join(f"{n}@{HOST}:{port}" for n, port in enumerate(self.controller_ports))

    def node_properties(self, node_id: int, data_dir: Path) -> dict[str, str]:
        """The KRaft settings of node `node_id` (data in data_dir/node-N)."""
        return {
            "process.roles": "broker,controller",
            "node.id": str(node_id),
            "listeners": (
                f"PLAINTEXT://{HOST}:{self.client_ports[node_id]},"
                f"CONTROLLER://{HOST}:{self.controller_ports[node_id]}"
            ),
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.voters": self.voters,
            "log.dirs": str(node_dir(data_dir, node_id)),
        }


def node_dir(data_dir: Path, node_id: int) -> Path:
    return data_dir / f"node-{node_id}"


def _free_ports(count: int) -> tuple[int, ...]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return tuple(sock.getsockname()[1] for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def prepare(data_dir: Path, nodes: int) -> ClusterLayout:
    """The cluster's layout in data_dir, chosen and written on first use (free ports, a new
    cluster id), and every node's directory formatted with that cluster id."""
    path = data_dir / LAYOUT_FILE
    if path.exists():
        saved = load_properties(path)
        layout = ClusterLayout(
            saved["cluster.id"],
            tuple(int(p) for p in saved["client.ports"].split(",")),
            tuple(int(p) for p in saved["controller.ports"].split(",")),
        )
        if len(layout.client_ports) != nodes:
            raise SystemExit(
                f"localbroker: {data_dir} holds a cluster of {len(layout.client_ports)} nodes,"
                f" not {nodes}"
            )
    else:
        ports = _free_ports(2 * nodes)
        layout = ClusterLayout(kafka_uuid_string(uuid.uuid4()), ports[:nodes], ports[nodes:])
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"cluster.id={layout.cluster_id}\n"
            f"client.ports={','.join(map(str, layout.client_ports))}\n"
            f"controller.ports={','.join(map(str, layout.controller_ports))}\n"
        )
    for node_id in range(nodes):
        format_node(node_dir(data_dir, node_id), layout.cluster_id, node_id)
    return layout


def format_node(directory: Path, cluster_id: str, node_id: int) -> None:
    """meta.properties as `kafka-storage.sh format -t cluster_id` writes it, unless there."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = directory / META_PROPERTIES
    if not meta.exists():
        meta.write_text(f"cluster.id={cluster_id}\nnode.id={node_id}\nversion=1\n")


def node_command(layout: ClusterLayout, node_id: int, data_dir: Path) -> list[str]:
    overrides = layout.node_properties(node_id, data_dir)
    command = [sys.executable, "-m", "localbroker"]
    for key, value in overrides.items():
        command += ["--override", f"{key}={value}"]
    return command


def spawn_node(
    layout: ClusterLayout,
    node_id: int,
    data_dir: Path,
    extra: Sequence[str] = (),
    stdout: int | None = None,
    stderr: int | None = None,
    new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """Start node `node_id` as a process that dies with this one: with the thread that calls
    this, in fact (PR_SET_PDEATHSIG, lifeline.py), so call it from one that lives as long as
    the node should (the main thread, or the event loop's). `new_session`: out of the
    terminal's reach (no SIGINT from ctrl+c, no SIGHUP when the terminal goes), for a parent
    that alone decides when the node stops."""
    parent = os.getpid()
    return subprocess.Popen(
        [*node_command(layout, node_id, data_dir), *extra],
        stdout=stdout,
        stderr=stderr,
        preexec_fn=lambda: die_with_parent(parent=parent),
        start_new_session=new_session,
    )


def run_cluster(nodes: int, data_dir: Path, extra: Sequence[str] = ()) -> int:
    """Start the nodes, wait until SIGINT/SIGTERM (or every node exited), stop them all."""
    layout = prepare(data_dir, nodes)
    print(f"bootstrap servers: {layout.bootstrap}", flush=True)
    processes = []
    for node_id in range(nodes):
        process = spawn_node(layout, node_id, data_dir, extra)
        processes.append(process)
        command = shlex.join(cast(list[str], process.args))
        print(f"node {node_id} (pid {process.pid}): {command}", flush=True)
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    running = dict(enumerate(processes))
    try:
        while not stopping and running:
            time.sleep(0.2)
            for node_id, process in list(running.items()):
                if process.poll() is not None:
                    # The others carry on: a cluster outlives a node (restart it by hand
                    # with the command line printed above).
                    print(f"node {node_id} exited with code {process.returncode}", flush=True)
                    del running[node_id]
    finally:
        stop_all(processes)
    return 0 if stopping else 1


def stop_all(processes: Sequence[subprocess.Popen[bytes]], timeout: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every node, wait for them all within one `timeout`, then SIGKILL those still
    running. One bound for all, not one each: nodes that stop slowly would otherwise hold
    the caller (the launcher, the workbench's exit) `timeout` times their number."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
