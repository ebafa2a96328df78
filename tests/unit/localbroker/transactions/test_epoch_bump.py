"""Transaction version 2 in the coordinator without a broker: EndTxn v5's epoch bump per end,
its retries, the producer id that replaces an exhausted epoch, and the aborts the coordinator
starts under level 2 (TransactionCoordinator.endTransaction, TransactionMetadata)."""

from __future__ import annotations

from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from transaction_records import RecordedStore

from localbroker.protocol.names import TransactionState
from localbroker.transactions.coordinator import EndResult, TransactionCoordinator
from localbroker.transactions.epoch_bump import EPOCH_BUMP_VERSION
from localbroker.transactions.metadata import MAX_PRODUCER_EPOCH

TIMEOUT = 60_000
NOW = 1_700_000_000_000
TID = "tx"
TP = ("t", 0)


@pytest.fixture
def coordinator() -> TransactionCoordinator:
    ids = iter(range(1000, 2000))
    return TransactionCoordinator(900_000, lambda: next(ids), RecordedStore(), EPOCH_BUMP_VERSION)


def started(coordinator: TransactionCoordinator) -> tuple[int, int]:
    """A producer of TID with a partition in its open transaction, added by Produce v12."""
    granted = coordinator.init_producer_id(TID, TIMEOUT, None, NOW)
    pid, epoch = granted.producer_id, granted.producer_epoch
    assert coordinator.add_partitions(TID, pid, epoch, [TP], NOW, EPOCH_BUMP_VERSION) == (
        ErrorCode.none
    )
    return pid, epoch


def end(coordinator: TransactionCoordinator, pid: int, epoch: int, commit: bool) -> EndResult:
    """EndTxn v5, the end carried out at once."""
    result = coordinator.end(TID, pid, epoch, commit, NOW, epoch_bump=True)
    if result.completion is not None:
        coordinator.completed(result.completion, NOW)
    return result


def answer(result: EndResult) -> Any:
    return result.error, result.producer_id, result.producer_epoch


def test_each_end_bumps_the_epoch_and_the_markers_carry_it(
    coordinator: TransactionCoordinator,
) -> None:
    pid, epoch = started(coordinator)
    result = end(coordinator, pid, epoch, True)
    assert answer(result) == (ErrorCode.none, pid, epoch + 1)
    assert result.completion is not None and result.completion.producer_epoch == epoch + 1
    metadata = coordinator.transactions[TID]
    assert (metadata.state, metadata.client_transaction_version) == (
        TransactionState.COMPLETE_COMMIT,
        EPOCH_BUMP_VERSION,
    )
    # a retry (the epoch one below) is answered with the current one; the old epoch may not
    # abort what it committed, and the new one finds nothing to commit
    assert answer(end(coordinator, pid, epoch, True)) == (ErrorCode.none, pid, epoch + 1)
    assert answer(end(coordinator, pid, epoch, False)) == (ErrorCode.invalid_txn_state, -1, -1)
    assert answer(end(coordinator, pid, epoch + 1, True))[0] == ErrorCode.invalid_txn_state
    assert answer(end(coordinator, pid, epoch - 1, True))[0] == ErrorCode.producer_fenced
    # an abort with nothing added is an end too
    assert answer(end(coordinator, pid, epoch + 1, False)) == (ErrorCode.none, pid, epoch + 2)


def test_an_exhausted_epoch_moves_to_a_new_producer_id(
    coordinator: TransactionCoordinator,
) -> None:
    pid, _ = started(coordinator)
    last = MAX_PRODUCER_EPOCH - 1
    coordinator.transactions[TID].producer_epoch = last
    result = end(coordinator, pid, last, True)
    assert answer(result) == (ErrorCode.none, 1001, 0)
    assert result.completion is not None
    assert (result.completion.producer_id, result.completion.producer_epoch) == (
        pid,
        MAX_PRODUCER_EPOCH,
    )
    # the retry of the old producer id's end is recognised and answered with the new one
    assert answer(end(coordinator, pid, last, True)) == (ErrorCode.none, 1001, 0)
    assert coordinator.add_partitions(TID, 1001, 0, [TP], NOW, EPOCH_BUMP_VERSION) == (
        ErrorCode.none
    )


def test_a_fence_under_version_2_keeps_the_epoch_before(
    coordinator: TransactionCoordinator,
) -> None:
    """Kafka aborts with its finalized level: the fenced producer's KIP-360 retry (its epoch
    as the expected one) gets the bumped epoch back instead of being fenced."""
    pid, epoch = started(coordinator)
    fenced = coordinator.init_producer_id(TID, TIMEOUT, (pid, epoch), NOW)
    assert fenced.error == ErrorCode.concurrent_transactions and fenced.abort is not None
    assert fenced.abort.producer_epoch == epoch + 1
    coordinator.completed(fenced.abort, NOW)
    retried = coordinator.init_producer_id(TID, TIMEOUT, (pid, epoch), NOW)
    assert (retried.error, retried.producer_epoch) == (ErrorCode.none, epoch + 1)


def test_a_timed_out_transaction_is_aborted_as_a_version_2_end(
    coordinator: TransactionCoordinator,
) -> None:
    _, epoch = started(coordinator)
    (abort,) = coordinator.timed_out(NOW + TIMEOUT + 1)
    assert abort.producer_epoch == epoch + 1
    assert coordinator.transactions[TID].last_producer_epoch == epoch


def test_a_decided_end_that_ran_out_of_epochs_survives_a_restart() -> None:
    """The new producer id is stored with the decision, so an end finished after a crash
    still moves to it."""
    stored = RecordedStore()
    ids = iter(range(1000, 2000))
    allocate = lambda: next(ids)  # noqa: E731
    coordinator = TransactionCoordinator(900_000, allocate, stored, EPOCH_BUMP_VERSION)
    pid, _ = started(coordinator)
    coordinator.transactions[TID].producer_epoch = MAX_PRODUCER_EPOCH - 1
    decided = coordinator.end(TID, pid, MAX_PRODUCER_EPOCH - 1, True, NOW, epoch_bump=True)
    assert decided.completion is not None
    restarted = TransactionCoordinator(900_000, lambda: 0, stored, EPOCH_BUMP_VERSION)
    restarted.load(stored.latest().values())
    (completion,) = restarted.in_doubt()
    restarted.completed(completion, NOW)
    metadata = restarted.transactions[TID]
    assert (metadata.producer_id, metadata.producer_epoch, metadata.previous_producer_id) == (
        1001,
        0,
        pid,
    )


def test_a_fence_at_the_highest_epoch_does_not_overflow(
    coordinator: TransactionCoordinator,
) -> None:
    """An epoch already at Short.MaxValue stays there (the next InitProducerId moves to a
    new producer id); bumping it would not fit the batches' 16 bits."""
    started(coordinator)
    coordinator.transactions[TID].producer_epoch = MAX_PRODUCER_EPOCH
    (abort,) = coordinator.timed_out(NOW + TIMEOUT + 1)
    assert abort.producer_epoch == MAX_PRODUCER_EPOCH
