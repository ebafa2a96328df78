"""Produce: validate each partition's batch, append it, and answer once it is as durable as
the flush policy requires (acks=0 gets no answer; an error then closes the connection, as in
Kafka, so the producer notices)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..log.partition import PartitionLog
from ..protocol.names import AclResourceType, ApiKey
from ..records.batch import validate_produced
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState


_Flush = tuple[PartitionLog, int, dict[str, Any]]


def _append(
    state: BrokerState, ctx: RequestContext, topic: str, partition: Any, flushes: list[_Flush]
) -> dict[str, Any]:
    index = partition.index
    try:
        if not access.permits(state, ctx, AclResourceType.TOPIC, topic):
            raise KafkaError(ErrorCode.topic_authorization_failed)
        partition_log = state.partition_log(topic, index)
        records = partition.records
        if records is None:
            raise KafkaError(ErrorCode.invalid_record, "produce request carries no records")
        header = validate_produced(records, partition_log.config.max_message_bytes)
        if header.is_transactional:
            raise KafkaError(
                ErrorCode.invalid_txn_state,
                "transactional batches need the transaction coordinator, which this broker"
                " does not offer yet",
            )
        result = partition_log.append(header, records, ctx.now_ms)
    except KafkaError as exc:
        return {
            "index": index,
            "error_code": exc.code,
            "base_offset": -1,
            "log_start_offset": -1,
            "error_message": exc.message or None,
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
    return entry


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


def _refuse_all(request: Any, error: ErrorCode, message: str | None) -> list[dict[str, Any]]:
    return [
        {
            "name": topic.name,
            "partition_responses": [
                {
                    "index": p.index,
                    "error_code": error,
                    "base_offset": -1,
                    "log_start_offset": -1,
                    "error_message": message,
                }
                for p in topic.partition_data
            ],
        }
        for topic in request.topic_data
    ]


# Produce v0-2 (the pre-2017 message formats) are refused as in Kafka 4: kio has no schema for
# them, so such a request closes the connection. v0 is still advertised because librdkafka
# before 2.10 turns off compression without it (KAFKA-18659).
@handles(ApiKey.PRODUCE, 0, 12)
async def produce(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    acks = request.acks
    flushes: list[_Flush] = []
    transactional_id = getattr(request, "transactional_id", None)
    if transactional_id is not None and not access.permits(
        state, ctx, AclResourceType.TRANSACTIONAL_ID, transactional_id
    ):
        responses = _refuse_all(request, ErrorCode.transactional_id_authorization_failed, None)
    elif acks not in (0, 1, -1):
        responses = _refuse_all(
            request, ErrorCode.invalid_required_acks, f"acks must be 0, 1 or -1, not {acks}"
        )
    else:
        responses = [
            {
                "name": topic.name,
                "partition_responses": [
                    _append(state, ctx, topic.name, partition, flushes)
                    for partition in topic.partition_data
                ],
            }
            for topic in request.topic_data
        ]
    if flushes:
        await _await_flushes(state, flushes)
    if acks == 0:
        if any(
            p["error_code"] != ErrorCode.none for t in responses for p in t["partition_responses"]
        ):
            ctx.close_connection = True
        return None
    return ctx.respond({"responses": responses, "throttle_time": 0})
