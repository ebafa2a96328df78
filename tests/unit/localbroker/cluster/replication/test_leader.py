"""LeaderPartition: follower tracking, the high watermark and ISR proposals, by Kafka's rules."""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode

from localbroker.cluster.partitions import BrokerRegistration, PartitionRegistration
from localbroker.cluster.replication.leader import (
    ACKS_ALL,
    IsrProposal,
    LeaderPartition,
)
from localbroker.errors import KafkaError

LAG_MS = 30_000
BROKER_EPOCH = 50


def brokers(*fenced: int) -> dict[int, BrokerRegistration]:
    """Brokers 0, 1 and 2, registered in BROKER_EPOCH; `fenced` ones fenced."""
    return {b: BrokerRegistration(b, BROKER_EPOCH, (), None, b in fenced) for b in (0, 1, 2)}


T0 = 1_000_000
"""Leadership starts here: far enough from 0, the lag clock of a follower outside the ISR."""


def registration(
    isr: tuple[int, ...] = (0, 1, 2),
    leader_epoch: int = 3,
    partition_epoch: int = 7,
    replicas: tuple[int, ...] = (0, 1, 2),
) -> PartitionRegistration:
    return PartitionRegistration(replicas, isr, 0, leader_epoch, partition_epoch)


def leader(
    isr: tuple[int, ...] = (0, 1, 2),
    *,
    leo: int = 10,
    hw: int = 10,
    min_isr: int = 1,
    replicas: tuple[int, ...] = (0, 1, 2),
) -> LeaderPartition:
    return LeaderPartition(
        0,
        registration(isr, replicas=replicas),
        log_end_offset=leo,
        high_watermark=hw,
        min_insync_replicas=min_isr,
        brokers=brokers(),
        now_ms=T0,
        replica_lag_time_max_ms=LAG_MS,
    )


def test_high_watermark_is_the_smallest_log_end_offset_over_the_isr() -> None:
    partition = leader()
    partition.appended(20, T0)
    assert partition.high_watermark == 10  # no follower has fetched in this epoch yet
    assert partition.follower_fetched(1, 15, 0, T0 + 100) == (False, None)
    moved, _ = partition.follower_fetched(2, 18, 0, T0 + 100)
    assert moved and partition.high_watermark == 15
    moved, _ = partition.follower_fetched(1, 20, 0, T0 + 200)
    assert moved and partition.high_watermark == 18


def test_high_watermark_never_moves_backwards() -> None:
    partition = leader(leo=30, hw=25)
    partition.follower_fetched(1, 12, 0, T0 + 100)
    partition.follower_fetched(2, 30, 0, T0 + 100)
    assert partition.high_watermark == 25


@pytest.mark.parametrize(
    ("replicas", "isr", "min_isr", "high_watermark"),
    [
        ((0, 1, 2), (0, 1, 2), 2, 12),
        ((0, 1, 2), (0, 1), 2, 12),
        ((0, 1, 2), (0,), 2, 10),  # under min ISR: the HW stays (KIP-966)
        ((0,), (0,), 2, 12),  # min.insync.replicas above the replication factor counts as 1
    ],
)
def test_high_watermark_stays_while_under_min_isr(
    replicas: tuple[int, ...], isr: tuple[int, ...], min_isr: int, high_watermark: int
) -> None:
    partition = leader(isr, min_isr=min_isr, replicas=replicas)
    partition.appended(12, T0)
    for follower in isr[1:]:
        partition.follower_fetched(follower, 12, 0, T0 + 100)
    assert partition.high_watermark == high_watermark


def test_a_caught_up_follower_outside_the_isr_holds_the_high_watermark() -> None:
    """Kafka waits for a follower about to join, so that it can ever catch up."""
    partition = leader((0, 1))
    partition.follower_fetched(1, 10, 0, T0 + 100)
    partition.follower_fetched(2, 10, 0, T0 + 100)  # caught up: joins, and is waited for
    partition.proposal_failed()
    partition.appended(20, T0 + 200)
    partition.follower_fetched(1, 20, 0, T0 + 300)
    assert partition.high_watermark == 10
    # follower 2 stops fetching: once it lags, the HW no longer waits for it
    partition.appended(21, T0 + 100 + LAG_MS)
    assert partition.high_watermark == 10
    partition.appended(22, T0 + 101 + LAG_MS)
    assert partition.high_watermark == 20


def test_a_lagging_follower_outside_the_isr_does_not_hold_a_new_leaders_high_watermark() -> None:
    """A new leader starts the lag clock of followers outside the ISR at 0 (Kafka's
    resetReplicaState): one that fetches behind is not waited for."""
    partition = leader((0, 1), leo=20, hw=10)
    partition.follower_fetched(2, 5, 0, T0 + 100)
    partition.follower_fetched(1, 20, 0, T0 + 100)
    assert partition.high_watermark == 20


def test_a_fenced_follower_outside_the_isr_does_not_hold_the_high_watermark() -> None:
    partition = leader((0, 1))
    partition.brokers = brokers(2)
    assert partition.follower_fetched(2, 10, 0, T0 + 100) == (False, None)
    partition.appended(20, T0 + 200)
    partition.follower_fetched(1, 20, 0, T0 + 300)
    assert partition.high_watermark == 20


@pytest.mark.parametrize(
    ("events", "now_ms", "lagging"),
    [
        ([], T0 + LAG_MS, set()),  # the ISR's clocks start at leadership
        ([], T0 + 1 + LAG_MS, {1, 2}),
        (
            [(1, 20, T0 + 4_000)],
            T0 + 4_000 + LAG_MS,
            {2},
        ),  # fetched from the leader's LEO: caught up
        ([(1, 19, T0 + 4_000)], T0 + 1 + LAG_MS, {1, 2}),  # one short of the LEO: not
        # fetched from the LEO the leader had at its previous fetch: caught up back then
        ([(1, 15, T0 + 3_000), (0, 25, T0 + 4_000), (1, 20, T0 + 5_000)], T0 + 3_000 + LAG_MS, {2}),
        (
            [(1, 15, T0 + 3_000), (0, 25, T0 + 4_000), (1, 20, T0 + 5_000)],
            T0 + 3_001 + LAG_MS,
            {1, 2},
        ),
        ([(1, 15, T0 + 3_000), (0, 25, T0 + 4_000), (1, 18, T0 + 5_000)], T0 + 1 + LAG_MS, {1, 2}),
    ],
)
def test_followers_out_of_sync_after_replica_lag_time_max_ms(
    events: list[tuple[int, int, int]], now_ms: int, lagging: set[int]
) -> None:
    """Events are fetches (broker, offset, time), or the leader's appends as broker 0."""
    partition = leader(leo=20)
    for broker_id, offset, at_ms in events:
        if broker_id == 0:
            partition.appended(offset, at_ms)
        else:
            partition.follower_fetched(broker_id, offset, 0, at_ms)
    assert partition.out_of_sync(now_ms) == lagging
    proposal = partition.maybe_shrink_isr(now_ms)
    expected = tuple(r for r in (0, 1, 2) if r not in lagging)
    assert proposal == (IsrProposal(expected, 3, 7) if lagging else None)


@pytest.mark.parametrize(
    ("fetch_offset", "epoch_start", "registered", "broker_epoch", "joins"),
    [
        (10, 10, brokers(), BROKER_EPOCH, True),
        (10, 10, brokers(), -1, True),  # a fetch without a broker epoch is not checked
        (9, 9, brokers(), BROKER_EPOCH, False),  # below the high watermark
        (10, 12, brokers(), BROKER_EPOCH, False),  # not past the start of this leader epoch
        (10, 10, brokers(2), BROKER_EPOCH, False),  # a fenced broker may not join
        (10, 10, brokers(), BROKER_EPOCH + 1, False),  # registered again since: wait for it
        (10, 10, {0: brokers()[0], 1: brokers()[1]}, BROKER_EPOCH, False),  # unregistered
    ],
)
def test_a_follower_rejoins_when_caught_up_to_the_high_watermark_in_this_epoch(
    fetch_offset: int,
    epoch_start: int,
    registered: dict[int, BrokerRegistration],
    broker_epoch: int,
    joins: bool,
) -> None:
    partition = leader((0, 1), leo=12, hw=10)
    partition.epoch_start_offset = epoch_start
    partition.brokers = registered
    _, proposal = partition.follower_fetched(2, fetch_offset, 0, T0 + 100, broker_epoch)
    assert proposal == (IsrProposal((0, 1, 2), 3, 7) if joins else None)


def test_one_proposal_at_a_time_and_the_isr_is_maximal_meanwhile() -> None:
    partition = leader((0, 1), leo=10, hw=10)
    _, proposal = partition.follower_fetched(2, 10, 0, T0 + 100)
    assert proposal is not None and partition.maximal_isr == {0, 1, 2}
    assert partition.isr == (0, 1)
    assert partition.out_of_sync(T0 + 10 * LAG_MS) == set()
    assert partition.update(registration((0, 1, 2), partition_epoch=8), T0 + 200) is False
    assert partition.pending is None and partition.isr == (0, 1, 2)


def test_a_stale_registration_is_ignored() -> None:
    partition = leader((0, 1))
    partition.update(registration((0, 1, 2), partition_epoch=6), T0 + 100)
    assert partition.isr == (0, 1)


def test_a_new_leader_epoch_resets_the_followers_clocks() -> None:
    partition = leader(leo=10)
    partition.appended(20, T0 + 1_000)
    partition.update(registration(leader_epoch=4, partition_epoch=8), T0 + 50_000)
    assert partition.epoch_start_offset == 20
    assert partition.out_of_sync(T0 + 50_000 + LAG_MS) == set()


def test_another_leader_is_not_leader_or_follower() -> None:
    partition = leader()
    with pytest.raises(KafkaError) as raised:
        partition.update(PartitionRegistration((0, 1, 2), (1, 2), 1, 4, 8), T0 + 100)
    assert raised.value.code == ErrorCode.not_leader_or_follower
    with pytest.raises(KafkaError) as raised:
        partition.follower_fetched(7, 10, 0, T0 + 100)
    assert raised.value.code == ErrorCode.not_leader_or_follower


def test_a_fetch_with_a_stale_broker_epoch_is_refused() -> None:
    """A broker that registered again since (it restarted) must not update the state its
    previous incarnation's fetches left."""
    partition = leader()
    with pytest.raises(KafkaError) as raised:
        partition.follower_fetched(1, 10, 0, T0 + 100, BROKER_EPOCH - 1)
    assert raised.value.code == ErrorCode.not_leader_or_follower
    assert "broker epoch=49 vs expected=50" in str(raised.value)
    assert partition.followers[1].log_end_offset == -1


@pytest.mark.parametrize(
    ("isr", "min_isr", "acks", "error"),
    [
        ((0, 1, 2), 2, ACKS_ALL, None),
        ((0,), 2, ACKS_ALL, ErrorCode.not_enough_replicas),
        ((0,), 2, 1, None),  # only acks=all asks for replicas
        ((0, 1), 2, ACKS_ALL, None),
    ],
)
def test_min_insync_replicas_before_append(
    isr: tuple[int, ...], min_isr: int, acks: int, error: ErrorCode | None
) -> None:
    partition = leader(isr, min_isr=min_isr)
    if error is None:
        partition.check_append(acks)
        return
    with pytest.raises(KafkaError) as raised:
        partition.check_append(acks)
    assert raised.value.code == error


@pytest.mark.parametrize(
    ("hw", "isr", "required", "answer"),
    [
        (10, (0, 1), 11, None),
        (11, (0, 1), 11, ErrorCode.none),
        (11, (0,), 11, ErrorCode.not_enough_replicas_after_append),
    ],
)
def test_acks_reached_checks_min_isr_at_completion(
    hw: int, isr: tuple[int, ...], required: int, answer: ErrorCode | None
) -> None:
    partition = leader(isr, leo=12, hw=hw, min_isr=2)
    assert partition.acks_reached(required) == answer
