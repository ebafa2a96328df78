"""Produce's transaction verification (KIP-890): a transactional batch is appended only if
its partition is in the producer's transaction, as the transaction coordinator says, this
broker's own or, in cluster mode, another broker's (cluster/txn_verification.py); from
Produce v12 the broker adds the partition to the transaction itself. The coordinator's
answers are translated as ReplicaManager and AddPartitionsToTxnManager translate them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..records.batch import HEADER_SIZE, BatchHeader, read_header
from ..transactions.epoch_bump import EPOCH_BUMP_VERSION
from .registry import RequestContext

if TYPE_CHECKING:
    from ..state import BrokerState


class VerificationFailed(KafkaError):
    """A transactional batch for a partition its transaction does not hold (KIP-890), or
    from a producer the coordinator does not know as this one: refused before the log
    sees it, so without the log start offset."""


Verified = dict[tuple[str, int], ErrorCode] | None
"""Cluster mode: the answers of a transactional id's coordinator on another broker, by
partition (None: this broker coordinates the id and verifies itself)."""
_TRANSACTION_ABORTABLE_SINCE = 11
"""Produce v11 is the first to know TRANSACTION_ABORTABLE; older clients get
INVALID_TXN_STATE (KafkaApis' transactionSupportedOperation)."""
_ADDS_PARTITIONS_SINCE = 12
"""From Produce v12 (KIP-890 part 2, transaction version 2) the broker adds the partition to
the transaction itself, as Kafka 4.1 does, instead of refusing the batch."""
_RETRIABLE_VERIFICATION = frozenset(
    {
        ErrorCode.concurrent_transactions,
        ErrorCode.network_exception,
        ErrorCode.coordinator_load_in_progress,
        ErrorCode.coordinator_not_available,
        ErrorCode.not_coordinator,
    }
)


def verify(
    state: BrokerState,
    ctx: RequestContext,
    transactional_id: str,
    header: BatchHeader,
    partition: tuple[str, int],
    verified: Verified,
) -> None:
    """Refuse a transactional batch unless its partition is in the producer's transaction (or
    added now, from v12), with the errors ReplicaManager and AddPartitionsToTxnManager
    translate verification to; `verified` holds another broker's coordinator's answers."""
    transactions = state.transactions
    pid, epoch = header.producer_id, header.producer_epoch
    if verified is not None:
        error = verified.get(partition, ErrorCode.none)
    elif ctx.api_version >= _ADDS_PARTITIONS_SINCE:
        error = transactions.add_partitions(
            transactional_id, pid, epoch, [partition], ctx.now_ms, EPOCH_BUMP_VERSION
        )
    else:
        error = transactions.verify(transactional_id, pid, epoch, partition)
    if error == ErrorCode.none:
        return
    if error == ErrorCode.producer_fenced:
        raise VerificationFailed(ErrorCode.invalid_producer_epoch)
    if error == ErrorCode.transaction_abortable and ctx.api_version < _TRANSACTION_ABORTABLE_SINCE:
        raise VerificationFailed(
            ErrorCode.invalid_txn_state, "Partition was not added to the transaction"
        )
    if error in _RETRIABLE_VERIFICATION:
        raise VerificationFailed(
            ErrorCode.not_enough_replicas,
            "Unable to verify the partition has been added to the transaction. Underlying"
            f" error: {error.name.upper()}",
        )
    raise VerificationFailed(error)


async def verified_remotely(
    state: BrokerState, ctx: RequestContext, transactional_id: str | None, request: Any
) -> Verified:
    """Cluster mode: ask the id's coordinator on another broker about every partition with a
    transactional batch, in one request (Kafka's ReplicaManager verifies before appending)."""
    verifier = state.transaction_verifier
    if transactional_id is None or verifier is None or not verifier.is_remote(transactional_id):
        return None
    headers = {
        (topic.name, p.index): read_header(p.records)
        for topic in request.topic_data
        for p in topic.partition_data
        if p.records is not None and len(p.records) >= HEADER_SIZE
    }
    transactional = {tp: h for tp, h in headers.items() if h.is_transactional}
    if not transactional:
        return None
    header = next(iter(transactional.values()))
    return await verifier.verify(
        transactional_id,
        header.producer_id,
        header.producer_epoch,
        transactional,
        verify_only=ctx.api_version < _ADDS_PARTITIONS_SINCE,
    )
