"""One transactional id's state, as Kafka's TransactionMetadata holds it.

Its durable form is a `__transaction_state` record (records.py): everything the coordinator
needs to finish a transaction whose end was decided before a crash, including the offsets a
consume-transform-produce loop committed inside it (Kafka keeps those in the group
coordinator; here they stay with the transaction until it commits). `from_json` reads the
JSON file localbroker kept before, once, to move it into the topic (store.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..protocol.names import TransactionState

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
MAX_PRODUCER_EPOCH = 2**15 - 1
"""Short.MaxValue; an epoch at MAX - 1 is exhausted (TransactionMetadata.isEpochExhausted):
the next bump takes a new producer id instead."""

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class PendingOffset:
    """An offset committed inside a transaction (TxnOffsetCommit), visible on commit only."""

    offset: int
    leader_epoch: int
    metadata: str


def epoch_exhausted(epoch: int) -> bool:
    return epoch >= MAX_PRODUCER_EPOCH - 1


@dataclass(slots=True)
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    timeout_ms: int
    producer_epoch: int = NO_PRODUCER_EPOCH
    last_producer_epoch: int = NO_PRODUCER_EPOCH
    previous_producer_id: int = NO_PRODUCER_ID
    state: TransactionState = TransactionState.EMPTY
    partitions: set[TopicPartition] = field(default_factory=set)
    offsets: dict[str, dict[TopicPartition, PendingOffset]] = field(default_factory=dict)
    """Offsets per group id: AddOffsetsToTxn adds the group, TxnOffsetCommit its offsets."""
    start_ms: int = -1
    last_update_ms: int = -1
    next_producer_id: int = NO_PRODUCER_ID
    """Under transaction version 2, the producer id an end that exhausted the epoch moves
    to once its markers are written (Kafka's nextProducerId)."""
    client_transaction_version: int = 0
    """The transaction version of the request that last changed the transaction (Kafka's
    clientTransactionVersion): 2 once EndTxn v5, Produce v12, TxnOffsetCommit v5 or a
    broker's AddPartitionsToTxn (v4+) acted on it; 0 for the older client requests."""

    @property
    def in_doubt(self) -> bool:
        """Decided but not yet written everywhere: the markers are still to be written."""
        return self.state in (TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT)

    def copy(self) -> TransactionMetadata:
        """A copy to change: a change is made on a copy and kept only once it is stored."""
        return replace(
            self,
            partitions=set(self.partitions),
            offsets={group: dict(offsets) for group, offsets in self.offsets.items()},
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TransactionMetadata:
        return cls(
            transactional_id=data["transactional_id"],
            producer_id=data["producer_id"],
            timeout_ms=data["timeout_ms"],
            producer_epoch=data["producer_epoch"],
            last_producer_epoch=data["last_producer_epoch"],
            previous_producer_id=data["previous_producer_id"],
            state=TransactionState(data["state"]),
            partitions={(topic, partition) for topic, partition in data["partitions"]},
            offsets={
                group: {
                    (topic, partition): PendingOffset(offset, epoch, metadata)
                    for topic, partition, offset, epoch, metadata in entries
                }
                for group, entries in data["offsets"].items()
            },
            start_ms=data["start_ms"],
            last_update_ms=data["last_update_ms"],
            next_producer_id=data.get("next_producer_id", NO_PRODUCER_ID),
            client_transaction_version=data.get("client_transaction_version", 0),
        )
