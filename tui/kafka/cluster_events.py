"""What changed in a cluster between two snapshots: brokers leaving and joining, the controller
moving, partition leaders moving, ISRs shrinking and growing.

A client cannot subscribe to a cluster's events (Kafka's metadata log is the controllers'),
but every second the workbench takes a snapshot from Metadata (ClusterSnapshot), and the
difference of two is what happened in between, as far as a client can see: a broker that is
fenced or gone drops out of Metadata's broker list; a partition's leader is -1 while no
replica can lead. A change that came and went within one interval is not seen. No Textual
here: the Brokers pane's timeline and `kwb demo failover` both read these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .cluster import ClusterSnapshot, PartitionStats

NO_LEADER = -1
"""Metadata's leader id for a partition that has none."""


class ChangeKind(enum.Enum):
    BROKER_LEFT = "broker left"
    BROKER_JOINED = "broker joined"
    CONTROLLER_MOVED = "controller moved"
    LEADER_MOVED = "leader moved"
    ISR_SHRANK = "ISR shrank"
    ISR_EXPANDED = "ISR expanded"


Ids = int | tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class ClusterChange:
    """One change. `before` and `after` hold a broker id (BROKER_LEFT: before; BROKER_JOINED:
    after; the other None), controller ids, leader ids (NO_LEADER for none) or the ISR's
    replica ids; `topic` and `partition` are set for LEADER_MOVED and the ISR's changes."""

    kind: ChangeKind
    before: Ids
    after: Ids
    topic: str | None = None
    partition: int | None = None

    @property
    def text(self) -> str:
        """The change as the timeline says it."""
        where = f"{self.topic}-{self.partition}"
        match self.kind:
            case ChangeKind.BROKER_LEFT:
                return f"broker {self.before} left the cluster"
            case ChangeKind.BROKER_JOINED:
                return f"broker {self.after} joined the cluster"
            case ChangeKind.CONTROLLER_MOVED:
                return f"controller {_id(self.before)} → {_id(self.after)}"
            case ChangeKind.LEADER_MOVED:
                return f"{where} leader {_id(self.before)} → {_id(self.after)}"
            case ChangeKind.ISR_SHRANK | ChangeKind.ISR_EXPANDED:
                return f"{where} ISR {_ids(self.before)} → {_ids(self.after)}"


TIMELINE_KINDS = {
    ChangeKind.BROKER_LEFT: "broker-left",
    ChangeKind.BROKER_JOINED: "broker-joined",
    ChangeKind.CONTROLLER_MOVED: "controller",
    ChangeKind.LEADER_MOVED: "leader",
    ChangeKind.ISR_SHRANK: "isr-shrank",
    ChangeKind.ISR_EXPANDED: "isr-expanded",
}
"""The timeline's kind (its mark and colour, tui/widgets/demo_timeline.py) for each change."""


def timeline_kind(change: ClusterChange) -> str:
    """The kind the Brokers pane's timeline and `kwb demo failover` tell `change` with: a
    partition left without a leader is an error (no replica can serve it), not a move."""
    if change.kind is ChangeKind.LEADER_MOVED and change.after == NO_LEADER:
        return "error"
    return TIMELINE_KINDS[change.kind]


def cluster_changes(before: ClusterSnapshot, after: ClusterSnapshot) -> list[ClusterChange]:
    """The changes from `before` to `after`: brokers first, then the controller, then each
    partition's (in topic and partition order; a partition new in `after` has none)."""
    old = {b.node_id for b in before.cluster.brokers}
    new = {b.node_id for b in after.cluster.brokers}
    changes = [ClusterChange(ChangeKind.BROKER_LEFT, n, None) for n in sorted(old - new)]
    changes += [ClusterChange(ChangeKind.BROKER_JOINED, None, n) for n in sorted(new - old)]
    old_controller, new_controller = before.cluster.controller_id, after.cluster.controller_id
    if old_controller != new_controller:
        changes.append(ClusterChange(ChangeKind.CONTROLLER_MOVED, old_controller, new_controller))
    old_partitions = _partitions(before)
    for key, partition in sorted(_partitions(after).items()):
        earlier = old_partitions.get(key)
        if earlier is not None:
            changes += _partition_changes(key, earlier, partition)
    return changes


def _partitions(snapshot: ClusterSnapshot) -> dict[tuple[str, int], PartitionStats]:
    return {(t.name, p.partition): p for t in snapshot.topics for p in t.partitions}


def _partition_changes(
    key: tuple[str, int], old: PartitionStats, new: PartitionStats
) -> list[ClusterChange]:
    topic, partition = key
    changes = []
    if old.leader != new.leader:
        changes.append(ClusterChange(ChangeKind.LEADER_MOVED, old.leader, new.leader, *key))
    left, joined = set(old.isr) - set(new.isr), set(new.isr) - set(old.isr)
    if left:  # a replica out and another in at once reads as two changes
        kept = tuple(r for r in old.isr if r not in left)
        changes.append(ClusterChange(ChangeKind.ISR_SHRANK, old.isr, kept, topic, partition))
        old_isr = kept
    else:
        old_isr = old.isr
    if joined:
        changes.append(ClusterChange(ChangeKind.ISR_EXPANDED, old_isr, new.isr, topic, partition))
    return changes


def _id(node: Ids) -> str:
    return "none" if node in (None, NO_LEADER) else str(node)


def _ids(nodes: Ids) -> str:
    return "[" + ",".join(map(str, nodes if isinstance(nodes, tuple) else ())) + "]"


def told(changes: list[ClusterChange], most: int = 3) -> list[tuple[ClusterChange, str]]:
    """Each change with the line the timeline tells it in, but one line for a topic's
    partitions that changed the same way more than `most` at once (a broker that dies
    leaves ISRs on every partition of __consumer_offsets: 50 lines would hide the rest).
    The change given with a summary is the first of those it stands for."""
    groups: dict[tuple[ChangeKind, str | None, int], list[ClusterChange]] = {}
    for index, change in enumerate(changes):  # a broker's or the controller's: alone
        alone = index if change.topic is None else -1
        groups.setdefault((change.kind, change.topic, alone), []).append(change)
    lines = []
    for (kind, topic, _), group in groups.items():
        if len(group) > most:
            lines.append((group[0], f"{topic}: {kind.value} on {len(group)} partitions"))
        else:
            lines += [(change, change.text) for change in group]
    return lines
