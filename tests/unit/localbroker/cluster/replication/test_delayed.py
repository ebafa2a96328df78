"""DelayedProduces: acks=all answers as Kafka's DelayedProduce gives them."""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode

from localbroker.cluster.partitions import BrokerRegistration, PartitionRegistration
from localbroker.cluster.replication.delayed import Callback, DelayedProduces
from localbroker.cluster.replication.leader import LeaderPartition

T0 = 1_000_000


def waiting(
    isr: tuple[int, ...] = (0, 1), *, min_isr: int = 2
) -> tuple[LeaderPartition, DelayedProduces, dict[str, ErrorCode]]:
    partition = LeaderPartition(
        0,
        PartitionRegistration((0, 1, 2), isr, 0, 1, 1),
        log_end_offset=10,
        high_watermark=10,
        min_insync_replicas=min_isr,
        brokers={b: BrokerRegistration(b, 1, (), None, False) for b in (0, 1, 2)},
        now_ms=T0,
    )
    return partition, DelayedProduces(partition), {}


def answer(answers: dict[str, ErrorCode], name: str) -> Callback:
    return lambda error: answers.__setitem__(name, error)


def test_a_produce_completes_when_the_high_watermark_passes_its_last_offset() -> None:
    partition, delayed, answers = waiting()
    partition.appended(15, T0)
    delayed.add(11, T0 + 30_000, answer(answers, "a"))  # offsets 10..11
    delayed.add(14, T0 + 30_000, answer(answers, "b"))  # offsets 12..14
    partition.follower_fetched(1, 11, 0, T0 + 10)  # holds 10 only
    delayed.try_complete()
    assert answers == {}
    partition.follower_fetched(1, 12, 0, T0 + 20)
    delayed.try_complete()
    assert answers == {"a": ErrorCode.none}
    partition.follower_fetched(1, 15, 0, T0 + 30)
    delayed.try_complete()
    assert answers == {"a": ErrorCode.none, "b": ErrorCode.none}
    assert len(delayed) == 0


def test_a_produce_already_replicated_completes_at_once() -> None:
    _, delayed, answers = waiting()
    delayed.add(9, T0 + 30_000, answer(answers, "a"))
    assert answers == {"a": ErrorCode.none}


def test_an_isr_below_min_isr_at_completion_is_not_enough_replicas_after_append() -> None:
    """Kafka checks min.insync.replicas when the produce completes: here the ISR shrank
    between the HW moving and the purgatory being checked."""
    partition, delayed, answers = waiting((0, 1))
    partition.appended(12, T0)
    delayed.add(11, T0 + 30_000, answer(answers, "a"))
    partition.follower_fetched(1, 12, 0, T0 + 10)
    partition.update(PartitionRegistration((0, 1, 2), (0,), 0, 1, 2), T0 + 20)
    delayed.try_complete()
    assert answers == {"a": ErrorCode.not_enough_replicas_after_append}


@pytest.mark.parametrize(
    ("now_ms", "timed_out"),
    [(T0 + 499, set()), (T0 + 500, {"a"}), (T0 + 1_000, {"a", "b"})],
)
def test_produces_time_out_at_their_deadline(now_ms: int, timed_out: set[str]) -> None:
    partition, delayed, answers = waiting()
    partition.appended(20, T0)
    delayed.add(12, T0 + 1_000, answer(answers, "b"))
    delayed.add(15, T0 + 500, answer(answers, "a"))
    assert delayed.next_deadline() == T0 + 500
    delayed.expire(now_ms)
    assert answers == dict.fromkeys(timed_out, ErrorCode.request_timed_out)
    assert len(delayed) == 2 - len(timed_out)


def test_losing_leadership_fails_every_waiting_produce() -> None:
    partition, delayed, answers = waiting()
    partition.appended(20, T0)
    delayed.add(12, T0 + 1_000, answer(answers, "a"))
    delayed.add(15, T0 + 500, answer(answers, "b"))
    delayed.leadership_lost()
    assert answers == dict.fromkeys("ab", ErrorCode.not_leader_or_follower)
    delayed.expire(T0 + 10_000)
    delayed.try_complete()
    assert answers == dict.fromkeys("ab", ErrorCode.not_leader_or_follower)
    assert delayed.next_deadline() is None


def test_a_produce_that_starts_waiting_after_leadership_was_lost_fails_at_once() -> None:
    """A produce appended while this broker led may reach its wait only after the metadata
    moved leadership (the handler awaited other partitions' appends meanwhile): it fails
    now, as Kafka's DelayedProduce does when tryCompleteElseWatch finds no leader, instead
    of waiting on a partition nobody completes until its timeout (a CI failure)."""
    partition, delayed, answers = waiting()
    partition.appended(20, T0)
    delayed.leadership_lost()
    delayed.add(12, T0 + 1_000, answer(answers, "late"))
    assert answers == {"late": ErrorCode.not_leader_or_follower}
    assert delayed.next_deadline() is None


def test_a_completed_produce_does_not_time_out_later() -> None:
    partition, delayed, answers = waiting()
    partition.appended(20, T0)
    delayed.add(12, T0 + 500, answer(answers, "a"))
    partition.follower_fetched(1, 20, 0, T0 + 10)
    delayed.try_complete()
    delayed.expire(T0 + 500)
    assert answers == {"a": ErrorCode.none}
    assert delayed.next_deadline() is None
