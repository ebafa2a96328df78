"""Apache Kafka as a three-node KRaft cluster: the reference for cluster mode's tests.

Each node is a `ReferenceKafka` (tests/reference_kafka.py) in combined mode
(`process.roles=broker,controller`) with its own node id, directory and free ports; all
share one cluster id (`kafka-storage random-uuid`) and one `controller.quorum.voters`, and
each store is formatted with `kafka-storage format` as Kafka's docs have it. Internal topics
get three replicas and a minimum ISR of two, as a production cluster's would.

The nodes start together (a lone voter of three cannot elect a leader, so none serves until
a majority runs) and the cluster is up once every node's Metadata names every node. One node
can be stopped, killed with SIGKILL and restarted on its data; `stop` ends them all, and each
JVM dies with the thread that started it (`die_with_parent`), so a pytest killed outright
leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reference_kafka import (
    START_TIMEOUT,
    ReferenceKafka,
    answering_nodes,
    free_port,
    kafka_classpath,
    random_cluster_id,
)
from waiting import wait_until

CLUSTER_SIZE = 3
CLUSTER_SETTINGS = {
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
}
"""What the single reference broker sets to 1 (internal topics with one replica), as a
three-node cluster sets it."""


class ReferenceCluster:
    """`size` Apache Kafka nodes, each broker and controller, forming one KRaft cluster."""

    def __init__(
        self, directory: Path, size: int = CLUSTER_SIZE, overrides: Mapping[str, str] | None = None
    ) -> None:
        self.directory = directory
        self.size = size
        self.overrides = {**CLUSTER_SETTINGS, **(overrides or {})}
        self.nodes: list[ReferenceKafka] = []

    @property
    def bootstrap(self) -> str:
        """Every node's client listener, as a client's bootstrap.servers lists them."""
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> ReferenceKafka:
        (found,) = [node for node in self.nodes if node.node_id == node_id]
        return found

    def start(self) -> ReferenceCluster:
        """Format every node's store under one cluster id, start them all and wait until each
        node names every node in Metadata; stops what started if that fails."""
        classpath = kafka_classpath()
        cluster_id = random_cluster_id(classpath)
        controller_ports = [free_port() for _ in range(self.size)]
        voters = ",".join(f"{n}@127.0.0.1:{port}" for n, port in enumerate(controller_ports))
        self.nodes = [
            ReferenceKafka(
                self.directory / f"node-{n}",
                {**self.overrides, "node.id": str(n), "controller.quorum.voters": voters},
                controller_port=port,
                cluster_id=cluster_id,
            )
            for n, port in enumerate(controller_ports)
        ]
        with ThreadPoolExecutor(self.size) as formatting:  # three JVMs at once, not in turn
            list(formatting.map(ReferenceKafka.format, self.nodes))
        try:
            for node in self.nodes:
                node.spawn()
            self.wait_until_complete()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_until_complete(self, timeout: float = START_TIMEOUT) -> None:
        """Until every running node answers Metadata naming every node (every broker
        registered and unfenced)."""
        everyone = {node.node_id for node in self.nodes}

        def complete() -> bool:
            return all(
                node.serves_metadata() and set(answering_nodes(node.bootstrap)) == everyone
                for node in self.nodes
            )

        wait_until(complete, f"the {self.size} Apache Kafka nodes to form a cluster", timeout)

    def kill(self, node_id: int) -> None:
        """SIGKILL to one node (a crash); `restart` brings it back on its data."""
        self.node(node_id).kill()

    def pause(self, node_id: int) -> None:
        """SIGSTOP to one node's JVM: connected, doing nothing (a stalled broker)."""
        self._signal(node_id, signal.SIGSTOP)

    def resume(self, node_id: int) -> None:
        self._signal(node_id, signal.SIGCONT)

    def _signal(self, node_id: int, number: signal.Signals) -> None:
        process = self.node(node_id).process
        assert process is not None
        os.killpg(process.pid, number)

    def partition_dir(self, node_id: int, topic: str, partition: int) -> Path:
        return self.node(node_id).directory / "logs" / f"{topic}-{partition}"

    def stop_node(self, node_id: int) -> None:
        """A controlled shutdown of one node (SIGTERM)."""
        self.node(node_id).stop()

    def restart(self, node_id: int) -> None:
        """Start a stopped or killed node again on its data and ports, and wait until it
        serves Metadata again."""
        node = self.node(node_id)
        node.spawn()
        node.wait_until_serving()

    def stop(self) -> None:
        """Stop every node: SIGTERM to all at once (one at a time, the last ones would wait
        for a quorum that is gone), then SIGKILL to any that does not go in time."""
        for node in self.nodes:
            if node.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, signal.SIGTERM)
        for node in self.nodes:
            node.stop()


@contextlib.contextmanager
def running_cluster(
    directory: Path, size: int = CLUSTER_SIZE, overrides: Mapping[str, str] | None = None
) -> Iterator[ReferenceCluster]:
    """A running Apache Kafka cluster, stopped at the end whatever happens."""
    cluster = ReferenceCluster(directory, size, overrides).start()
    try:
        yield cluster
    finally:
        cluster.stop()
