"""cluster_changes: what happened between two snapshots, as the Brokers pane's timeline and
`kwb demo failover` tell it."""

from __future__ import annotations

from tui.kafka.cluster import ClusterSnapshot, PartitionStats, TopicStats
from tui.kafka.cluster_events import (
    ChangeKind,
    ClusterChange,
    cluster_changes,
    timeline_kind,
    told,
)
from tui.kafka.models import BrokerNode, ClusterInfo


def snapshot(
    brokers: tuple[int, ...] = (0, 1, 2),
    controller: int = 0,
    partitions: dict[int, tuple[int, tuple[int, ...]]] | None = None,
) -> ClusterSnapshot:
    """Topic `orders` with `partitions` (partition -> (leader, isr)), replicas 0,1,2."""
    stats = tuple(
        PartitionStats(p, leader, (0, 1, 2), isr, 0, 0, None)
        for p, (leader, isr) in sorted((partitions or {}).items())
    )
    nodes = tuple(BrokerNode(n, "127.0.0.1", 9092 + n) for n in brokers)
    return ClusterSnapshot(
        0.0, ClusterInfo("id", controller, nodes), (TopicStats("orders", "", False, 3, stats),)
    )


def test_nothing_changed() -> None:
    same = snapshot(partitions={0: (1, (1, 2, 0))})
    assert cluster_changes(same, same) == []


def test_a_leader_killed_moves_leadership_shrinks_the_isr_and_leaves() -> None:
    before = snapshot(controller=1, partitions={0: (1, (1, 2, 0)), 1: (2, (2, 0, 1))})
    after = snapshot(brokers=(0, 2), controller=2, partitions={0: (2, (2, 0)), 1: (2, (2, 0))})
    assert cluster_changes(before, after) == [
        ClusterChange(ChangeKind.BROKER_LEFT, 1, None),
        ClusterChange(ChangeKind.CONTROLLER_MOVED, 1, 2),
        ClusterChange(ChangeKind.LEADER_MOVED, 1, 2, "orders", 0),
        ClusterChange(ChangeKind.ISR_SHRANK, (1, 2, 0), (2, 0), "orders", 0),
        ClusterChange(ChangeKind.ISR_SHRANK, (2, 0, 1), (2, 0), "orders", 1),
    ]


def test_a_broker_back_joins_and_expands_the_isr() -> None:
    before = snapshot(brokers=(0, 2), partitions={0: (2, (2, 0))})
    after = snapshot(partitions={0: (2, (2, 0, 1))})
    changes = cluster_changes(before, after)
    assert changes == [
        ClusterChange(ChangeKind.BROKER_JOINED, None, 1),
        ClusterChange(ChangeKind.ISR_EXPANDED, (2, 0), (2, 0, 1), "orders", 0),
    ]
    assert [c.text for c in changes] == [
        "broker 1 joined the cluster",
        "orders-0 ISR [2,0] → [2,0,1]",
    ]


def test_a_partition_without_a_leader_says_none() -> None:
    before = snapshot(partitions={0: (1, (1,))})
    after = snapshot(partitions={0: (-1, (1,))})
    [change] = cluster_changes(before, after)
    assert change == ClusterChange(ChangeKind.LEADER_MOVED, 1, -1, "orders", 0)
    assert change.text == "orders-0 leader 1 → none"


def test_one_replica_out_and_another_in_is_a_shrink_then_an_expansion() -> None:
    before = snapshot(partitions={0: (0, (0, 1))})
    after = snapshot(partitions={0: (0, (0, 2))})
    assert cluster_changes(before, after) == [
        ClusterChange(ChangeKind.ISR_SHRANK, (0, 1), (0,), "orders", 0),
        ClusterChange(ChangeKind.ISR_EXPANDED, (0,), (0, 2), "orders", 0),
    ]


def test_a_new_partition_is_no_change() -> None:
    before = snapshot(partitions={0: (0, (0,))})
    after = snapshot(partitions={0: (0, (0,)), 1: (1, (1,))})
    assert cluster_changes(before, after) == []


def test_many_partitions_changed_alike_are_told_in_one_line() -> None:
    """Mutation check: with `most` ignored (every change told), this fails."""
    before = snapshot(brokers=(0, 1), partitions={p: (1, (1, 0)) for p in range(5)})
    after = snapshot(brokers=(0,), partitions={p: (0, (0,)) for p in range(5)})
    assert [line for _, line in told(cluster_changes(before, after))] == [
        "broker 1 left the cluster",
        "orders: leader moved on 5 partitions",
        "orders: ISR shrank on 5 partitions",
    ]
    few = snapshot(brokers=(0,), partitions={0: (0, (0,)), 1: (1, (1, 0))})
    assert [line for _, line in told(cluster_changes(before, few))] == [
        "broker 1 left the cluster",
        "orders-0 leader 1 → 0",
        "orders-0 ISR [1,0] → [0]",
    ]


def test_each_change_has_the_timeline_kind_both_timelines_draw() -> None:
    """One kind per change for the Brokers pane and `kwb demo failover` alike: leader ★,
    ISR -/+, broker ✖/+; a partition left without a leader is an error, not a move."""
    before = snapshot(controller=1, partitions={0: (1, (1, 2, 0)), 1: (1, (1, 2, 0))})
    after = snapshot(brokers=(0, 2), controller=2, partitions={0: (2, (2, 0)), 1: (-1, (1,))})
    back = snapshot(controller=2, partitions={0: (2, (2, 0, 1)), 1: (1, (1,))})
    kinds = [
        timeline_kind(c) for c in cluster_changes(before, after) + cluster_changes(after, back)
    ]
    assert kinds == [
        "broker-left",
        "controller",
        "leader",
        "isr-shrank",
        "error",
        "isr-shrank",
        "broker-joined",
        "isr-expanded",
        "leader",
    ]
