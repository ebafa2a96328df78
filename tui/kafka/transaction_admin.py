"""Transactions of a cluster as Kafka's Admin sees them: ListTransactions, DescribeTransactions,
DescribeProducers, and aborting a hanging transaction (WriteTxnMarkers), for `kwb
transactions` (kafka-transactions.sh) and the workbench.

aiokafka's admin client has none of these APIs; they go as kio requests over its connections
(KafkaAdmin.send), to the node Kafka's Admin sends them to: ListTransactions to every broker,
DescribeTransactions to the transactional id's coordinator, DescribeProducers to the
partition's leader (or a chosen broker), WriteTxnMarkers to the partition's leader (what
Admin.abortTransaction does).
"""

from __future__ import annotations

from dataclasses import dataclass

from kio.schema.errors import ErrorCode

from localbroker.public import ApiKey, CoordinatorType

from .admin import KafkaAdmin
from .errors import KafkaToolError, raise_for
from .models import TopicPartition


@dataclass(frozen=True, slots=True)
class TransactionListing:
    transactional_id: str
    coordinator: int
    producer_id: int
    state: str


@dataclass(frozen=True, slots=True)
class TransactionDescription:
    coordinator: int
    transactional_id: str
    producer_id: int
    producer_epoch: int
    state: str
    timeout_ms: int
    start_ms: int | None
    """When the transaction started (epoch ms; None: none has)."""
    partitions: tuple[TopicPartition, ...]


@dataclass(frozen=True, slots=True)
class ProducerState:
    """One active producer of a partition (DescribeProducers)."""

    producer_id: int
    producer_epoch: int
    coordinator_epoch: int
    """-1 when unknown (no marker written for this producer yet)."""
    last_sequence: int
    last_timestamp: int
    transaction_start: int | None
    """The first offset of its open transaction on the partition (None: none open)."""


@dataclass(frozen=True, slots=True)
class AbortSpec:
    """What Admin.abortTransaction takes: the ABORT marker to write on one partition."""

    partition: TopicPartition
    producer_id: int
    producer_epoch: int
    coordinator_epoch: int

    def __str__(self) -> str:
        """As Kafka's AbortTransactionSpec prints (its error messages name it)."""
        topic, index = self.partition
        return (
            f"AbortTransactionSpec(topicPartition={topic}-{index},"
            f" producerId={self.producer_id}, producerEpoch={self.producer_epoch},"
            f" coordinatorEpoch={self.coordinator_epoch})"
        )


async def list_transactions(
    admin: KafkaAdmin, duration_ms: int = -1, producer_ids: tuple[int, ...] = ()
) -> list[TransactionListing]:
    """Every broker's transactions (longer than `duration_ms` when not negative; of
    `producer_ids` when given), by broker id."""
    listings = []
    for broker in sorted((await admin.cluster()).brokers, key=lambda b: b.node_id):
        response = await admin.send(
            ApiKey.LIST_TRANSACTIONS,
            {
                "state_filters": [],
                "producer_id_filters": list(producer_ids),
                "duration_filter": duration_ms,
            },
            node=broker.node_id,
        )
        raise_for(response.error_code, None, f"listing transactions on broker {broker.node_id}")
        listings += [
            TransactionListing(
                t.transactional_id, broker.node_id, t.producer_id, t.transaction_state
            )
            for t in response.transaction_states
        ]
    return listings


async def describe_transaction(admin: KafkaAdmin, transactional_id: str) -> TransactionDescription:
    coordinator = await admin.find_coordinator(transactional_id, CoordinatorType.TRANSACTION)
    response = await admin.send(
        ApiKey.DESCRIBE_TRANSACTIONS,
        {"transactional_ids": [transactional_id]},
        node=coordinator,
        ms_times=True,
    )
    (state,) = response.transaction_states
    if state.error_code == ErrorCode.transactional_id_not_found:
        detail = (  # what Kafka's DescribeTransactionsHandler says
            f"DescribeTransactions request for transactionalId `{transactional_id}` failed"
            " because the ID could not be found"
        )
        raise KafkaToolError(
            f"transactional id {transactional_id}: {detail}", state.error_code, detail
        )
    raise_for(state.error_code, None, f"transactional id {transactional_id}")
    return TransactionDescription(
        coordinator,
        transactional_id,
        state.producer_id,
        state.producer_epoch,
        state.transaction_state,
        int(state.transaction_timeout.total_seconds() * 1000),
        state.transaction_start_time if state.transaction_start_time >= 0 else None,
        tuple((t.topic, p) for t in state.topics for p in t.partitions),
    )


async def describe_producers(
    admin: KafkaAdmin, partitions: list[TopicPartition], broker: int | None = None
) -> dict[TopicPartition, list[ProducerState]]:
    """The active producers of each partition, at its leader (or at `broker`)."""
    if broker is None:
        by_node = await admin.leaders(partitions)
    else:
        by_node = {broker: list(partitions)}
    found: dict[TopicPartition, list[ProducerState]] = {}
    for node, wanted in by_node.items():
        topics: dict[str, list[int]] = {}
        for topic, index in wanted:
            topics.setdefault(topic, []).append(index)
        response = await admin.send(
            ApiKey.DESCRIBE_PRODUCERS,
            {"topics": [{"name": t, "partition_indexes": ps} for t, ps in topics.items()]},
            node=node,
        )
        for topic in response.topics:
            for p in topic.partitions:
                raise_for(p.error_code, p.error_message, f"{topic.name}-{p.partition_index}")
                found[(topic.name, p.partition_index)] = [
                    ProducerState(
                        s.producer_id,
                        s.producer_epoch,
                        s.coordinator_epoch,
                        s.last_sequence,
                        s.last_timestamp,
                        s.current_txn_start_offset if s.current_txn_start_offset >= 0 else None,
                    )
                    for s in p.active_producers
                ]
    return found


async def abort_transaction(admin: KafkaAdmin, spec: AbortSpec) -> None:
    """Write an ABORT marker for the producer on the partition, at its leader."""
    ((leader, _),) = (await admin.leaders([spec.partition])).items()
    topic, index = spec.partition
    response = await admin.send(
        ApiKey.WRITE_TXN_MARKERS,
        {
            "markers": [
                {
                    "producer_id": spec.producer_id,
                    "producer_epoch": spec.producer_epoch,
                    "transaction_result": False,
                    "topics": [{"name": topic, "partition_indexes": [index]}],
                    "coordinator_epoch": spec.coordinator_epoch,
                }
            ]
        },
        node=leader,
    )
    for marker in response.markers:
        for t in marker.topics:
            for p in t.partitions:
                raise_for(p.error_code, None, f"{t.name}-{p.partition_index}")
