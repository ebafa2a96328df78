"""Whatever brokers do, the controller keeps every partition's registration sound.

Random runs of heartbeats, fencing, expired sessions, restarts, ISR changes from leaders,
preferred elections and reassignments (and their cancelling), with and without unclean
leader election; after each committed step every partition must hold the rules Kafka's
controller keeps (ISR within the replicas and never empty, a leader only from the live ISR
(any live replica when unclean), a leaderless partition only when no broker could lead it,
epochs that never go back and a leader epoch that rises with every new leader and whenever
replicas go; replicas being added and removed among the replicas, never both, and a move
completed by the first change whose ISR holds its target, except the ISR an unclean election
sets, as in Kafka's PartitionChangeBuilder).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localbroker.cluster.controller import ControllerResult
from localbroker.cluster.partition_change import Election
from localbroker.cluster.partition_control import IsrUpdate
from localbroker.cluster.partitions import NO_LEADER, PartitionRegistration
from localbroker.cluster.reassignment import Assignment
from localbroker.cluster.reassignment_control import ReassignmentTarget, alter_reassignments
from localbroker.cluster.topic_control import NewTopic

BROKERS = 4
PARTITIONS = 6

broker_ids = st.integers(0, BROKERS - 1)
partitions = st.integers(0, PARTITIONS - 1)
actions = st.one_of(
    st.tuples(st.just("beat"), broker_ids),
    st.tuples(st.just("fence"), broker_ids),
    st.tuples(st.just("restart"), broker_ids),
    st.tuples(st.just("replace"), broker_ids),
    st.tuples(st.just("expire"), st.frozensets(broker_ids)),
    st.tuples(st.just("isr"), partitions, st.frozensets(broker_ids)),
    st.tuples(st.just("preferred"), partitions),
    st.tuples(st.just("reassign"), partitions, st.lists(broker_ids, max_size=3, unique=True)),
    st.tuples(st.just("cancel"), partitions),
)


def _step(cluster: Any, action: tuple[Any, ...]) -> None:
    kind, arg, *rest = action
    if kind == "beat":
        cluster.heartbeat(arg)
    elif kind == "fence":
        cluster.heartbeat(arg, want_fence=True)
    elif kind == "restart":  # registers again while its registration is live
        cluster.register(arg)
    elif kind == "replace":  # shuts down, and another process takes its id
        cluster.heartbeat(arg, want_shut_down=True)
        cluster.now += 1
        cluster.register(arg, incarnation=100 + cluster.now)
    elif kind == "expire":
        cluster.expire(*arg)
    elif kind == "isr":
        current = cluster.part("orders", arg)
        if current.leader != NO_LEADER:
            update = IsrUpdate(
                cluster.image.topics["orders"].topic_id,
                arg,
                current.leader_epoch,
                current.partition_epoch,
                tuple(sorted(rest[0] | {current.leader})),
            )
            cluster.commit(
                cluster.controller.alter_partition(
                    current.leader, cluster.epochs[current.leader], [update]
                )
            )
    elif kind in ("reassign", "cancel"):
        replicas = tuple(rest[0]) if kind == "reassign" else None
        records, _ = alter_reassignments(
            cluster.image,
            [ReassignmentTarget("orders", arg, replicas)],
            cluster.controller.unclean_leader_election,
        )
        cluster.commit(ControllerResult(records, None))
    else:
        cluster.commit(cluster.controller.elect_leaders(Election.PREFERRED, {"orders": [arg]}))


def _check(
    cluster: Any, before: PartitionRegistration, after: PartitionRegistration, unclean: bool
) -> None:
    image = cluster.image
    assert after.isr and len(set(after.isr)) == len(after.isr)
    assert set(after.isr) <= set(after.replicas)
    if after.leader == NO_LEADER:
        # a move's new replicas lead only once in sync (a reassignment elects cleanly)
        moved = [r for r in after.replicas if r not in after.adding_replicas]
        candidates = moved if unclean else after.isr
        assert not any(image.is_active(r) for r in candidates), after
    else:
        assert image.is_active(after.leader), after
        assert after.leader in after.isr
    if any(not image.is_active(r) for r in after.isr):
        assert len(after.isr) == 1, after  # only a last member stays when fenced
    assert after.partition_epoch >= before.partition_epoch
    assert after.leader_epoch >= before.leader_epoch
    if after.leader != before.leader or not set(before.replicas) <= set(after.replicas):
        assert after.leader_epoch > before.leader_epoch
    adding, removing = set(after.adding_replicas), set(after.removing_replicas)
    assert adding | removing <= set(after.replicas) and not adding & removing, after
    assert set(after.replicas) - removing, after
    if not unclean:  # Kafka completes before it elects: an unclean ISR waits for the next
        assert Assignment.of(after).completed(after.isr) is None, after


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.booleans(), st.lists(actions, max_size=25))
def test_every_partition_stays_sound(
    cluster_of: Callable[..., Any], unclean: bool, steps: list[tuple[Any, ...]]
) -> None:
    cluster = cluster_of(BROKERS, unclean_leader_election=unclean)
    topic = NewTopic("orders", num_partitions=PARTITIONS, replication_factor=3)
    cluster.commit(cluster.controller.create_topics([topic]))
    for action in steps:
        before = [cluster.part("orders", p) for p in range(PARTITIONS)]
        _step(cluster, action)
        for p in range(PARTITIONS):
            _check(cluster, before[p], cluster.part("orders", p), unclean)
