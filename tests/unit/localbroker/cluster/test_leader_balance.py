"""auto.leader.rebalance.enable on the active controller, with a fake clock: preferred
replicas lead again one leader.imbalance.check.interval.seconds after an imbalance shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localbroker.cluster.controller import MAX_ELECTIONS_PER_IMBALANCE
from localbroker.cluster.partition_control import IsrUpdate, balance_partition_leaders

Make = Callable[..., Any]
INTERVAL_MS = 1000
"""Shorter than the brokers' sessions, so that next_deadline() is the balancing's."""


def _imbalanced(cluster_of: Make, **settings: Any) -> Any:
    """Two brokers; "orders" led by broker 1 though broker 0, its preferred replica, is back
    in the ISR (as after broker 0 was fenced, came back and caught up)."""
    cluster = cluster_of(2, **settings)
    cluster.create("orders", (0, 1))
    cluster.expire(1)
    cluster.heartbeat(0)
    _rejoin(cluster, "orders")
    assert cluster.part("orders").leader == 1
    return cluster


def _rejoin(cluster: Any, name: str, partition: int = 0) -> None:
    current = cluster.part(name, partition)
    update = IsrUpdate(
        cluster.image.topics[name].topic_id,
        partition,
        current.leader_epoch,
        current.partition_epoch,
        (*current.isr, 0),
    )
    cluster.commit(
        cluster.controller.alter_partition(current.leader, cluster.epochs[current.leader], [update])
    )


def test_the_preferred_replica_leads_again_a_check_interval_after_the_imbalance(
    cluster_of: Make,
) -> None:
    cluster = _imbalanced(cluster_of, leader_imbalance_check_interval_ms=INTERVAL_MS)
    balance = cluster.controller.balance_leaders
    start = cluster.now
    assert cluster.commit(balance(start)) is False  # scheduled
    assert cluster.controller.next_deadline() == start + INTERVAL_MS
    assert cluster.commit(balance(start + INTERVAL_MS - 1)) is False
    assert cluster.part("orders").leader == 1
    assert cluster.commit(balance(start + INTERVAL_MS)) is True
    assert cluster.part("orders").leader == 0
    assert cluster.commit(balance(start + INTERVAL_MS)) is False  # balanced: nothing scheduled
    assert cluster.controller.next_deadline() != start + 2 * INTERVAL_MS
    assert cluster.commit(balance(start + 2 * INTERVAL_MS)) is False


def test_without_auto_leader_rebalance_the_leader_stays(cluster_of: Make) -> None:
    cluster = _imbalanced(cluster_of)
    for now in (0, INTERVAL_MS, 10 * INTERVAL_MS):
        assert cluster.commit(cluster.controller.balance_leaders(cluster.now + now)) is False
    assert cluster.part("orders").leader == 1


def test_a_preferred_replica_out_of_the_isr_is_tried_again_an_interval_later(
    cluster_of: Make,
) -> None:
    cluster = cluster_of(2, leader_imbalance_check_interval_ms=INTERVAL_MS)
    cluster.create("orders", (0, 1))
    cluster.expire(1)
    cluster.heartbeat(0)  # back, but not in the ISR yet
    balance = cluster.controller.balance_leaders
    start = cluster.now
    cluster.commit(balance(start))
    assert cluster.commit(balance(start + INTERVAL_MS)) is False
    assert cluster.part("orders").leader == 1
    cluster.commit(balance(start + INTERVAL_MS))
    assert cluster.controller.next_deadline() == start + 2 * INTERVAL_MS
    _rejoin(cluster, "orders")
    assert cluster.commit(balance(start + 2 * INTERVAL_MS - 1)) is False
    assert cluster.commit(balance(start + 2 * INTERVAL_MS)) is True
    assert cluster.part("orders").leader == 0


def test_one_round_elects_at_most_the_maximum(cluster_of: Make) -> None:
    """MAX_ELECTIONS_PER_IMBALANCE records a round, as Kafka; the rest come in the next."""
    cluster = _imbalanced(cluster_of)
    assert balance_partition_leaders(cluster.image, 1) != []
    assert balance_partition_leaders(cluster.image, 0) == []
    assert MAX_ELECTIONS_PER_IMBALANCE == 1000
