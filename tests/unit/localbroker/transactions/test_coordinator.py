"""The transaction coordinator without a broker: epochs, fencing, the transaction's states and
what is stored, with Kafka's error codes (TransactionCoordinator, TransactionMetadata)."""

from __future__ import annotations

from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from transaction_records import RecordedStore

from localbroker.errors import KafkaError
from localbroker.protocol.names import TransactionState
from localbroker.transactions.coordinator import EndResult, TransactionCoordinator
from localbroker.transactions.metadata import (
    MAX_PRODUCER_EPOCH,
    PendingOffset,
)

MAX_TIMEOUT = 900_000
TIMEOUT = 60_000
NOW = 1_700_000_000_000
TID = "tx"
TP = ("t", 0)


@pytest.fixture
def stored() -> RecordedStore:
    return RecordedStore()


@pytest.fixture
def coordinator(stored: RecordedStore) -> TransactionCoordinator:
    ids = iter(range(1000, 2000))
    return TransactionCoordinator(MAX_TIMEOUT, lambda: next(ids), stored)


def init(coordinator: TransactionCoordinator, expected: tuple[int, int] | None = None) -> Any:
    return coordinator.init_producer_id(TID, TIMEOUT, expected, NOW)


def test_each_init_bumps_the_epoch_of_the_same_producer_id(
    coordinator: TransactionCoordinator,
) -> None:
    first = init(coordinator)
    second = init(coordinator)
    assert (first.error, first.producer_id, first.producer_epoch) == (ErrorCode.none, 1000, 0)
    assert (second.error, second.producer_id, second.producer_epoch) == (ErrorCode.none, 1000, 1)


@pytest.mark.parametrize("timeout", [0, -1, MAX_TIMEOUT + 1])
def test_a_timeout_beyond_the_maximum_is_refused(
    coordinator: TransactionCoordinator, timeout: int
) -> None:
    result = coordinator.init_producer_id(TID, timeout, None, NOW)
    assert result.error == ErrorCode.invalid_transaction_timeout
    assert coordinator.transactions == {}


def test_an_empty_transactional_id_is_an_invalid_request(
    coordinator: TransactionCoordinator,
) -> None:
    assert coordinator.init_producer_id("", TIMEOUT, None, NOW).error == ErrorCode.invalid_request


def test_the_old_epoch_is_fenced_everywhere(coordinator: TransactionCoordinator) -> None:
    old = init(coordinator)
    new = init(coordinator)
    pid = old.producer_id
    assert coordinator.add_partitions(TID, pid, old.producer_epoch, [TP], NOW) == (
        ErrorCode.producer_fenced
    )
    assert coordinator.end(TID, pid, old.producer_epoch, True, NOW) == EndResult(
        ErrorCode.producer_fenced
    )
    assert coordinator.verify(TID, pid, old.producer_epoch, TP) == ErrorCode.producer_fenced
    assert coordinator.add_partitions(TID, pid, new.producer_epoch, [TP], NOW) == ErrorCode.none
    assert coordinator.add_partitions(TID, pid + 1, new.producer_epoch, [TP], NOW) == (
        ErrorCode.invalid_producer_id_mapping
    )


def test_commit_is_decided_then_completed(coordinator: TransactionCoordinator) -> None:
    producer = init(coordinator)
    pid, epoch = producer.producer_id, producer.producer_epoch
    assert coordinator.verify(TID, pid, epoch, TP) == ErrorCode.transaction_abortable
    coordinator.add_partitions(TID, pid, epoch, [TP, ("t", 1)], NOW)
    assert coordinator.verify(TID, pid, epoch, TP) == ErrorCode.none
    ended = coordinator.end(TID, pid, epoch, True, NOW)
    completion = ended.completion
    assert ended.error == ErrorCode.none and completion is not None
    assert completion.commit and completion.partitions == {TP, ("t", 1)}
    assert coordinator.transactions[TID].state == TransactionState.PREPARE_COMMIT
    assert coordinator.in_doubt() == [completion]
    # while the markers are written, the producer must wait
    assert coordinator.end(TID, pid, epoch, True, NOW) == EndResult(
        ErrorCode.concurrent_transactions
    )
    assert init(coordinator).error == ErrorCode.concurrent_transactions
    coordinator.completed(completion, NOW)
    assert coordinator.transactions[TID].state == TransactionState.COMPLETE_COMMIT
    assert coordinator.transactions[TID].partitions == set()
    assert coordinator.end(TID, pid, epoch, True, NOW) == EndResult(ErrorCode.none)  # a retry
    assert coordinator.end(TID, pid, epoch, False, NOW) == EndResult(ErrorCode.invalid_txn_state)


def test_ending_without_a_transaction_is_an_invalid_state(
    coordinator: TransactionCoordinator,
) -> None:
    producer = init(coordinator)
    assert coordinator.end(TID, producer.producer_id, producer.producer_epoch, False, NOW) == (
        EndResult(ErrorCode.invalid_txn_state)
    )


def test_init_aborts_an_ongoing_transaction_with_a_fencing_epoch(
    coordinator: TransactionCoordinator,
) -> None:
    zombie = init(coordinator)
    coordinator.add_partitions(TID, zombie.producer_id, zombie.producer_epoch, [TP], NOW)
    fencing = init(coordinator)
    assert fencing.error == ErrorCode.concurrent_transactions
    assert fencing.abort is not None and not fencing.abort.commit
    assert fencing.abort.producer_epoch == zombie.producer_epoch + 1
    coordinator.completed(fencing.abort, NOW)
    retried = init(coordinator)
    assert (retried.error, retried.producer_epoch) == (ErrorCode.none, zombie.producer_epoch + 2)


def test_an_exhausted_epoch_takes_a_new_producer_id(coordinator: TransactionCoordinator) -> None:
    first = init(coordinator)
    coordinator.transactions[TID].producer_epoch = MAX_PRODUCER_EPOCH - 1
    rotated = init(coordinator)
    assert (rotated.producer_id, rotated.producer_epoch) != (first.producer_id, MAX_PRODUCER_EPOCH)
    assert rotated.producer_id != first.producer_id and rotated.producer_epoch == 0


def test_kip_360_recovery_with_the_current_epoch_bumps_it(
    coordinator: TransactionCoordinator,
) -> None:
    producer = init(coordinator)
    pid, epoch = producer.producer_id, producer.producer_epoch
    bumped = init(coordinator, (pid, epoch))
    assert (bumped.error, bumped.producer_epoch) == (ErrorCode.none, epoch + 1)
    retry = init(coordinator, (pid, epoch))  # the answer was lost: the same epoch again
    assert (retry.error, retry.producer_epoch) == (ErrorCode.none, epoch + 1)
    assert init(coordinator, (pid + 7, epoch)).error == ErrorCode.producer_fenced


def test_offsets_are_staged_for_added_groups_only(coordinator: TransactionCoordinator) -> None:
    producer = init(coordinator)
    pid, epoch = producer.producer_id, producer.producer_epoch
    offset = {TP: PendingOffset(5, -1, "")}
    assert coordinator.stage_offsets(TID, pid, epoch, "g", offset, NOW) == (
        ErrorCode.transaction_abortable
    )
    assert coordinator.add_offsets(TID, pid, epoch, "g", NOW) == ErrorCode.none
    assert coordinator.stage_offsets(TID, pid, epoch, "g", offset, NOW) == ErrorCode.none
    assert coordinator.has_pending_offset("g", TP)
    assert not coordinator.has_pending_offset("other", TP)
    completion = coordinator.end(TID, pid, epoch, True, NOW).completion
    assert completion is not None and completion.offsets == {"g": offset}
    coordinator.completed(completion, NOW)
    assert not coordinator.has_pending_offset("g", TP)


def test_a_change_that_cannot_be_stored_is_not_made(
    coordinator: TransactionCoordinator, stored: RecordedStore
) -> None:
    producer = init(coordinator)
    stored.fail = True
    with pytest.raises(KafkaError):
        coordinator.add_partitions(TID, producer.producer_id, producer.producer_epoch, [TP], NOW)
    assert coordinator.transactions[TID].state == TransactionState.EMPTY
    assert coordinator.transactions[TID].partitions == set()


def test_the_stored_state_restores_a_decided_end(
    coordinator: TransactionCoordinator, stored: RecordedStore
) -> None:
    producer = init(coordinator)
    pid, epoch = producer.producer_id, producer.producer_epoch
    coordinator.add_partitions(TID, pid, epoch, [TP], NOW)
    coordinator.add_offsets(TID, pid, epoch, "g", NOW)
    coordinator.stage_offsets(TID, pid, epoch, "g", {TP: PendingOffset(9, 2, "m")}, NOW)
    decided = coordinator.end(TID, pid, epoch, False, NOW).completion
    restarted = TransactionCoordinator(MAX_TIMEOUT, lambda: 0, stored)
    restarted.load(stored.latest().values())
    assert restarted.in_doubt() == [decided]


def test_a_transaction_past_its_timeout_is_aborted_and_fenced(
    coordinator: TransactionCoordinator,
) -> None:
    producer = init(coordinator)
    pid, epoch = producer.producer_id, producer.producer_epoch
    coordinator.add_partitions(TID, pid, epoch, [TP], NOW)
    assert coordinator.timed_out(NOW + TIMEOUT) == []
    (abort,) = coordinator.timed_out(NOW + TIMEOUT + 1)
    assert not abort.commit and abort.producer_epoch == epoch + 1
    coordinator.completed(abort, NOW)
    assert coordinator.end(TID, pid, epoch, True, NOW).error == ErrorCode.producer_fenced


def test_idle_ids_without_a_transaction_expire(
    coordinator: TransactionCoordinator, stored: RecordedStore
) -> None:
    producer = init(coordinator)
    busy = coordinator.init_producer_id("busy", TIMEOUT, None, NOW)
    coordinator.add_partitions("busy", busy.producer_id, busy.producer_epoch, [TP], NOW)
    assert coordinator.expire(NOW + 99, 100) == []
    assert coordinator.expire(NOW + 100, 100) == [TID]  # an open transaction never expires
    assert set(coordinator.transactions) == {"busy"}
    assert list(stored.latest()) == ["busy"]
    again = init(coordinator)
    assert again.producer_id != producer.producer_id and again.producer_epoch == 0


def test_ids_move_in_and_out_with_their_partition(
    coordinator: TransactionCoordinator, stored: RecordedStore
) -> None:
    """Cluster mode: a broker that comes to lead a `__transaction_state` partition takes on
    its ids beside those it holds (the same producer id and epoch, bumped by the next
    InitProducerId), and forgets them when it stops leading."""
    moved = TransactionCoordinator(MAX_TIMEOUT, lambda: 0, stored)
    first = moved.init_producer_id("moved", TIMEOUT, None, NOW)
    init(coordinator)
    coordinator.load([stored.latest()["moved"]])
    assert set(coordinator.transactions) == {TID, "moved"}
    again = coordinator.init_producer_id("moved", TIMEOUT, None, NOW)
    assert (again.producer_id, again.producer_epoch) == (first.producer_id, 1)
    coordinator.unload(lambda transactional_id: transactional_id == "moved")
    assert set(coordinator.transactions) == {TID}


def test_an_id_another_broker_coordinates_is_not_coordinator(stored: RecordedStore) -> None:
    """Cluster mode: a broker that does not lead the id's `__transaction_state` partition
    answers NOT_COORDINATOR and stores nothing, so the client finds the coordinator again."""
    owning = {"yes": True}
    ids = iter(range(1000, 2000))
    coordinator = TransactionCoordinator(
        MAX_TIMEOUT, lambda: next(ids), stored, owns=lambda _: owning["yes"]
    )
    started = init(coordinator)
    owning["yes"] = False
    pid, epoch = started.producer_id, started.producer_epoch
    written = len(stored.records)

    assert init(coordinator).error == ErrorCode.not_coordinator
    assert coordinator.add_partitions(TID, pid, epoch, [TP], NOW) == ErrorCode.not_coordinator
    assert coordinator.add_offsets(TID, pid, epoch, "g", NOW) == ErrorCode.not_coordinator
    assert coordinator.end(TID, pid, epoch, True, NOW).error == ErrorCode.not_coordinator
    assert coordinator.describe(TID) == ErrorCode.not_coordinator
    assert len(stored.records) == written
