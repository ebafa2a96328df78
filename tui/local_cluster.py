"""The workbench's own cluster: `kwb --brokers N` runs N localbroker nodes as child processes.

The nodes are those of `localbroker --cluster N --data-dir DIR` (localbroker's launcher lays
the cluster out, formats each node's directory and builds each node's command line), but
each is a process of the workbench's, so that the Brokers pane can stop one (SIGTERM, a
clean shutdown), kill one (SIGKILL, a crash) and start it again, and tell which it did: a
node that ended without being asked to is EXITED. Nobody restarts a node by itself here, as
ChildBroker does for the single broker: a node that is down is what the user came to watch.

The nodes die with the workbench, even with kill -9: PR_SET_PDEATHSIG (localbroker/lifeline.py)
is tied to the thread that starts a node, so nodes are started from the caller's thread (the
event loop's, or the main thread), never from a worker thread that ends. Their log lines come
back over pipes (the Logs view), each prefixed with its node. The workbench writes where the
cluster listens into its directory (RUNNING_FILE), so that a second `kwb --brokers N` joins it
as a client, as it joins a single broker.
"""

from __future__ import annotations

import asyncio
import enum
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .broker_process import (
    RUNNING_FILE,
    START_TIMEOUT_S,
    STOP_WAIT_S,
    BrokerOutput,
    how_it_ended,
    write_record,
)
from .embedded import RunningBroker, data_home, running_broker

if TYPE_CHECKING:  # the protocol's modules load only for a cluster (issue 16: `kwb` starts light)
    from localbroker.public import ClusterLayout, GroupEvent

_LOOK_EVERY_S = 0.1


class NodeState(enum.Enum):
    """What became of a node: the workbench knows which it stopped or killed."""

    STARTING = "starting"
    """Its process runs, but its client port does not accept connections yet."""
    RUNNING = "running"
    STOPPED = "stopped"
    """Stopped by the workbench (SIGTERM), or not started."""
    KILLED = "killed"
    """Killed by the workbench (SIGKILL)."""
    EXITED = "exited"
    """Ended without being asked to (a crash, or a kill from outside)."""


class ClusterFailed(OSError):
    """A node could not be started (its last log line says why), or the directory holds a
    cluster of another size."""


class LocalCluster(BrokerOutput):
    """N localbroker nodes, children of this process; an OwnBroker to the app."""

    schema_registry_url: str | None = None
    """No Schema Registry is served beside a cluster."""

    def __init__(
        self, data_dir: Path, layout: ClusterLayout, config: Mapping[str, str] | None = None
    ) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.layout = layout
        self._extra = [f"--override={key}={value}" for key, value in (config or {}).items()]
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._ready: set[int] = set()
        self._asked: dict[subprocess.Popen[bytes], NodeState] = {}
        """STOPPED or KILLED for each process the workbench stopped or killed. Kept per
        process, not per node: the thread that sees a killed process end may run after the
        node was started again, and must still know that this end was asked for."""
        self._recorded = False
        """Whether the record in data_dir is this cluster's (another's is not to remove)."""

    @classmethod
    async def start(
        cls, data_dir: Path, brokers: int = 3, config: Mapping[str, str] | None = None
    ) -> LocalCluster:
        """Lay out (on first use) and start a cluster of `brokers` nodes with its data in
        `data_dir`, and return once every node accepts connections (ClusterFailed if one
        cannot start: the others are stopped)."""
        from localbroker.public import prepare_cluster

        try:
            layout = prepare_cluster(data_dir, brokers)
        except SystemExit as exc:  # the launcher's word for a directory of another size
            raise ClusterFailed(str(exc)) from None
        cluster = cls(data_dir, layout, config)
        starts = [asyncio.ensure_future(cluster.start_node(n)) for n in cluster.node_ids]
        try:
            await asyncio.gather(*starts)
        except BaseException:
            for start in starts:  # the others' waits end here, not in an orphaned task
                start.cancel()
            await asyncio.gather(*starts, return_exceptions=True)
            await cluster.close()
            raise
        write_record(data_dir, cluster.bootstrap, cluster.pids[0], brokers=brokers)
        cluster._recorded = True
        return cluster

    @property
    def bootstrap(self) -> str:
        """Every node's `host:port`, comma-separated, as clients take a bootstrap list."""
        return self.layout.bootstrap

    @property
    def node_ids(self) -> tuple[int, ...]:
        return tuple(range(len(self.layout.client_ports)))

    @property
    def pids(self) -> dict[int, int]:
        """The pid of each node's latest process."""
        return {node_id: process.pid for node_id, process in self._processes.items()}

    def node_state(self, node_id: int) -> NodeState:
        """KILLED from the moment kill_node sent SIGKILL (nothing can stop it then); a node
        being stopped is RUNNING until it has ended."""
        process = self._processes.get(node_id)
        if process is None:
            return NodeState.STOPPED
        if self._asked.get(process) is NodeState.KILLED:
            return NodeState.KILLED
        if process.poll() is None:
            return NodeState.RUNNING if node_id in self._ready else NodeState.STARTING
        return self._asked.get(process, NodeState.EXITED)

    async def start_node(self, node_id: int) -> None:
        """Start node `node_id` (nothing if it runs) and wait until it accepts connections;
        ClusterFailed, with its last log line, if it ends first or is not up in time."""
        if self.node_state(node_id) in (NodeState.STARTING, NodeState.RUNNING):
            return
        from localbroker.public import CLUSTER_HOST, spawn_node

        self._ready.discard(node_id)
        process = spawn_node(
            self.layout,
            node_id,
            self.data_dir,
            self._extra,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            new_session=True,  # ctrl+c is the workbench's: it decides when nodes stop
        )
        self._processes[node_id] = process
        assert process.stderr is not None
        threading.Thread(
            target=self._read_log,
            args=(node_id, process, process.stderr),
            name=f"localbroker-node-{node_id}",
            daemon=True,
        ).start()
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                while not await _accepts(CLUSTER_HOST, self.layout.client_ports[node_id]):
                    if process.poll() is not None:
                        raise ClusterFailed(f"node {node_id} {how_it_ended(process.returncode)}")
                    await asyncio.sleep(_LOOK_EVERY_S)
        except TimeoutError:
            process.kill()
            raise ClusterFailed(f"node {node_id} was not up after {START_TIMEOUT_S:g} s") from None
        except ClusterFailed as exc:
            raise ClusterFailed(f"{exc}: {self._last_line(node_id)}") from None
        if process is self._processes.get(node_id) and process.poll() is None:
            self._ready.add(node_id)

    async def stop_node(self, node_id: int) -> None:
        """SIGTERM (the node flushes and leaves the cluster cleanly), then SIGKILL if it is
        still running after STOP_WAIT_S; returns once it has ended."""
        process = self._processes.get(node_id)
        if process is None or process.poll() is not None:
            return
        self._asked[process] = NodeState.STOPPED
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)

    def kill_node(self, node_id: int) -> None:
        """SIGKILL, as a crash would end it; returns at once (node_state says KILLED)."""
        process = self._processes.get(node_id)
        if process is None or process.poll() is not None:
            return
        self._asked[process] = NodeState.KILLED
        process.kill()

    async def close(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL for one that does not stop in time)."""
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        """close(), for callers without an event loop (the app's OwnBroker.stop)."""
        from localbroker.public import stop_all

        if self._recorded:
            (self.data_dir / RUNNING_FILE).unlink(missing_ok=True)
        for process in self._processes.values():
            if process.poll() is None:
                self._asked[process] = NodeState.STOPPED
        stop_all(list(self._processes.values()))

    # -- OwnBroker --------------------------------------------------------------------------

    def subscribe_groups(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """The nodes run plain `python -m localbroker`, which tells nobody its coordinator's
        events: the Demo pane derives them from the client side."""
        return lambda: None

    # -- reader threads -----------------------------------------------------------------------

    def _read_log(self, node_id: int, process: subprocess.Popen[bytes], stream: IO[bytes]) -> None:
        with stream:
            for line in stream:
                self._log(f"node {node_id}: {line.decode(errors='replace').rstrip()}")
        status = process.wait()
        if process not in self._asked:
            self._notice(f"node {node_id} {how_it_ended(status)}")

    def _last_line(self, node_id: int) -> str:
        prefix = f"node {node_id}: "
        with self._lock:
            last = next((line for line in reversed(self._logs) if line.startswith(prefix)), "")
        return last.removeprefix(prefix) or "nothing in its log"


async def _accepts(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def open_cluster(
    data_dir: Path, brokers: int, config: Mapping[str, str] | None = None
) -> LocalCluster | RunningBroker:
    """The cluster another workbench runs from `data_dir`, to join as a client, or else a
    cluster of this workbench's own (LocalCluster.start)."""
    running = running_broker(data_dir)
    if running is not None:
        return running
    return await LocalCluster.start(data_dir, brokers, config)


def cluster_home(brokers: int) -> Path:
    """Where `kwb --brokers N` keeps its cluster without --data-dir: beside the single
    broker's directory (not in it, where `cluster-3` would read as a topic's partition)."""
    return data_home().parent / f"cluster-{brokers}"
