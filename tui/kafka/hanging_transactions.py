"""Hanging transactions, found as kafka-transactions.sh find-hanging finds them.

A transaction hangs when a partition holds its records but its coordinator will never write
the marker there: the coordinator no longer knows the producer, or its transaction does not
name that partition. Such a transaction holds the partition's last stable offset, and so
every read_committed consumer, until `abort` writes the marker. The candidates are the open
transactions (DescribeProducers) older than the longest transaction timeout to consider;
ListTransactions maps their producer ids to transactional ids and DescribeTransactions says
which partitions each coordinator still expects to finish.
"""

from __future__ import annotations

import time

from kio.schema.errors import ErrorCode

from .admin import KafkaAdmin
from .errors import KafkaToolError
from .models import TopicPartition
from .transaction_admin import (
    ProducerState,
    TransactionDescription,
    describe_producers,
    describe_transaction,
    list_transactions,
)

OpenTransaction = tuple[TopicPartition, ProducerState]


async def _partitions(
    admin: KafkaAdmin, topic: str | None, partition: int | None, broker: int | None
) -> list[TopicPartition]:
    """The partitions to search: one, a topic's, or every partition `broker` has a replica of."""
    if topic is not None and partition is not None:
        return [(topic, partition)]
    topics = await admin.topics(None if topic is None else [topic], include_internal=True)
    return [
        (t.name, p.partition)
        for t in topics
        for p in t.partitions
        if broker is None or broker in p.replicas
    ]


async def _description(admin: KafkaAdmin, transactional_id: str) -> TransactionDescription | None:
    try:
        return await describe_transaction(admin, transactional_id)
    except KafkaToolError as exc:
        if exc.code == ErrorCode.transactional_id_not_found:
            return None
        raise


async def find_hanging(
    admin: KafkaAdmin,
    topic: str | None,
    partition: int | None,
    broker: int | None,
    max_timeout_minutes: int,
    now_ms: int | None = None,
) -> list[OpenTransaction]:
    """The hanging transactions among those open longer than `max_timeout_minutes`."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    partitions = await _partitions(admin, topic, partition, broker)
    producers = await describe_producers(admin, partitions, broker) if partitions else {}
    candidates = [
        (where, state)
        for where, states in producers.items()
        for state in states
        if state.transaction_start is not None
        and now - state.last_timestamp > max_timeout_minutes * 60_000
    ]
    if not candidates:
        return []
    ids = {state.producer_id for _, state in candidates}
    listed = await list_transactions(admin, producer_ids=tuple(sorted(ids)))
    transactional_ids = {t.producer_id: t.transactional_id for t in listed if t.producer_id in ids}
    descriptions = {tid: await _description(admin, tid) for tid in transactional_ids.values()}
    hanging = []
    for where, state in candidates:
        tid = transactional_ids.get(state.producer_id)
        description = descriptions.get(tid) if tid is not None else None
        if description is None or where not in description.partitions:
            hanging.append((where, state))
    return hanging
