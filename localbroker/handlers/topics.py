"""CreateTopics, DeleteTopics and CreatePartitions, with Kafka 4's checks and messages."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..config.topic import describe_topic
from ..errors import KafkaError
from ..metadata.store import TopicRecord
from ..protocol.names import CLUSTER_METADATA_TOPIC, AclOperation, AclResourceType, ApiKey
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

_DUPLICATE = KafkaError(ErrorCode.invalid_request, "Duplicate topic name.")
_TOPIC = AclResourceType.TOPIC


def _error(exc: KafkaError) -> dict[str, Any]:
    return {"error_code": exc.code, "error_message": exc.message or None}


def _partition_count(state: BrokerState, topic: Any) -> int:
    """Partitions to create, from num_partitions or a manual replica assignment."""
    if not topic.assignments:
        return int(topic.num_partitions)
    if topic.num_partitions != -1 or topic.replication_factor != -1:
        raise KafkaError(
            ErrorCode.invalid_request,
            "Both numPartitions or replicationFactor and replicasAssignments were set."
            " Both cannot be used at the same time.",
        )
    indexes = sorted(a.partition_index for a in topic.assignments)
    if indexes != list(range(len(indexes))):
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            "Partitions should be consecutive and start from 0.",
        )
    for assignment in topic.assignments:
        if list(assignment.broker_ids) != [state.node_id]:
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes brokers {list(assignment.broker_ids)}"
                f" but only broker {state.node_id} is registered.",
            )
    return len(indexes)


def _created(state: BrokerState, record: TopicRecord, describable: bool) -> dict[str, Any]:
    """A created topic's answer: its configs, partitions and replication factor only to a
    principal that may DESCRIBE_CONFIGS it (TOPIC_AUTHORIZATION_FAILED as the config error
    to others), as Kafka's controller answers."""
    result: dict[str, Any] = {
        "name": record.name,
        "topic_id": record.topic_id,
        "error_code": ErrorCode.none,
        "error_message": None,
    }
    if not describable:
        return {**result, "topic_config_error_code": ErrorCode.topic_authorization_failed}
    entries = describe_topic(state.config, record.configs)
    return {
        **result,
        "num_partitions": record.partitions,
        "replication_factor": 1,
        "configs": [
            {
                "name": e.name,
                "value": e.value,
                "read_only": False,
                "config_source": e.source,
                "is_sensitive": False,
            }
            for e in sorted(entries, key=lambda e: e.name)
        ],
    }


@handles(ApiKey.CREATE_TOPICS, 2, 7)
def create_topics(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    counts = Counter(topic.name for topic in request.topics)
    results = []
    for topic in request.topics:
        try:
            if counts[topic.name] > 1:
                raise _DUPLICATE
            if topic.name != CLUSTER_METADATA_TOPIC and not access.permits(
                state, ctx, _TOPIC, topic.name, AclOperation.CREATE
            ):
                raise KafkaError(ErrorCode.topic_authorization_failed, "Authorization failed.")
            record = state.create_topic(
                topic.name,
                _partition_count(state, topic),
                1 if topic.assignments else topic.replication_factor,
                {c.name: c.value for c in topic.configs},
                validate_only=request.validate_only,
            )
            describable = access.permits(
                state, ctx, _TOPIC, record.name, AclOperation.DESCRIBE_CONFIGS, quiet=True
            )
            results.append(_created(state, record, describable))
        except KafkaError as exc:
            results.append({"name": topic.name, "topic_id": None, "configs": None, **_error(exc)})
    return ctx.respond({"throttle_time": 0, "topics": results})


def _deletable(state: BrokerState, ctx: RequestContext, name: str) -> bool:
    return access.permits(state, ctx, _TOPIC, name, AclOperation.DELETE)


def _may_describe(state: BrokerState, ctx: RequestContext, name: str) -> bool:
    return access.permits(state, ctx, _TOPIC, name, AclOperation.DESCRIBE)


@handles(ApiKey.DELETE_TOPICS, 1, 6)
def delete_topics(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if ctx.api_version >= 6:
        wanted = [(t.name, t.topic_id) for t in request.topics]
    else:
        wanted = [(name, None) for name in request.topic_names]
    results = []
    for name, topic_id in wanted:
        result: dict[str, Any] = {"name": name, "topic_id": topic_id, "error_code": ErrorCode.none}
        try:
            if name is None:
                record = state.topic_by_id(topic_id) if topic_id is not None else None
                if record is None:
                    raise KafkaError(ErrorCode.unknown_topic_id)
                if not _deletable(state, ctx, record.name):
                    if _may_describe(state, ctx, record.name):
                        result["name"] = record.name
                    raise access.refusal(_TOPIC)
                name = record.name
            elif not _may_describe(state, ctx, name) or (
                name in state.topics and not _deletable(state, ctx, name)
            ):
                raise access.refusal(_TOPIC)
            deleted = state.delete_topic(name)
            result.update(name=deleted.name, topic_id=deleted.topic_id)
        except KafkaError as exc:
            result.update(_error(exc))
        results.append(result)
    return ctx.respond({"throttle_time": 0, "responses": results})


@handles(ApiKey.CREATE_PARTITIONS, 0, 3)
def create_partitions(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    counts = Counter(topic.name for topic in request.topics)
    results = []
    for topic in request.topics:
        result: dict[str, Any] = {"name": topic.name, "error_code": ErrorCode.none}
        try:
            if counts[topic.name] > 1:
                raise _DUPLICATE
            if not access.permits(state, ctx, _TOPIC, topic.name):
                raise KafkaError(ErrorCode.topic_authorization_failed)
            if topic.assignments and any(
                list(a.broker_ids) != [state.node_id] for a in topic.assignments
            ):
                raise KafkaError(
                    ErrorCode.invalid_replica_assignment,
                    f"Only broker {state.node_id} is registered.",
                )
            state.create_partitions(topic.name, topic.count, validate_only=request.validate_only)
        except KafkaError as exc:
            result.update(_error(exc))
        results.append(result)
    return ctx.respond({"throttle_time": 0, "results": results})
