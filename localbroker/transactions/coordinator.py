"""The transaction coordinator as a state machine: requests and the clock in, decisions out.

Nothing here does I/O. The rules, their order and their error codes are those of Kafka's
TransactionCoordinator and TransactionMetadata. Clients of transaction version 1 (EndTxn up
to v4) have the epoch bumped by InitProducerId only; EndTxn v5 (version 2, epoch_bump.py)
bumps it with every end. Every change is handed to `store` before
it is answered (the durable transaction state); a store that fails leaves the state as it
was. Ending a transaction is two steps, as in Kafka: `end` decides (PrepareCommit or
PrepareAbort, stored) and returns a `Completion`, the markers the broker must write to each
partition and the offsets it must commit; `completed` records that it did. A crash between
the two leaves the decision stored, and `in_doubt` gives it back to finish after a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from kio.schema.errors import ErrorCode

from ..protocol.names import TransactionState
from .epoch_bump import answered, decide_end, fencing_abort
from .metadata import (
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    PendingOffset,
    TopicPartition,
    TransactionMetadata,
    epoch_exhausted,
)

_S = TransactionState
_COMPLETE = (_S.EMPTY, _S.COMPLETE_COMMIT, _S.COMPLETE_ABORT)


class TransactionStore(Protocol):
    """Where every change goes before it takes effect (store.py); raising leaves it out."""

    def write(self, metadata: TransactionMetadata) -> None: ...

    def remove(self, transactional_ids: list[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class Completion:
    """A decided end: write this marker to each partition, commit these offsets, then call
    `TransactionCoordinator.completed`."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    commit: bool
    partitions: frozenset[TopicPartition]
    offsets: Mapping[str, Mapping[TopicPartition, PendingOffset]]


@dataclass(frozen=True, slots=True)
class EndResult:
    """EndTxn's answer (the producer id and epoch are v5's) and the end to carry out."""

    error: ErrorCode
    completion: Completion | None = None
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


@dataclass(frozen=True, slots=True)
class InitResult:
    error: ErrorCode
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH
    abort: Completion | None = None
    """An ongoing transaction fenced by this InitProducerId: the broker aborts it, and the
    client, answered CONCURRENT_TRANSACTIONS, retries and gets the epoch bumped again."""


class TransactionCoordinator:
    def __init__(
        self,
        max_timeout_ms: int,
        allocate_producer_id: Callable[[], int],
        store: TransactionStore,
        transaction_version: int = 0,
        owns: Callable[[str], bool] = lambda _: True,
    ) -> None:
        """`owns(transactional_id)`: whether this broker coordinates the id now (leads its
        `__transaction_state` partition); a single broker owns every id."""
        self.max_timeout_ms = max_timeout_ms
        """transaction.max.timeout.ms"""
        self.transaction_version = transaction_version
        """The finalized transaction.version: how the coordinator ends the transactions it
        aborts itself (fencing, timeouts), as Kafka uses its own level for those."""
        self._allocate = allocate_producer_id
        self._store = store
        self.owns = owns
        self.transactions: dict[str, TransactionMetadata] = {}

    def load(self, stored: Iterable[TransactionMetadata]) -> None:
        """Take on the stored state of transactional ids (all of them at a single broker's
        start, one `__transaction_state` partition's when this broker comes to lead it)."""
        self.transactions.update((metadata.transactional_id, metadata) for metadata in stored)

    def unload(self, belongs: Callable[[str], bool]) -> None:
        """Forget the ids `belongs` to a partition this broker no longer leads (Kafka's
        removeTransactionsForTxnTopicPartition): their new leader answers for them now."""
        for transactional_id in [t for t in self.transactions if belongs(t)]:
            del self.transactions[transactional_id]

    def _commit(self, new: TransactionMetadata) -> None:
        """Make `new` the id's state once it is stored; unchanged if storing fails."""
        old = self.transactions.get(new.transactional_id)
        self.transactions[new.transactional_id] = new
        try:
            self._store.write(new)
        except BaseException:
            if old is None:
                del self.transactions[new.transactional_id]
            else:
                self.transactions[new.transactional_id] = old
            raise

    # -- InitProducerId -----------------------------------------------------------------

    def init_producer_id(
        self,
        transactional_id: str,
        timeout_ms: int,
        expected: tuple[int, int] | None,
        now_ms: int,
    ) -> InitResult:
        """`expected` is the (producer id, epoch) a client recovering with KIP-360 sends."""
        if not transactional_id:
            return InitResult(ErrorCode.invalid_request)
        if not self.owns(transactional_id):
            return InitResult(ErrorCode.not_coordinator)
        if not 0 < timeout_ms <= self.max_timeout_ms:
            return InitResult(ErrorCode.invalid_transaction_timeout)
        current = self.transactions.get(transactional_id)
        if current is None:
            current = TransactionMetadata(transactional_id, self._allocate(), timeout_ms)
        if expected is not None and not (
            current.producer_epoch == NO_PRODUCER_EPOCH
            or expected[0] == current.producer_id
            or (expected[0] == current.previous_producer_id and epoch_exhausted(expected[1]))
        ):
            return InitResult(ErrorCode.producer_fenced)
        if current.in_doubt:
            return InitResult(ErrorCode.concurrent_transactions)
        new = current.copy()
        new.timeout_ms = timeout_ms
        new.last_update_ms = now_ms
        if current.state == _S.ONGOING:
            # Fence the producer (an epoch never returned to anyone) and abort its transaction.
            return InitResult(ErrorCode.concurrent_transactions, abort=self._fence(new, now_ms))
        if epoch_exhausted(current.producer_epoch) and (
            expected is None or expected[1] == current.producer_epoch
        ):
            new.previous_producer_id = current.producer_id
            new.producer_id = self._allocate()
            new.producer_epoch = 0
            new.last_producer_epoch = NO_PRODUCER_EPOCH
        elif (
            expected is None
            or current.producer_epoch == NO_PRODUCER_EPOCH
            or expected[1] == current.producer_epoch
        ):
            new.last_producer_epoch = current.producer_epoch
            new.producer_epoch = current.producer_epoch + 1
        elif expected[1] != current.last_producer_epoch:  # else a retry: the same epoch again
            return InitResult(ErrorCode.producer_fenced)
        new.state = _S.EMPTY
        new.partitions = set()
        new.offsets = {}
        new.start_ms = -1
        self._commit(new)
        return InitResult(ErrorCode.none, new.producer_id, new.producer_epoch)

    # -- adding partitions and offsets --------------------------------------------------

    def _current(
        self, transactional_id: str, producer_id: int, epoch: int
    ) -> TransactionMetadata | ErrorCode:
        """The id's state if this producer may act on it, else the error (Kafka's checks, in
        its order)."""
        if not transactional_id:
            return ErrorCode.invalid_request
        if not self.owns(transactional_id):
            return ErrorCode.not_coordinator
        metadata = self.transactions.get(transactional_id)
        if metadata is None or metadata.producer_id != producer_id:
            return ErrorCode.invalid_producer_id_mapping
        if metadata.producer_epoch != epoch:
            return ErrorCode.producer_fenced
        if metadata.in_doubt:
            return ErrorCode.concurrent_transactions
        return metadata

    def _begin(
        self, metadata: TransactionMetadata, now_ms: int, transaction_version: int
    ) -> TransactionMetadata:
        new = metadata.copy()
        new.client_transaction_version = transaction_version
        if metadata.state != _S.ONGOING:
            new.state = _S.ONGOING
            new.start_ms = now_ms
        new.last_update_ms = now_ms
        return new

    def add_partitions(
        self,
        transactional_id: str,
        producer_id: int,
        epoch: int,
        partitions: Iterable[TopicPartition],
        now_ms: int,
        transaction_version: int = 0,
    ) -> ErrorCode:
        """`transaction_version` is the adding request's: 2 from a broker's AddPartitionsToTxn
        (v4+) or Produce v12, 0 from a client's AddPartitionsToTxn (v0-3)."""
        metadata = self._current(transactional_id, producer_id, epoch)
        if isinstance(metadata, ErrorCode):
            return metadata
        wanted = set(partitions)
        if metadata.state == _S.ONGOING and wanted <= metadata.partitions:
            return ErrorCode.none
        new = self._begin(metadata, now_ms, transaction_version)
        new.partitions |= wanted
        self._commit(new)
        return ErrorCode.none

    def add_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        epoch: int,
        group_id: str,
        now_ms: int,
        transaction_version: int = 0,
    ) -> ErrorCode:
        """AddOffsetsToTxn (version 0), or TxnOffsetCommit v5 adding the group's offsets
        partition itself (version 2)."""
        metadata = self._current(transactional_id, producer_id, epoch)
        if isinstance(metadata, ErrorCode):
            return metadata
        if metadata.state == _S.ONGOING and group_id in metadata.offsets:
            return ErrorCode.none
        new = self._begin(metadata, now_ms, transaction_version)
        new.offsets.setdefault(group_id, {})
        self._commit(new)
        return ErrorCode.none

    def verify(
        self, transactional_id: str, producer_id: int, epoch: int, partition: TopicPartition
    ) -> ErrorCode:
        """KIP-890 part 1: may this producer write `partition` in its transaction now?
        (TransactionCoordinator.handleVerifyPartitionsInTransaction)."""
        metadata = self._current(transactional_id, producer_id, epoch)
        if isinstance(metadata, ErrorCode):
            return metadata
        if partition in metadata.partitions:
            return ErrorCode.none
        return ErrorCode.transaction_abortable

    def stage_offsets(
        self,
        transactional_id: str,
        producer_id: int,
        epoch: int,
        group_id: str,
        offsets: Mapping[TopicPartition, PendingOffset],
        now_ms: int,
    ) -> ErrorCode:
        """TxnOffsetCommit: offsets the group gets when (and if) the transaction commits."""
        metadata = self._current(transactional_id, producer_id, epoch)
        if isinstance(metadata, ErrorCode):
            return metadata
        if metadata.state != _S.ONGOING or group_id not in metadata.offsets:
            return ErrorCode.transaction_abortable  # the group was never added
        new = metadata.copy()
        new.offsets[group_id].update(offsets)
        new.last_update_ms = now_ms
        self._commit(new)
        return ErrorCode.none

    def has_pending_offset(self, group_id: str, partition: TopicPartition) -> bool:
        """Whether an open transaction holds an offset of `partition` for the group (OffsetFetch
        with require_stable answers UNSTABLE_OFFSET_COMMIT then)."""
        return any(
            partition in metadata.offsets.get(group_id, {})
            for metadata in self.transactions.values()
            if metadata.state == _S.ONGOING or metadata.in_doubt
        )

    # -- ending -------------------------------------------------------------------------

    def end(
        self,
        transactional_id: str,
        producer_id: int,
        epoch: int,
        commit: bool,
        now_ms: int,
        epoch_bump: bool = False,
    ) -> EndResult:
        """EndTxn from the client, of transaction version 2 (`epoch_bump`, v5) or before."""
        if not transactional_id:
            return EndResult(ErrorCode.invalid_request)
        if not self.owns(transactional_id):
            return EndResult(ErrorCode.not_coordinator)
        metadata = self.transactions.get(transactional_id)
        if epoch_bump:
            decision = decide_end(metadata, producer_id, epoch, commit, now_ms, self._allocate)
            if decision.prepared is None:
                pid, bumped = decision.producer_id, decision.producer_epoch
                return EndResult(decision.error, None, pid, bumped)
            completion = self._decide(decision.prepared, commit)
            return EndResult(ErrorCode.none, completion, *answered(decision.prepared))
        if metadata is None or metadata.producer_id != producer_id:
            return EndResult(ErrorCode.invalid_producer_id_mapping)
        if epoch != metadata.producer_epoch:
            return EndResult(ErrorCode.producer_fenced)
        wanted = _S.COMPLETE_COMMIT if commit else _S.COMPLETE_ABORT
        preparing = _S.PREPARE_COMMIT if commit else _S.PREPARE_ABORT
        if metadata.state == _S.ONGOING:
            new = metadata.copy()
            new.last_update_ms = now_ms
            return EndResult(ErrorCode.none, self._decide(new, commit))
        if metadata.state == wanted:
            return EndResult(ErrorCode.none)  # a retry of an end already done
        if metadata.state == preparing:
            return EndResult(ErrorCode.concurrent_transactions)
        return EndResult(ErrorCode.invalid_txn_state)

    def _fence(self, metadata: TransactionMetadata, now_ms: int) -> Completion:
        return self._decide(fencing_abort(metadata, now_ms, self.transaction_version), False)

    def _decide(self, new: TransactionMetadata, commit: bool) -> Completion:
        new.state = _S.PREPARE_COMMIT if commit else _S.PREPARE_ABORT
        self._commit(new)
        return self._completion(new)

    @staticmethod
    def _completion(metadata: TransactionMetadata) -> Completion:
        return Completion(
            metadata.transactional_id,
            metadata.producer_id,
            metadata.producer_epoch,
            metadata.state == _S.PREPARE_COMMIT,
            frozenset(metadata.partitions),
            {group: dict(offsets) for group, offsets in metadata.offsets.items()},
        )

    def completed(self, completion: Completion, now_ms: int) -> None:
        """Every marker of `completion` is written: the transaction is complete."""
        metadata = self.transactions.get(completion.transactional_id)
        if metadata is None or not metadata.in_doubt:
            return
        new = metadata.copy()
        new.state = _S.COMPLETE_COMMIT if completion.commit else _S.COMPLETE_ABORT
        if metadata.next_producer_id != NO_PRODUCER_ID:  # the epoch ran out (version 2)
            new.previous_producer_id = metadata.producer_id
            new.producer_id = metadata.next_producer_id
            new.producer_epoch = 0
            new.next_producer_id = NO_PRODUCER_ID
        new.partitions = set()
        new.offsets = {}
        new.last_update_ms = now_ms
        self._commit(new)

    def in_doubt(self) -> list[Completion]:
        """Transactions decided but not completed (after a restart): finish them."""
        return [self._completion(m) for m in self.transactions.values() if m.in_doubt]

    # -- describing -----------------------------------------------------------------------

    def describe(self, transactional_id: str) -> TransactionMetadata | ErrorCode:
        """DescribeTransactions: the id's state, or the error Kafka answers for it."""
        if not transactional_id:
            return ErrorCode.invalid_request
        if not self.owns(transactional_id):
            return ErrorCode.not_coordinator
        metadata = self.transactions.get(transactional_id)
        if metadata is None or metadata.state == _S.DEAD:
            return ErrorCode.transactional_id_not_found
        return metadata

    def listed(
        self,
        producer_ids: set[int],
        states: set[str],
        duration_ms: int,
        now_ms: int,
        pattern: re.Pattern[str] | None = None,
    ) -> tuple[list[str], list[TransactionMetadata]]:
        """ListTransactions: the state names it does not know, and the ids that pass every
        filter given, the pattern matching the whole id (TransactionStateManager's
        listTransactionStates)."""
        known = {str(state) for state in TransactionState}
        unknown = sorted(states - known)
        listed = [
            m
            for m in self.transactions.values()
            if m.state != _S.DEAD
            and (not producer_ids or m.producer_id in producer_ids)
            and (not states or str(m.state) in states)
            and not (duration_ms >= 0 and now_ms - m.start_ms <= duration_ms)
            and (pattern is None or pattern.fullmatch(m.transactional_id) is not None)
        ]
        return unknown, listed

    def expire(self, now_ms: int, expiration_ms: int) -> list[str]:
        """transactional.id.expiration.ms: forget ids with no transaction that saw no request
        for that long (TransactionStateManager's removal of expired transactional ids); the
        ids forgotten. A producer using one later starts afresh, with a new producer id."""
        expired = [
            m.transactional_id
            for m in self.transactions.values()
            if m.state in _COMPLETE and m.last_update_ms <= now_ms - expiration_ms
        ]
        if expired:
            kept = {t: m for t, m in self.transactions.items() if t not in expired}
            self._store.remove(expired)
            self.transactions = kept
        return expired

    def timed_out(self, now_ms: int) -> list[Completion]:
        """Abort ongoing transactions older than their timeout, fencing their producer
        (TransactionCoordinator.abortTimedOutTransactions)."""
        aborts = []
        for metadata in list(self.transactions.values()):
            if metadata.state == _S.ONGOING and now_ms - metadata.start_ms > metadata.timeout_ms:
                aborts.append(self._fence(metadata, now_ms))
        return aborts
