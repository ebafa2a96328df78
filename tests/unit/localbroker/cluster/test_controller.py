"""The active controller's decisions about brokers and leaders, applied to an image."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from localbroker.cluster.controller import BrokerHeartbeatReply, BrokerHeartbeatRequest
from localbroker.cluster.partition_change import Election
from localbroker.cluster.partition_control import IsrUpdate, PartitionResult
from localbroker.cluster.partitions import NO_LEADER, PartitionRegistration
from localbroker.cluster.records import BrokerRegistrationChangeRecord, FencingChange
from localbroker.errors import KafkaError
from localbroker.protocol.names import ErrorCode

Make = Callable[..., Any]


def test_a_broker_stays_fenced_until_it_has_caught_up_with_its_registration(
    cluster_of: Make,
) -> None:
    """BrokerHeartbeatManager.calculateNextBrokerState: FENCED -> UNFENCED only once
    currentMetadataOffset >= the offset of the broker's RegisterBrokerRecord."""
    cluster = cluster_of(1)
    epoch = cluster.register(5)
    assert epoch == cluster.image.last_offset
    assert cluster.image.brokers[5].fenced
    reply = cluster.heartbeat(5, current_metadata_offset=epoch - 1)
    assert reply == BrokerHeartbeatReply(is_caught_up=False, is_fenced=True, should_shut_down=False)
    assert cluster.image.brokers[5].fenced
    reply = cluster.heartbeat(5, current_metadata_offset=epoch)
    assert reply == BrokerHeartbeatReply(is_caught_up=True, is_fenced=False, should_shut_down=False)
    assert [b.broker_id for b in cluster.image.live_brokers()] == [0, 5]


@pytest.mark.parametrize(
    ("broker_id", "epoch", "message"),
    [
        (0, 99, "Expected broker epoch 0, but got broker epoch 99"),
        (7, 1, "No broker registration found for broker id 7"),
    ],
)
def test_a_heartbeat_with_another_broker_epoch_is_stale(
    cluster_of: Make, broker_id: int, epoch: int, message: str
) -> None:
    """ClusterControlManager.checkBrokerEpoch."""
    cluster = cluster_of(1)
    with pytest.raises(KafkaError) as refused:
        cluster.heartbeat(broker_id, broker_epoch=epoch)
    assert (refused.value.code, refused.value.message) == (ErrorCode.stale_broker_epoch, message)


def test_another_process_cannot_take_a_broker_id_whose_session_is_alive(cluster_of: Make) -> None:
    """ClusterControlManager.registerBroker: DUPLICATE_BROKER_REGISTRATION while the
    registered incarnation has a valid session; its own restart may register again."""
    cluster = cluster_of(2)
    with pytest.raises(KafkaError) as refused:
        cluster.register(1, incarnation=99)
    assert refused.value.code is ErrorCode.duplicate_broker_registration
    assert refused.value.message == "Another broker is registered with that broker id."
    cluster.now += cluster.controller.session_timeout_ms + 1
    assert cluster.register(1, incarnation=99) == cluster.image.last_offset


def test_a_broker_of_another_cluster_is_refused(cluster_of: Make) -> None:
    """ClusterControlManager.registerBroker checks the cluster id first."""
    cluster = cluster_of(1)
    with pytest.raises(KafkaError) as refused:
        cluster.register(1, cluster_id="other")
    assert refused.value.code is ErrorCode.inconsistent_cluster_id
    assert refused.value.message == (
        f"Expected cluster ID {cluster.controller.cluster_id}, but got cluster ID other"
    )
    assert 1 not in cluster.image.brokers


def test_a_fenced_broker_has_no_session_to_defend(cluster_of: Make) -> None:
    """BrokerHeartbeatManager.hasValidSession is false for a fenced broker."""
    cluster = cluster_of(2)
    cluster.heartbeat(1, want_fence=True)
    assert cluster.register(1, incarnation=99) == cluster.image.last_offset


def test_a_new_process_replacing_an_unfenced_broker_fences_the_old_one_first(
    cluster_of: Make,
) -> None:
    """Its session has run out but poll has not fenced it yet: the old incarnation leaves
    every ISR before the new one registers, fenced, in a new epoch."""
    cluster = cluster_of(2)
    cluster.create("orders", (1, 0))
    old_epoch = cluster.epochs[1]
    cluster.now += cluster.controller.session_timeout_ms + 1
    cluster.heartbeat(0)
    epoch = cluster.register(1, incarnation=99)
    assert epoch > old_epoch
    assert cluster.image.brokers[1].fenced and cluster.image.brokers[1].broker_epoch == epoch
    assert cluster.part("orders") == PartitionRegistration((1, 0), (0,), 0, 1, 1)


def test_the_same_process_registering_again_amends_its_registration(cluster_of: Make) -> None:
    """ClusterControlManager.registerBroker with the same incarnation id: "Amending
    registration ... Broker epoch remains" and so does its fencing."""
    cluster = cluster_of(2)
    cluster.create("orders", (1, 0))
    epoch = cluster.epochs[1]
    before = cluster.part("orders")
    assert cluster.register(1) == epoch
    assert not cluster.image.brokers[1].fenced and cluster.part("orders") == before
    fenced_epoch = cluster.register(5)
    assert cluster.register(5) == fenced_epoch
    reply = cluster.heartbeat(5, current_metadata_offset=fenced_epoch)
    assert (reply.is_caught_up, reply.is_fenced) == (False, True)  # not yet at the amendment
    reply = cluster.heartbeat(5, current_metadata_offset=cluster.image.last_offset)
    assert (reply.is_caught_up, reply.is_fenced) == (True, False)


def test_an_expired_session_fences_the_broker_and_moves_its_leaderships(cluster_of: Make) -> None:
    """handleBrokerFenced: out of every ISR, the first live ISR replica in replica order
    leads what it led; a partition it only followed keeps its leader epoch (an ISR
    shrink bumps only the partition epoch since KAFKA-15021)."""
    cluster = cluster_of(3)
    cluster.create("orders", (0, 2, 1), (1, 0, 2))
    assert cluster.expire(1, 2) == [0]
    assert cluster.image.brokers[0].fenced
    assert cluster.part("orders", 0) == PartitionRegistration((0, 2, 1), (2, 1), 2, 1, 1)
    assert cluster.part("orders", 1) == PartitionRegistration((1, 0, 2), (1, 2), 1, 0, 1)


def test_brokers_are_fenced_one_at_a_time_each_on_the_last_ones_image(cluster_of: Make) -> None:
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1, 2))
    assert cluster.controller.next_deadline() == cluster.controller.session_timeout_ms + 1
    assert cluster.expire(2) == [0, 1]
    assert cluster.part("orders") == PartitionRegistration((0, 1, 2), (2,), 2, 2, 2)
    assert (
        cluster.controller.next_deadline()
        == cluster.now + cluster.controller.session_timeout_ms + 1
    )


def test_without_a_live_isr_member_a_partition_has_no_leader_until_one_returns(
    cluster_of: Make,
) -> None:
    """The last ISR member stays in the ISR (PartitionChangeBuilder.build never empties it
    without ELR), and handleBrokerUnfenced makes it leader when it is unfenced again."""
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1))
    cluster.expire(0)
    assert cluster.part("orders") == PartitionRegistration((0, 1), (0,), 0, 0, 1)
    assert cluster.expire(1) == [0]
    assert cluster.part("orders") == PartitionRegistration((0, 1), (0,), NO_LEADER, 1, 2)
    assert cluster.image.partition("orders", 0).offline  # type: ignore[union-attr]
    cluster.heartbeat(0)
    assert cluster.part("orders") == PartitionRegistration((0, 1), (0,), 0, 2, 3)


@pytest.mark.parametrize(
    ("broker_default", "topic_config", "leader", "isr"),
    [
        (False, {}, NO_LEADER, (0,)),
        (True, {}, 1, (1,)),
        (False, {"unclean.leader.election.enable": "true"}, 1, (1,)),
        (True, {"unclean.leader.election.enable": "false"}, NO_LEADER, (0,)),
    ],
)
def test_an_unclean_election_happens_only_where_enabled(
    cluster_of: Make,
    broker_default: bool,
    topic_config: dict[str, str],
    leader: int,
    isr: tuple[int, ...],
) -> None:
    """PartitionChangeBuilder.electAnyLeader: UNCLEAN takes any live replica and cuts the
    ISR to it; the topic's unclean.leader.election.enable overrides the broker's."""
    cluster = cluster_of(2, unclean_leader_election=broker_default)
    cluster.create("orders", (0, 1), **topic_config)
    cluster.expire(0)
    cluster.expire(1)
    assert (cluster.part("orders").leader, cluster.part("orders").isr) == (leader, isr)


def test_a_broker_asking_to_shut_down_is_fenced_and_told_to(cluster_of: Make) -> None:
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1))
    reply = cluster.heartbeat(0, want_shut_down=True)
    assert reply == BrokerHeartbeatReply(is_caught_up=True, is_fenced=True, should_shut_down=True)
    assert cluster.part("orders").leader == 1


def _alter(cluster: Any, broker_id: int = 0, **update: Any) -> PartitionResult:
    current = cluster.part("orders")
    fields = {
        "topic_id": cluster.image.topics["orders"].topic_id,
        "partition": 0,
        "leader_epoch": current.leader_epoch,
        "partition_epoch": current.partition_epoch,
        "new_isr": current.isr,
    } | update
    result = cluster.controller.alter_partition(
        broker_id, cluster.epochs[broker_id], [IsrUpdate(**fields)]
    )
    (answer,) = cluster.commit(result)
    assert isinstance(answer, PartitionResult)
    return answer


def test_the_leader_shrinks_and_expands_the_isr(cluster_of: Make) -> None:
    cluster = cluster_of(3)
    cluster.create("orders", (0, 1, 2))
    shrunk = _alter(cluster, new_isr=(0, 2))
    assert shrunk.registration == PartitionRegistration((0, 1, 2), (0, 2), 0, 0, 1)
    assert cluster.part("orders") == shrunk.registration
    expanded = _alter(
        cluster, new_isr=(0, 2, 1), broker_epochs=tuple(cluster.epochs[b] for b in (0, 2, 1))
    )
    assert expanded.registration == PartitionRegistration((0, 1, 2), (0, 2, 1), 0, 0, 2)


@pytest.mark.parametrize(
    ("broker_id", "update", "error"),
    [
        (0, {"partition_epoch": -1}, ErrorCode.invalid_update_version),
        (0, {"leader_epoch": -1}, ErrorCode.fenced_leader_epoch),
        (0, {"leader_epoch": 9}, ErrorCode.not_controller),
        (0, {"partition_epoch": 9}, ErrorCode.not_controller),
        (1, {}, ErrorCode.invalid_request),
        (0, {"new_isr": (1, 2)}, ErrorCode.invalid_request),
        (0, {"new_isr": (0, 3)}, ErrorCode.invalid_request),
        (0, {"new_isr": (0, 0)}, ErrorCode.invalid_request),
        (0, {"new_isr": (0, 2)}, ErrorCode.ineligible_replica),
        (0, {"new_isr": (0, 1), "broker_epochs": (-1, 999)}, ErrorCode.ineligible_replica),
        (0, {"partition": 5}, ErrorCode.unknown_topic_or_partition),
        (0, {"topic_id": uuid.UUID(int=5)}, ErrorCode.unknown_topic_id),
    ],
)
def test_an_isr_change_kafka_would_refuse_is_refused(
    cluster_of: Make, broker_id: int, update: dict[str, Any], error: ErrorCode
) -> None:
    """ReplicationControlManager.validateAlterPartitionData, in its order: a newer epoch
    means a newer controller, a stale leader epoch FENCED_LEADER_EPOCH, only the leader,
    then a stale partition epoch INVALID_UPDATE_VERSION, an ISR within the replicas that
    holds the leader, and no fenced or re-registered broker (INELIGIBLE_REPLICA)."""
    cluster = cluster_of(4)
    cluster.create("orders", (0, 1, 2))
    cluster.heartbeat(2, want_fence=True)
    before = cluster.part("orders")
    answer = _alter(cluster, broker_id, **update)
    assert (answer.error, answer.registration) == (error, None)
    assert cluster.part("orders") == before


def test_an_isr_change_from_a_stale_broker_epoch_is_refused_whole(cluster_of: Make) -> None:
    """alterPartition starts with clusterControl.checkBrokerEpoch."""
    cluster = cluster_of(2)
    topic_id = cluster.create("orders", (0, 1))
    update = IsrUpdate(topic_id, 0, 0, 0, (0,))
    with pytest.raises(KafkaError) as refused:
        cluster.controller.alter_partition(0, cluster.epochs[1], [update])
    assert refused.value.code is ErrorCode.stale_broker_epoch


def test_the_preferred_replica_leads_again_once_it_is_back_in_the_isr(cluster_of: Make) -> None:
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1))
    cluster.expire(1)
    cluster.heartbeat(0)
    elect = cluster.controller.elect_leaders
    answers = cluster.commit(elect(Election.PREFERRED, {"orders": [0]}))
    assert _errors(answers)["orders"][0][0] is ErrorCode.preferred_leader_not_available
    _alter(cluster, broker_id=1, new_isr=(1, 0))
    assert cluster.commit(elect(Election.PREFERRED, {"orders": [0]})) == {"orders": {0: None}}
    assert cluster.part("orders") == PartitionRegistration((0, 1), (1, 0), 0, 2, 3)
    answers = cluster.commit(elect(Election.PREFERRED, {"orders": [0, 3], "x": [0]}))
    assert _errors(answers) == {
        "orders": {
            0: (ErrorCode.election_not_needed, "Leader election not needed for topic partition."),
            3: (ErrorCode.unknown_topic_or_partition, "No such partition as orders-3"),
        },
        "x": {0: (ErrorCode.unknown_topic_or_partition, "No such topic as x")},
    }


def test_an_election_of_all_partitions_lists_every_topic_but_not_what_needed_none(
    cluster_of: Make,
) -> None:
    """ReplicationControlManager.electLeaders with null topicPartitions: every topic, each
    with only the partitions elected or failed (no ELECTION_NOT_NEEDED)."""
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1), (1, 0))
    cluster.create("calm", (1, 0))
    cluster.create("quiet", (0, 1))
    cluster.expire(1)
    cluster.heartbeat(0)
    unavailable = (
        ErrorCode.preferred_leader_not_available,
        "The preferred leader was not available.",
    )
    answers = cluster.commit(cluster.controller.elect_leaders(Election.PREFERRED, None))
    assert _errors(answers) == {"calm": {}, "orders": {0: unavailable}, "quiet": {0: unavailable}}
    _alter(cluster, broker_id=1, new_isr=(1, 0))
    answers = cluster.commit(cluster.controller.elect_leaders(Election.PREFERRED, None))
    assert _errors(answers) == {"calm": {}, "orders": {0: None}, "quiet": {0: unavailable}}
    assert cluster.part("orders").leader == 0


def test_an_unclean_election_on_request_needs_a_leaderless_partition(cluster_of: Make) -> None:
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1))
    elect = cluster.controller.elect_leaders
    answers = cluster.commit(elect(Election.UNCLEAN, {"orders": [0]}))
    assert _errors(answers)["orders"][0][0] is ErrorCode.election_not_needed
    cluster.expire(0)
    cluster.expire(1)
    assert cluster.commit(elect(Election.UNCLEAN, {"orders": [0]})) == {"orders": {0: None}}
    assert cluster.part("orders") == PartitionRegistration((0, 1), (1,), 1, 2, 3)
    cluster.expire()
    assert _errors(cluster.commit(elect(Election.UNCLEAN, {"orders": [0]}))) == {
        "orders": {
            0: (
                ErrorCode.eligible_leaders_not_available,
                "Eligible topic partition leaders are not available.",
            )
        }
    }


def _errors(answers: dict[str, dict[int, KafkaError | None]]) -> dict[str, Any]:
    return {
        topic: {
            index: None if error is None else (error.code, error.message)
            for index, error in results.items()
        }
        for topic, results in answers.items()
    }


def test_fencing_writes_the_partition_changes_before_the_fence(cluster_of: Make) -> None:
    """handleBrokerFenced's order: a node that applies up to the fence has new leaders."""
    cluster = cluster_of(2)
    cluster.create("orders", (0, 1))
    result = cluster.controller.heartbeat(
        BrokerHeartbeatRequest(0, cluster.epochs[0], cluster.image.last_offset, want_fence=True),
        cluster.now,
    )
    assert result.records[-1] == BrokerRegistrationChangeRecord(
        0, cluster.epochs[0], FencingChange.FENCE
    )
    assert len(result.records) == 2


def test_producer_ids_are_handed_out_in_blocks_of_a_thousand(cluster_of: Make) -> None:
    """ProducerIdControlManager.generateNextProducerId: the block starts at the image's
    next producer id, and the ProducerIdsRecord moves it on by PRODUCER_ID_BLOCK_SIZE."""
    cluster = cluster_of(2)
    assert cluster.commit(cluster.controller.allocate_producer_ids(1, cluster.epochs[1])) == (
        0,
        1000,
    )
    assert cluster.commit(cluster.controller.allocate_producer_ids(0, cluster.epochs[0])) == (
        1000,
        1000,
    )
    assert cluster.image.next_producer_id == 2000
    with pytest.raises(KafkaError) as refused:
        cluster.controller.allocate_producer_ids(0, cluster.epochs[1])
    assert refused.value.code is ErrorCode.stale_broker_epoch
