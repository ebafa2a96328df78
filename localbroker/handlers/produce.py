"""Produce: validate each partition's batch, append it, and answer once it is as durable as
the flush policy requires (acks=0 gets no answer; an error then closes the connection, as in
Kafka, so the producer notices). v0-2's message sets (magic 0 and 1) are converted to a v2
batch first, as Kafka 3.9 converted them (Kafka 4.0 removed these versions)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..cluster.replication.leader import ACKS_ALL
from ..cluster.replication.leading import LeaderReplica
from ..errors import KafkaError
from ..log.errors import InvalidRecords, RecordValidation
from ..log.partition import PartitionLog
from ..protocol.names import AclResourceType, ApiKey
from ..records.batch import (
    HEADER_SIZE,
    ZSTD,
    MalformedRecordSet,
    is_transactional,
    validate_produced,
)
from ..records.legacy import to_batch
from ..records.reader import iter_records
from ..schema_registry.validation import SchemaValidation, refused_records
from . import access
from .leader import LeaderHints, partition_error
from .produce_verification import VerificationFailed, Verified, verified_remotely, verify
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


log = logging.getLogger(__name__)

_Flush = tuple[PartitionLog, int, dict[str, Any]]
_Replication = tuple[LeaderReplica, int, dict[str, Any]]
"""An acks=all append waiting for the ISR: the leader, its last offset, its answer."""
FIRST_V2_FORMAT_VERSION = 3
"""Produce v3 introduced record batches (magic 2); v0-2 carry message sets of magic 0 and 1."""

_NO_APPEND_INFO = frozenset(
    {
        ErrorCode.unknown_topic_or_partition,
        ErrorCode.not_leader_or_follower,
        ErrorCode.message_too_large,
        ErrorCode.record_list_too_large,
        ErrorCode.corrupt_message,
        ErrorCode.kafka_storage_error,
    }
)
"""Refusals Kafka answers without the partition's log start offset (ReplicaManager's
appendToLocalLog gives them LogAppendInfo.UNKNOWN_LOG_APPEND_INFO); it reports the log start
offset for every other refusal (sequence, epoch, record count, base offset)."""
_ZSTD_SINCE = 7
"""Produce v7 is the first a client may send zstd batches in (KIP-110)."""


def _check_schema_ids(state: BrokerState, ctx: RequestContext, topic: str, records: bytes) -> None:
    """Confluent Server's broker-side schema id validation, for a topic that asks for it
    (schema_registry/validation.py): records are read only then, so other topics pay two
    lookups per batch. A topic that asks for it on a broker now running without a registry
    (it had one when the config was set) refuses every batch rather than let it through.
    A refusal is logged too, as Confluent Server logs it: not every client shows the broker's
    message (confluent-kafka shows only the error code)."""
    validation = SchemaValidation.of(topic, state.topics[topic].configs)
    if validation is None:
        return
    if state.schema_ids is None:
        raise RecordValidation(
            ErrorCode.invalid_record,
            f"Topic {topic} validates record schema ids (confluent.*.schema.validation) but"
            " this broker runs no schema registry; start localbroker with --schema-registry"
            " PORT",
            [],
        )
    refused = refused_records(
        ((record.key, record.value) for record in iter_records(records)),
        validation,
        state.schema_ids,
    )
    if refused:
        log.info(
            "refused a batch for %s from client %s: %s",
            topic,
            ctx.header.client_id,
            "; ".join(message for _, message in refused[:3]),
        )
        raise InvalidRecords(refused)


def _record_errors(exc: KafkaError) -> dict[str, Any]:
    """Kafka sends a message, and names the records, only with a RecordValidationException
    (invalid timestamps, records without a key on a compacted topic) or an error it words
    itself (a failed transaction verification); every other partition error goes without
    either."""
    if isinstance(exc, VerificationFailed):
        return {"error_message": exc.message or None}
    if not isinstance(exc, RecordValidation):
        return {"error_message": None}
    return {
        "error_message": exc.message,
        "record_errors": [
            {"batch_index": index, "batch_index_error_message": message}
            for index, message in exc.record_errors
        ],
    }


def _append(
    state: BrokerState,
    ctx: RequestContext,
    transactional_id: str | None,
    topic: str,
    partition: Any,
    acks: int,
    flushes: list[_Flush],
    replications: list[_Replication],
    verified: Verified,
) -> dict[str, Any]:
    index = partition.index
    partition_log: PartitionLog | None = None
    leader: LeaderReplica | None = None
    try:
        if not access.permits(state, ctx, AclResourceType.TOPIC, topic):
            raise KafkaError(ErrorCode.topic_authorization_failed)
        partition_log = state.partition_log(topic, index)
        error = partition_error(state, topic, index)
        if error is not None:
            raise KafkaError(error)
        records = partition.records
        if records is None:
            raise KafkaError(ErrorCode.invalid_record, "produce request carries no records")
        if ctx.api_version < FIRST_V2_FORMAT_VERSION:
            records = to_batch(records, ctx.now_ms)
        header = validate_produced(records, partition_log.config.max_message_bytes)
        if header.compression == ZSTD and ctx.api_version < _ZSTD_SINCE:
            raise MalformedRecordSet(
                ErrorCode.unsupported_compression_type,
                f"Produce requests with version {ctx.api_version} are not allowed to use"
                " ZStandard compression",
            )
        if header.is_transactional and transactional_id is not None:
            verify(state, ctx, transactional_id, header, (topic, index), verified)
        _check_schema_ids(state, ctx, topic, records)
        if state.replicas is not None:
            leader = _leader(state, topic, index, acks)
        result = partition_log.append(header, records, ctx.now_ms)
    except KafkaError as exc:
        log_start_offset = -1
        refused_by_log = (
            not isinstance(exc, (MalformedRecordSet, VerificationFailed))
            and exc.code not in _NO_APPEND_INFO
        )
        if partition_log is not None and refused_by_log:
            log_start_offset = partition_log.log_start_offset
        return {
            "index": index,
            "error_code": exc.code,
            "base_offset": -1,
            "log_start_offset": log_start_offset,
            **_record_errors(exc),
        }
    entry = {
        "index": index,
        "error_code": ErrorCode.none,
        "base_offset": result.base_offset,
        "log_append_time": result.log_append_time if result.log_append_time >= 0 else None,
        "log_start_offset": partition_log.log_start_offset,
    }
    if partition_log.flush_pending:
        flushes.append((partition_log, result.last_offset + 1, entry))
    if leader is not None and acks == ACKS_ALL:
        replications.append((leader, result.last_offset, entry))
    return entry


def _leader(state: BrokerState, topic: str, index: int, acks: int) -> LeaderReplica:
    """The partition's leader replica in cluster mode, once it may take the append: an
    acks=all produce is refused before it is written while the ISR is smaller than
    min.insync.replicas (NOT_ENOUGH_REPLICAS)."""
    assert state.replicas is not None
    leader = state.replicas.leader_replica(topic, index)
    if leader is None:  # the image names this broker, the replica manager not yet
        raise KafkaError(ErrorCode.not_leader_or_follower)
    leader.state.check_append(acks)
    return leader


async def _await_replication(replications: list[_Replication], timeout_ms: int) -> None:
    """Wait until the ISR holds every acks=all append (Kafka's DelayedProduce): the answer
    keeps its offsets whatever the error (REQUEST_TIMED_OUT,
    NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER), as Kafka's does."""
    errors = await asyncio.gather(
        *(leader.acks_all(last_offset, timeout_ms) for leader, last_offset, _ in replications)
    )
    for (_, _, entry), error in zip(replications, errors, strict=True):
        if entry["error_code"] == ErrorCode.none:
            entry["error_code"] = error


async def _await_flushes(state: BrokerState, flushes: list[_Flush]) -> None:
    """Wait until every appended batch that the flush policy covers is fsynced."""
    outcomes = await asyncio.gather(
        *(state.flush(partition_log, upto) for partition_log, upto, _ in flushes),
        return_exceptions=True,
    )
    for (_, _, entry), outcome in zip(flushes, outcomes, strict=True):
        if isinstance(outcome, KafkaError):
            entry.update(error_code=outcome.code, base_offset=-1, error_message=outcome.message)
        elif isinstance(outcome, BaseException):
            raise outcome


def _carries_transactional_batches(request: Any) -> bool:
    """Kafka refuses the whole request (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) when a batch is
    transactional and the request names no transactional id (ProduceRequest's
    hasTransactionalRecords)."""
    return any(
        p.records is not None and len(p.records) >= HEADER_SIZE and is_transactional(p.records)
        for topic in request.topic_data
        for p in topic.partition_data
    )


def _refuse_all(request: Any, error: ErrorCode) -> list[dict[str, Any]]:
    return [
        {
            "name": topic.name,
            "partition_responses": [
                {
                    "index": p.index,
                    "error_code": error,
                    "base_offset": -1,
                    "log_start_offset": -1,
                }
                for p in topic.partition_data
            ],
        }
        for topic in request.topic_data
    ]


@handles(ApiKey.PRODUCE, 0, 12)
async def produce(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    acks = request.acks
    flushes: list[_Flush] = []
    replications: list[_Replication] = []
    transactional_id = getattr(request, "transactional_id", None)
    if (transactional_id is None and _carries_transactional_batches(request)) or (
        transactional_id is not None
        and not access.permits(state, ctx, AclResourceType.TRANSACTIONAL_ID, transactional_id)
    ):
        responses = _refuse_all(request, ErrorCode.transactional_id_authorization_failed)
    elif acks not in (0, 1, -1):
        responses = _refuse_all(request, ErrorCode.invalid_required_acks)
    else:
        verified = await verified_remotely(state, ctx, transactional_id, request)
        responses = [
            {
                "name": topic.name,
                "partition_responses": [
                    _append(
                        state,
                        ctx,
                        transactional_id,
                        topic.name,
                        partition,
                        acks,
                        flushes,
                        replications,
                        verified,
                    )
                    for partition in topic.partition_data
                ],
            }
            for topic in request.topic_data
        ]
    if replications:  # cluster mode's acks=all, alongside the flushes
        timeout_ms = int(request.timeout.total_seconds() * 1000)
        await asyncio.gather(
            _await_flushes(state, flushes), _await_replication(replications, timeout_ms)
        )
    elif flushes:
        await _await_flushes(state, flushes)
    if acks == 0:
        if any(
            p["error_code"] != ErrorCode.none for t in responses for p in t["partition_responses"]
        ):
            ctx.close_connection = True
        return None
    hints = LeaderHints(state, ctx.listener)
    for topic in responses:
        for entry in topic["partition_responses"]:
            if entry["error_code"] == ErrorCode.not_leader_or_follower:
                entry["current_leader"] = hints.current_leader(topic["name"], entry["index"])
    return ctx.respond(
        {"responses": responses, "throttle_time": 0, "node_endpoints": hints.node_endpoints}
    )
