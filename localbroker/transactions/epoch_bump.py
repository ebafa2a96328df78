"""EndTxn under transaction version 2 (KIP-890 part 2): every end bumps the producer epoch.

A client of transaction version 2 (EndTxn v5) never calls InitProducerId between
transactions: the coordinator bumps the epoch with each commit or abort and answers the new
producer id and epoch, and the markers carry the bumped epoch, so a zombie's late batch of the
ended transaction is fenced in every partition. An epoch that would pass Short.MaxValue - 1
takes a new producer id, with epoch 0, once the markers are written. Since the epoch of a
retried EndTxn is then one below the current one, retries are recognised by that, not by the
state alone. The rules, their order and their errors are TransactionCoordinator.endTransaction's
for transaction version 2; nothing here does I/O. Also here: the level localbroker finalizes
in ApiVersions, and the aborts the coordinator starts itself, which Kafka ends at that level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from ..protocol.kafka_releases import release_window
from ..protocol.names import ApiKey, TransactionState
from .metadata import (
    MAX_PRODUCER_EPOCH,
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    TransactionMetadata,
    epoch_exhausted,
)

_S = TransactionState
EPOCH_BUMP_VERSION = 2
"""The transaction version that bumps the epoch per transaction (TransactionVersion.TV_2)."""
TRANSACTION_VERSION = EPOCH_BUMP_VERSION
"""The highest transaction.version localbroker supports, and the level it finalizes: Kafka
4.1's default (StorageTool format finalizes TV_2, TransactionVersion.LATEST_PRODUCTION), so
that the Java client 4.x, which reads it from ApiVersions, speaks version 2 here as it does
with Kafka."""
_VERSION_2_REQUESTS = {ApiKey.END_TXN: 5, ApiKey.TXN_OFFSET_COMMIT: 5, ApiKey.PRODUCE: 12}
"""The request versions a client of transaction version 2 needs the broker to serve."""


def finalized_level(release: str | None) -> int:
    """The transaction.version to finalize when serving Kafka `release`'s request versions
    (`localbroker.api.versions.of`; None: all of localbroker's): 0 if that release lacks the
    requests of version 2 (3.9), since a client told version 2 would then send neither
    AddPartitionsToTxn nor the Produce v12 that replaces it."""
    if release is None:
        return TRANSACTION_VERSION
    for api_key, needed in _VERSION_2_REQUESTS.items():
        window = release_window(release, api_key)
        if window is not None and window[1] < needed:
            return 0
    return TRANSACTION_VERSION


@dataclass(frozen=True, slots=True)
class EndDecision:
    """What an EndTxn v5 does: `prepared` is the state to decide (None: answer at once), and
    `producer_id` / `producer_epoch` what the answer carries when nothing is decided."""

    error: ErrorCode
    prepared: TransactionMetadata | None = None
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


def prepared_end(
    metadata: TransactionMetadata,
    commit: bool,
    now_ms: int,
    next_producer_id: int,
    empty: bool,
) -> TransactionMetadata:
    """PrepareCommit or PrepareAbort with the epoch bumped (prepareAbortOrCommit). An abort
    with nothing added (allowed from version 2) starts its transaction now."""
    new = metadata.copy()
    new.state = _S.PREPARE_COMMIT if commit else _S.PREPARE_ABORT
    new.last_producer_epoch = metadata.producer_epoch
    new.producer_epoch = metadata.producer_epoch + 1
    new.next_producer_id = next_producer_id
    new.client_transaction_version = EPOCH_BUMP_VERSION
    new.last_update_ms = now_ms
    if empty:
        new.start_ms = now_ms
    return new


def fencing_abort(
    metadata: TransactionMetadata, now_ms: int, transaction_version: int
) -> TransactionMetadata:
    """PrepareAbort of an ongoing transaction the coordinator ends itself (InitProducerId of
    its id, a timeout), with the epoch bumped so that its producer is fenced. Kafka ends it at
    its finalized level: as a version 2 end (the epoch before kept as the last one), else
    with the last epoch forgotten (prepareFenceProducerEpoch)."""
    if transaction_version >= EPOCH_BUMP_VERSION and metadata.producer_epoch < MAX_PRODUCER_EPOCH:
        return prepared_end(metadata, False, now_ms, NO_PRODUCER_ID, False)
    new = metadata.copy()
    new.state = _S.PREPARE_ABORT
    if metadata.producer_epoch < MAX_PRODUCER_EPOCH:
        new.producer_epoch = metadata.producer_epoch + 1
    new.last_producer_epoch = NO_PRODUCER_EPOCH
    new.last_update_ms = now_ms
    return new


def decide_end(
    metadata: TransactionMetadata | None,
    producer_id: int,
    epoch: int,
    commit: bool,
    now_ms: int,
    allocate: Callable[[], int],
) -> EndDecision:
    if metadata is None:
        return EndDecision(ErrorCode.invalid_producer_id_mapping)
    state = metadata.state
    retry_on_overflow = (
        metadata.previous_producer_id == producer_id
        and epoch == MAX_PRODUCER_EPOCH - 1
        and metadata.producer_epoch == 0
    )
    retry = metadata.producer_epoch == epoch + 1 or retry_on_overflow
    if state in (_S.PREPARE_COMMIT, _S.PREPARE_ABORT):
        valid_epoch = metadata.producer_epoch == epoch + 1
    elif state in (_S.COMPLETE_COMMIT, _S.COMPLETE_ABORT):
        valid_epoch = retry or epoch == metadata.producer_epoch
    else:
        valid_epoch = epoch == metadata.producer_epoch
    if metadata.producer_id != producer_id and not retry_on_overflow:
        return EndDecision(ErrorCode.invalid_producer_id_mapping)
    if not valid_epoch:
        return EndDecision(ErrorCode.producer_fenced)
    done = _S.COMPLETE_COMMIT if commit else _S.COMPLETE_ABORT
    if state == done and retry:
        return EndDecision(ErrorCode.none, None, metadata.producer_id, metadata.producer_epoch)
    if state == _S.ONGOING or (
        not commit
        and (state == _S.EMPTY or (not retry and state in (_S.COMPLETE_COMMIT, _S.COMPLETE_ABORT)))
    ):
        next_pid = allocate() if epoch_exhausted(metadata.producer_epoch) else NO_PRODUCER_ID
        empty = state != _S.ONGOING
        return EndDecision(ErrorCode.none, prepared_end(metadata, commit, now_ms, next_pid, empty))
    if state == (_S.PREPARE_COMMIT if commit else _S.PREPARE_ABORT):
        return EndDecision(ErrorCode.concurrent_transactions)
    return EndDecision(ErrorCode.invalid_txn_state)


def answered(prepared: TransactionMetadata) -> tuple[int, int]:
    """The producer id and epoch EndTxn v5 answers for a decided end: the new producer id if
    the epoch ran out, else the bumped epoch."""
    if prepared.next_producer_id != NO_PRODUCER_ID:
        return prepared.next_producer_id, 0
    return prepared.producer_id, prepared.producer_epoch
