"""What `kafka-transactions.sh` and Admin ask about transactions: DescribeTransactions,
ListTransactions and DescribeProducers, authorized and answered as KafkaApis answers them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import OFFSETS_TOPIC, AclResourceType, ApiKey
from ..transactions.metadata import TransactionMetadata
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


def _partitions(state: BrokerState, metadata: TransactionMetadata) -> set[tuple[str, int]]:
    """The transaction's partitions as Kafka lists them: the `__consumer_offsets` partition of
    each group whose offsets it carries among them (AddOffsetsToTxn adds that partition)."""
    offsets = {(OFFSETS_TOPIC, state.offsets_topic.partition_of(g)) for g in metadata.offsets}
    return metadata.partitions | offsets


def _described(state: BrokerState, ctx: RequestContext, transactional_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "error_code": ErrorCode.none,
        "transactional_id": transactional_id,
        "transaction_state": "",
        "transaction_timeout": 0,
        "transaction_start_time": -1,
        "producer_id": -1,
        "producer_epoch": -1,
        "topics": [],
    }
    if not access.permits(state, ctx, AclResourceType.TRANSACTIONAL_ID, transactional_id):
        return {**entry, "error_code": ErrorCode.transactional_id_authorization_failed}
    found = state.transactions.describe(transactional_id)
    if isinstance(found, ErrorCode):
        return {**entry, "error_code": found}
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(_partitions(state, found)):
        if access.permits(state, ctx, AclResourceType.TOPIC, topic):
            by_topic.setdefault(topic, []).append(partition)
    return {
        **entry,
        "transaction_state": str(found.state),
        "transaction_timeout": found.timeout_ms,
        "transaction_start_time": found.start_ms,
        "producer_id": found.producer_id,
        "producer_epoch": found.producer_epoch,
        "topics": [{"topic": t, "partitions": ps} for t, ps in by_topic.items()],
    }


@handles(ApiKey.DESCRIBE_TRANSACTIONS, 0, 0)
def describe_transactions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    return ctx.respond(
        {
            "throttle_time": 0,
            "transaction_states": [
                _described(state, ctx, tid) for tid in request.transactional_ids
            ],
        }
    )


def _id_pattern(request: Any) -> re.Pattern[str] | None:
    """v2's transactional id pattern (KIP-1152), a Java regular expression in Kafka; Python's
    accepts the usual ones alike. None or empty: no filter."""
    pattern = getattr(request, "transactional_id_pattern", None)
    if not pattern:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise KafkaError(
            ErrorCode.invalid_regular_expression,
            f"Transaction ID pattern `{pattern}` is not a valid regular expression: {exc}.",
        ) from exc


@handles(ApiKey.LIST_TRANSACTIONS, 0, 2)
def list_transactions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """The ids the principal may describe (the others are left out), filtered; a pattern
    that is no regular expression is answered INVALID_REGULAR_EXPRESSION, with nothing
    listed."""
    try:
        pattern = _id_pattern(request)
    except KafkaError as exc:
        return ctx.respond(
            {
                "throttle_time": 0,
                "error_code": exc.code,
                "unknown_state_filters": [],
                "transaction_states": [],
            }
        )
    unknown, listed = state.transactions.listed(
        set(request.producer_id_filters),
        set(request.state_filters),
        getattr(request, "duration_filter", -1),
        ctx.now_ms,
        pattern,
    )
    return ctx.respond(
        {
            "throttle_time": 0,
            "error_code": ErrorCode.none,
            "unknown_state_filters": unknown,
            "transaction_states": [
                {
                    "transactional_id": m.transactional_id,
                    "producer_id": m.producer_id,
                    "transaction_state": str(m.state),
                }
                for m in listed
                if access.permits(state, ctx, AclResourceType.TRANSACTIONAL_ID, m.transactional_id)
            ],
        }
    )


def _producers(state: BrokerState, ctx: RequestContext, topic: str, index: int) -> Any:
    entry: dict[str, Any] = {
        "partition_index": index,
        "error_code": ErrorCode.none,
        "error_message": None,
        "active_producers": [],
    }
    if not access.permits(state, ctx, AclResourceType.TOPIC, topic):
        return {**entry, "error_code": ErrorCode.topic_authorization_failed}
    try:
        partition_log = state.partition_log(topic, index)
    except KafkaError as exc:
        return {**entry, "error_code": exc.code}
    ongoing = partition_log.transactions.ongoing
    entry["active_producers"] = [
        {
            "producer_id": p.producer_id,
            "producer_epoch": p.epoch,
            "last_sequence": p.last_sequence,
            "last_timestamp": p.last_timestamp,
            "coordinator_epoch": p.coordinator_epoch,
            "current_txn_start_offset": ongoing.get(p.producer_id, -1),
        }
        for p in partition_log.producers.entries.values()
    ]
    return entry


@handles(ApiKey.DESCRIBE_PRODUCERS, 0, 0)
def describe_producers(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    return ctx.respond(
        {
            "throttle_time": 0,
            "topics": [
                {
                    "name": topic.name,
                    "partitions": [
                        _producers(state, ctx, topic.name, index)
                        for index in topic.partition_indexes
                    ],
                }
                for topic in request.topics
            ],
        }
    )
