"""CreateTopics, DeleteTopics and CreatePartitions, with Kafka 4's checks and messages."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..config.topic import describe_topic
from ..errors import KafkaError
from ..metadata.store import TopicRecord
from ..protocol.names import CLUSTER_METADATA_TOPIC, AclOperation, AclResourceType, ApiKey
from . import access, forwarded_topics
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

_DUPLICATE = KafkaError(ErrorCode.invalid_request, "Duplicate topic name.")
_DUPLICATE_ID = KafkaError(ErrorCode.invalid_request, "Duplicate topic id.")
_TOPIC = AclResourceType.TOPIC
MAX_PARTITIONS_PER_BATCH = 10_000
"""Partitions one CreateTopics or CreatePartitions request may create in all (Kafka's
ReplicationControlManager.MAX_PARTITIONS_PER_BATCH, KAFKA-17870 and KAFKA-19673)."""
_TOO_MANY = KafkaError(
    ErrorCode.policy_violation, "Excessively large number of partitions per request."
)


def _once_each(topics: Any) -> list[Any]:
    """The first of each name: Kafka's controller answers a name asked twice once."""
    seen: dict[str, Any] = {}
    for topic in topics:
        seen.setdefault(topic.name, topic)
    return list(seen.values())


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
        _check_replicas(state, list(assignment.broker_ids))
    return len(indexes)


def _check_replicas(state: BrokerState, replicas: list[int]) -> None:
    """One partition's manual assignment, as Kafka's controller checks it
    (ReplicationControlManager.validateManualPartitionAssignment): the only broker there is,
    once."""
    if not replicas:
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes an empty replica list.",
        )
    previous = None
    for broker in sorted(replicas):
        if broker != state.node_id:
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes broker {broker}, but no such broker"
                " is registered.",
            )
        if broker == previous:
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes the broker {broker} more than once.",
            )
        previous = broker


def _check_new_partitions(state: BrokerState, topic: Any) -> None:
    """CreatePartitions' manual assignment, checked after the topic and the count, as Kafka's
    controller does: one assignment per partition added, each valid."""
    state.create_partitions(topic.name, topic.count, validate_only=True)
    additional = topic.count - state.topics[topic.name].partitions
    if len(topic.assignments) != additional:
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            f"Attempted to add {additional} additional partition(s), but only"
            f" {len(topic.assignments)} assignment(s) were specified.",
        )
    for assignment in topic.assignments:
        _check_replicas(state, list(assignment.broker_ids))


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
    entries = describe_topic(
        state.config, record.configs, schema_validation=state.schema_ids is not None
    )
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


def _requested_partitions(state: BrokerState, topics: Any) -> int:
    """Partitions a CreateTopics request asks for in all, counted as Kafka counts them."""
    total = 0
    for topic in topics:
        if topic.assignments:
            total += len(topic.assignments)
        elif topic.num_partitions == -1:
            total += state.config.num_partitions
        elif topic.num_partitions > 0:
            total += topic.num_partitions
    return total


def _added_partitions(state: BrokerState, topics: Any) -> int:
    """Partitions a CreatePartitions request would add to existing topics, in all."""
    existing = {t.name: state.topics[t.name].partitions for t in topics if t.name in state.topics}
    return sum(max(t.count - existing[t.name], 0) for t in topics if t.name in existing)


@handles(ApiKey.CREATE_TOPICS, 0, 7)
def create_topics(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if state.controller_channel is not None:  # cluster mode
        return forwarded_topics.create_topics(state, ctx, request)
    if _requested_partitions(state, request.topics) > MAX_PARTITIONS_PER_BATCH:
        refused = {"topic_id": None, "configs": None, **_error(_TOO_MANY)}
        results = [{"name": topic.name, **refused} for topic in request.topics]
        return ctx.respond({"throttle_time": 0, "topics": results})
    counts = Counter(topic.name for topic in request.topics)
    results = []
    for topic in _once_each(request.topics):
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
                validate_only=getattr(request, "validate_only", False),  # v1+
            )
            describable = access.permits(
                state, ctx, _TOPIC, record.name, AclOperation.DESCRIBE_CONFIGS, quiet=True
            )
            results.append(_created(state, record, describable))
        except KafkaError as exc:  # Kafka: an empty list of configs, not a null one
            results.append({"name": topic.name, "topic_id": None, "configs": [], **_error(exc)})
    return ctx.respond({"throttle_time": 0, "topics": results})


def _deletable(state: BrokerState, ctx: RequestContext, name: str) -> bool:
    return access.permits(state, ctx, _TOPIC, name, AclOperation.DELETE)


def _may_describe(state: BrokerState, ctx: RequestContext, name: str) -> bool:
    return access.permits(state, ctx, _TOPIC, name, AclOperation.DESCRIBE)


@handles(ApiKey.DELETE_TOPICS, 0, 6)
def delete_topics(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    if state.controller_channel is not None:  # cluster mode
        return forwarded_topics.delete_topics(state, ctx, request)
    if ctx.api_version >= 6:
        wanted = [(t.name, t.topic_id) for t in request.topics]
    else:
        wanted = [(name, None) for name in request.topic_names]
    # a name, or an id, asked twice is answered once, refused, as Kafka's controller does
    asked = Counter(name if name is not None else topic_id for name, topic_id in wanted)
    results = []
    for name, topic_id in dict.fromkeys(wanted):
        result: dict[str, Any] = {"name": name, "topic_id": topic_id, "error_code": ErrorCode.none}
        try:
            if asked[name if name is not None else topic_id] > 1:
                raise _DUPLICATE if name is not None else _DUPLICATE_ID
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
    if state.controller_channel is not None:  # cluster mode
        return forwarded_topics.create_partitions(state, ctx, request)
    if _added_partitions(state, request.topics) > MAX_PARTITIONS_PER_BATCH:
        results = [{"name": topic.name, **_error(_TOO_MANY)} for topic in request.topics]
        return ctx.respond({"throttle_time": 0, "results": results})
    counts = Counter(topic.name for topic in request.topics)
    results = []
    for topic in _once_each(request.topics):
        result: dict[str, Any] = {"name": topic.name, "error_code": ErrorCode.none}
        try:
            if counts[topic.name] > 1:
                raise _DUPLICATE
            if not access.permits(state, ctx, _TOPIC, topic.name):
                raise KafkaError(ErrorCode.topic_authorization_failed)
            if topic.assignments is not None:
                _check_new_partitions(state, topic)
            state.create_partitions(topic.name, topic.count, validate_only=request.validate_only)
        except KafkaError as exc:
            result.update(_error(exc))
        results.append(result)
    return ctx.respond({"throttle_time": 0, "results": results})
