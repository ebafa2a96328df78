"""Partition reassignment on the controller: the records AlterPartitionReassignments
writes, how an ISR change completes a move, cancelling, listing and Kafka's refusals
(ReplicationControlManager, PartitionReassignmentReplicas, PartitionReassignmentRevert)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from localbroker.cluster.controller import ControllerResult
from localbroker.cluster.partition_control import IsrUpdate, PartitionResult
from localbroker.cluster.partitions import PartitionRegistration
from localbroker.cluster.reassignment import Assignment
from localbroker.cluster.reassignment_control import (
    ReassignmentTarget,
    alter_reassignments,
    list_reassignments,
)
from localbroker.cluster.records import PartitionChangeRecord
from localbroker.errors import KafkaError
from localbroker.protocol.names import ErrorCode

Make = Callable[..., Any]


def _reassign(cluster: Any, *targets: ReassignmentTarget) -> list[KafkaError | None]:
    records, answers = alter_reassignments(cluster.image, targets, unclean_default=False)
    result: list[KafkaError | None] = cluster.commit(ControllerResult(records, answers))
    return result


def _move(cluster: Any, replicas: tuple[int, ...] | None, partition: int = 0) -> None:
    assert _reassign(cluster, ReassignmentTarget("orders", partition, replicas)) == [None]


def _isr(cluster: Any, leader: int, isr: Sequence[int]) -> PartitionResult:
    """The leader's AlterPartition to `isr`, committed."""
    current = cluster.part("orders")
    update = IsrUpdate(
        cluster.image.topics["orders"].topic_id,
        0,
        current.leader_epoch,
        current.partition_epoch,
        tuple(isr),
    )
    (answer,) = cluster.commit(
        cluster.controller.alter_partition(leader, cluster.epochs[leader], [update])
    )
    assert isinstance(answer, PartitionResult)
    return answer


def test_a_move_adds_the_target_first_and_completes_when_it_joins_the_isr(
    cluster_of: Make,
) -> None:
    """RF 1 from broker 0 to 2: 2 is added as a follower, 0 leads until 2 is in the ISR;
    that AlterPartition completes the move, 2 leads in a new epoch, and the old leader
    hears NEW_LEADER_ELECTED."""
    cluster = cluster_of(3)
    cluster.create("orders", (0,))
    _move(cluster, (2,))
    moving = cluster.part("orders")
    assert moving == PartitionRegistration(
        replicas=(2, 0),
        isr=(0,),
        leader=0,
        leader_epoch=0,
        partition_epoch=1,
        removing_replicas=(0,),
        adding_replicas=(2,),
    )
    assert list_reassignments(cluster.image, None) == {"orders": {0: moving}}
    answer = _isr(cluster, 0, (0, 2))
    assert answer.error is ErrorCode.new_leader_elected
    assert cluster.part("orders") == PartitionRegistration((2,), (2,), 2, 1, 2)
    assert list_reassignments(cluster.image, None) == {}


def test_adding_a_replica_keeps_the_leader_and_its_epoch(cluster_of: Make) -> None:
    """RF 2 -> 3: nothing is removed, so completing the move needs no new leader epoch."""
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1))
    _move(cluster, (0, 1, 2))
    assert cluster.part("orders").adding_replicas == (2,)
    assert cluster.part("orders").removing_replicas == ()
    answer = _isr(cluster, 0, (0, 1, 2))
    assert answer.error is ErrorCode.none
    assert cluster.part("orders") == PartitionRegistration((0, 1, 2), (0, 1, 2), 0, 0, 2)


def test_reordering_the_replicas_in_sync_completes_at_once(cluster_of: Make) -> None:
    """The ISR already holds every target replica: one record, the leader stays (a
    preferred-leader election is another request)."""
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1))
    records, _ = alter_reassignments(
        cluster.image, [ReassignmentTarget("orders", 0, (1, 0))], unclean_default=False
    )
    topic_id = cluster.image.topics["orders"].topic_id
    assert records == [PartitionChangeRecord(0, topic_id, replicas=(1, 0))]


def test_moving_off_a_follower_raises_the_leader_epoch(cluster_of: Make) -> None:
    """(0, 1) -> (0, 2): once 2 is in sync, 1 leaves replicas and ISR and the leader stays,
    in a new epoch (triggerLeaderEpochBumpForReplicaReassignmentIfNeeded)."""
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1))
    _move(cluster, (0, 2))
    assert cluster.part("orders").replicas == (0, 2, 1)
    assert _isr(cluster, 0, (0, 1, 2)).error is ErrorCode.none
    assert cluster.part("orders") == PartitionRegistration((0, 2), (0, 2), 0, 1, 2)


def test_cancelling_goes_back_to_the_replicas_before_the_move(cluster_of: Make) -> None:
    """The added replicas go; as in Kafka the others keep the order the move gave them
    (PartitionReassignmentReplicas.originalReplicas), and removing 2 raises the epoch."""
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1))
    _move(cluster, (1, 2))
    assert cluster.part("orders").replicas == (1, 2, 0)
    _move(cluster, None)
    assert cluster.part("orders") == PartitionRegistration((1, 0), (0, 1), 0, 1, 2)
    (refused,) = _reassign(cluster, ReassignmentTarget("orders", 0, None))
    assert refused is not None
    assert (refused.code, refused.message) == (ErrorCode.no_reassignment_in_progress, "")


def test_reverting_a_move_whose_isr_holds_only_added_replicas_is_unclean() -> None:
    """PartitionReassignmentRevert: the first original replica is put back in the ISR."""
    moving = Assignment((2, 3, 0, 1), adding=(2, 3), removing=(0, 1))
    assert moving.reverted((3, 2)) == (Assignment((0, 1)), (0,), True)
    assert moving.reverted((1, 3)) == (Assignment((0, 1)), (1,), False)


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        (
            ReassignmentTarget("orders", 0, ()),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes an empty replica list.",
        ),
        (
            ReassignmentTarget("orders", 0, (7, 0, 5)),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes broker 5, but no such broker is registered.",
        ),
        (
            ReassignmentTarget("orders", 0, (1, 2, 1)),
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes the broker 1 more than once.",
        ),
        (
            ReassignmentTarget("nothing", 0, (1,)),
            ErrorCode.unknown_topic_or_partition,
            "Unable to find a topic named nothing.",
        ),
        (
            ReassignmentTarget("orders", 3, (1,)),
            ErrorCode.unknown_topic_or_partition,
            "Unable to find partition orders:3.",
        ),
        (
            ReassignmentTarget("orders", 0, (0, 1, 2), allow_replication_factor_change=False),
            ErrorCode.invalid_replication_factor,
            "The replication factor is changed from 2 to 3",
        ),
    ],
)
def test_a_target_kafka_would_refuse_is_refused_alone(
    cluster_of: Make, target: ReassignmentTarget, error: ErrorCode, message: str
) -> None:
    """Each partition gets its own answer: the good one beside it still moves."""
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1))
    cluster.create("other", (0,))
    refused, accepted = _reassign(cluster, target, ReassignmentTarget("other", 0, (1,)))
    assert refused is not None
    assert (refused.code, refused.message) == (error, message)
    assert accepted is None
    assert cluster.part("orders").replicas == (0, 1)
    assert cluster.image.partition("other", 0).adding_replicas == (1,)  # type: ignore[union-attr]


def test_listing_names_only_partitions_under_way(cluster_of: Make) -> None:
    cluster = cluster_of(3)
    cluster.create("orders", (0,), (1,))
    _move(cluster, (2,), partition=1)
    moving = cluster.part("orders", 1)
    assert list_reassignments(cluster.image, [("orders", [0, 1, 7]), ("nothing", [0])]) == {
        "orders": {1: moving}
    }
    assert list_reassignments(cluster.image, [("orders", [0])]) == {}
