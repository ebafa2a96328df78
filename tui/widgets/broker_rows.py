"""The rows of the Brokers pane's tables: each broker with its state and role, each partition
with its leader, replicas and ISR, marked when under-replicated or leaderless.

Metadata lists only the brokers that are up (a fenced or dead broker drops out), so a broker
the pane saw once and no longer sees is shown offline rather than vanishing. For the nodes
the workbench runs itself (LocalCluster) the pane knows more: stopped, killed, exited (a
crash nobody asked for), or starting (running, not in Metadata yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kafka.cluster import ClusterSnapshot
from ..kafka.cluster_events import NO_LEADER
from ..kafka.models import BrokerNode
from ..local_cluster import LocalCluster, NodeState

UNDER_REPLICATED = "under-replicated"
NO_LEADER_MARK = "no leader"
COLOURS = {
    "online": "success",
    "starting": "accent",
    "stopped": "warning",
    "killed": "error",
    "exited": "error",
    "offline": "error",
    UNDER_REPLICATED: "warning",
    NO_LEADER_MARK: "error",
}
"""The theme variable each broker state and partition mark is drawn in."""
Row = tuple[str, tuple[str, ...]]
"""A row's key and its cells."""


@dataclass(slots=True)
class BrokerStates:
    """The brokers seen so far, to show one that left Metadata as offline."""

    seen: dict[int, BrokerNode] = field(default_factory=dict)

    def rows(self, snapshot: ClusterSnapshot, own: LocalCluster | None) -> list[Row]:
        """(node id, (node, address, state, role, leads, rack)) for every broker seen or
        run (leads: how many partitions it leads)."""
        cluster = snapshot.cluster
        listed = {b.node_id: b for b in cluster.brokers}
        self.seen.update(listed)
        ids = set(self.seen) | set(own.node_ids if own is not None else ())
        leads: dict[int, int] = {}
        for topic in snapshot.topics:
            for partition in topic.partitions:
                leads[partition.leader] = leads.get(partition.leader, 0) + 1
        rows: list[Row] = []
        for node_id in sorted(ids):
            node = self.seen.get(node_id)
            address = f"{node.host}:{node.port}" if node is not None else _own_address(own, node_id)
            rows.append(
                (
                    str(node_id),
                    (
                        str(node_id),
                        address,
                        _state(node_id, node_id in listed, own),
                        "controller" if node_id == cluster.controller_id else "",
                        str(leads.get(node_id, 0)) if node_id in listed else "-",
                        (node.rack if node is not None else None) or "-",
                    ),
                )
            )
        return rows


def _own_address(own: LocalCluster | None, node_id: int) -> str:
    if own is None:
        return "-"
    return own.bootstrap.split(",")[node_id]


def _state(node_id: int, listed: bool, own: LocalCluster | None) -> str:
    if own is None or node_id not in own.node_ids:
        return "online" if listed else "offline"
    state = own.node_state(node_id)
    if state is NodeState.RUNNING:
        return "online" if listed else "starting"
    return str(state.value)


def partition_rows(snapshot: ClusterSnapshot) -> list[Row]:
    """(topic-partition, (partition, leader, replicas, isr, mark)) for every partition of the
    topics users made (the internal ones are counted in `replication_counts`)."""
    rows: list[Row] = []
    for topic in snapshot.topics:
        if topic.internal:
            continue
        for p in topic.partitions:
            rows.append(
                (
                    f"{topic.name}-{p.partition}",
                    (
                        f"{topic.name}-{p.partition}",
                        "none" if p.leader == NO_LEADER else str(p.leader),
                        ",".join(map(str, p.replicas)),
                        ",".join(map(str, p.isr)),
                        _mark(p.leader, p.replicas, p.isr),
                    ),
                )
            )
    return rows


def _mark(leader: int, replicas: tuple[int, ...], isr: tuple[int, ...]) -> str:
    if leader == NO_LEADER:
        return NO_LEADER_MARK
    return UNDER_REPLICATED if len(isr) < len(replicas) else ""


def replication_counts(snapshot: ClusterSnapshot) -> tuple[int, int]:
    """(under-replicated, leaderless) partitions, internal topics included."""
    under = leaderless = 0
    for topic in snapshot.topics:
        for p in topic.partitions:
            leaderless += p.leader == NO_LEADER
            under += p.leader != NO_LEADER and len(p.isr) < len(p.replicas)
    return under, leaderless
