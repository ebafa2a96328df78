"""Metadata: brokers, topics with ids, partitions and leaders; auto-creates topics on request."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..cluster.partitions import NO_LEADER, PartitionRegistration
from ..errors import KafkaError
from ..metadata.store import TopicRecord
from ..protocol.build import build
from ..protocol.codec import response_schema
from ..protocol.names import AclOperation, AclResourceType, ApiKey
from ..protocol.spliced import Spliced, element_schema, encode_entity
from . import access
from .brokers import client_controller_id, live_nodes
from .leader import NO_EPOCH
from .registry import RequestContext, handles
from .topic_entries import encoded_topics

if TYPE_CHECKING:
    from ..state import BrokerState

OFFLINE = PartitionRegistration((), (), NO_LEADER, NO_EPOCH, NO_EPOCH)
"""What is said of a partition of a topic the cluster view does not know (yet)."""


def partition_entry(
    index: int, registration: PartitionRegistration, alive: Collection[int]
) -> dict[str, Any]:
    """One partition as KRaftMetadataCache.getPartitionMetadata answers it: a leader that is not
    alive on the client's listener is no leader (LEADER_NOT_AVAILABLE, leader -1, the epoch
    kept), and replicas not alive there are offline."""
    led = registration.leader in alive
    return {
        "error_code": ErrorCode.none if led else ErrorCode.leader_not_available,
        "partition_index": index,
        "leader_id": registration.leader if led else NO_LEADER,
        "leader_epoch": registration.leader_epoch,
        "replica_nodes": list(registration.replicas),
        "isr_nodes": list(registration.isr),
        "offline_replicas": [r for r in registration.replicas if r not in alive],
    }


def registrations(state: BrokerState, topic: TopicRecord) -> tuple[PartitionRegistration, ...]:
    """Each partition's registration in the cluster view, by partition index."""
    view = state.cluster
    return tuple(view.partition(topic.name, index) or OFFLINE for index in range(topic.partitions))


def topic_entry(
    topic: TopicRecord, partitions: Sequence[PartitionRegistration], alive: Collection[int]
) -> dict[str, Any]:
    """A topic's Metadata entry from its partitions' registrations; `alive` is the ids of the
    brokers live on the client's listener."""
    return {
        "error_code": ErrorCode.none,
        "name": topic.name,
        "topic_id": topic.topic_id,
        "is_internal": topic.internal,
        "partitions": [
            partition_entry(index, registration, alive)
            for index, registration in enumerate(partitions)
        ],
    }


def _error_entry(error: ErrorCode, name: str | None, topic_id: Any = None) -> dict[str, Any]:
    return {
        "error_code": error,
        "name": name,
        "topic_id": topic_id,
        "is_internal": False,
        "partitions": [],
    }


def _describable(state: BrokerState, ctx: RequestContext, name: str, quiet: bool = False) -> bool:
    return access.permits(
        state, ctx, AclResourceType.TOPIC, name, AclOperation.DESCRIBE, quiet=quiet
    )


def _by_id(state: BrokerState, ctx: RequestContext, topic_id: Any) -> TopicRecord | dict[str, Any]:
    """A topic asked for by id; as by name, one the principal may not describe is refused, the
    id given back (ids are not secret)."""
    topic = state.topic_by_id(topic_id)
    if topic is None:
        return _error_entry(ErrorCode.unknown_topic_id, None, topic_id)
    if not _describable(state, ctx, topic.name):
        return _error_entry(ErrorCode.topic_authorization_failed, None, topic_id)
    return topic


def _by_name(
    state: BrokerState, ctx: RequestContext, name: str, auto_create: bool
) -> TopicRecord | dict[str, Any]:
    """One named topic. As Kafka, a topic the principal may not describe is refused before
    anything says whether it exists."""
    if not _describable(state, ctx, name):
        return _error_entry(ErrorCode.topic_authorization_failed, name)
    topic = state.topics.get(name)
    if topic is not None:
        return topic
    if not auto_create or not state.config.auto_create_topics_enable:
        return _error_entry(ErrorCode.unknown_topic_or_partition, name)
    if not access.permits(state, ctx, AclResourceType.TOPIC, name, AclOperation.CREATE):
        return _error_entry(ErrorCode.topic_authorization_failed, name)
    try:
        return state.ensure_topic(name)
    except KafkaError as exc:
        return _error_entry(exc.code, name)


def _by_id_before_v12(ctx: RequestContext, requested: Any) -> bool:
    """Metadata v10-11 carry topic ids, but Kafka refuses requests that use them (a null name
    or a non-zero id, which kio reads as other than None): only v12 answers topics by id."""
    return ctx.api_version < 12 and any(
        topic.name is None or getattr(topic, "topic_id", None) is not None
        for topic in requested or ()
    )


@handles(ApiKey.METADATA, 0, 13)
def metadata(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """As Kafka's KafkaApis.handleTopicMetadataRequest: once a request carries topic ids, the
    ids are looked up and the names beside them ignored (the Java client sends an empty name
    with each id, other clients a null one)."""
    requested = request.topics
    if _by_id_before_v12(ctx, requested):
        # INVALID_REQUEST for every topic, as MetadataRequest.getErrorResponse answers.
        refused = [
            _error_entry(ErrorCode.invalid_request, t.name or "", t.topic_id) for t in requested
        ]
        return ctx.respond({"throttle_time": 0, "brokers": [], "topics": refused})
    topics: list[TopicRecord | dict[str, Any]]
    if requested is None or (ctx.api_version == 0 and not requested):
        topics = [
            topic
            for topic in state.topics.values()
            if _describable(state, ctx, topic.name, quiet=True)
        ]
    elif topic_ids := list(dict.fromkeys(t.topic_id for t in requested if _has_id(t))):
        topics = [_by_id(state, ctx, topic_id) for topic_id in topic_ids]
    else:
        auto_create = getattr(request, "allow_auto_topic_creation", True)
        topics = [_by_name(state, ctx, item.name, auto_create) for item in requested]
    with_operations = getattr(request, "include_topic_authorized_operations", False)
    nodes = live_nodes(state, ctx.listener)
    response = {
        "throttle_time": 0,
        "brokers": list(nodes.values()),
        "cluster_id": state.store.cluster_id,
        "controller_id": client_controller_id(state, nodes),
        "topics": [],
        "error_code": ErrorCode.none,
    }
    if getattr(request, "include_cluster_authorized_operations", False):
        response["cluster_authorized_operations"] = access.cluster_operations(state, ctx)
    elements = _encoded(state, ctx, topics, with_operations, frozenset(nodes))
    return Spliced(ctx.respond(response), "topics", elements)


def _encoded(
    state: BrokerState,
    ctx: RequestContext,
    topics: list[TopicRecord | dict[str, Any]],
    with_operations: bool,
    alive: frozenset[int],
) -> list[bytes]:
    """Each topic's entry as encoded in this request's version: an existing topic's kept in
    `encoded_topics` under its stamp, an error entry's encoded each time. `alive` is the ids
    of the brokers live on the client's listener."""
    schema = element_schema(response_schema(ApiKey.METADATA, ctx.api_version), "topics")
    kept = encoded_topics(state)
    kept.retain(state.topics)
    elements = []
    for topic in topics:
        name = topic.name if isinstance(topic, TopicRecord) else topic["name"]
        operations = None
        if with_operations and name and not _refused(topic):
            operations = access.authorized_operations(state, ctx, AclResourceType.TOPIC, name)
        if isinstance(topic, TopicRecord):
            partitions = registrations(state, topic)
            encode = partial(_encode_topic, schema, topic, partitions, alive, operations)
            stamp = (topic.topic_id, topic.internal, partitions, alive)
            elements.append(kept.entry(name, stamp, (ctx.api_version, operations), encode))
        else:
            elements.append(_encode_entry(schema, topic, operations))
    return elements


def _refused(topic: TopicRecord | dict[str, Any]) -> bool:
    return isinstance(topic, dict) and topic["error_code"] == ErrorCode.topic_authorization_failed


def _encode_topic(
    schema: type,
    topic: TopicRecord,
    partitions: tuple[PartitionRegistration, ...],
    alive: frozenset[int],
    operations: int | None,
) -> bytes:
    return _encode_entry(schema, topic_entry(topic, partitions, alive), operations)


def _encode_entry(schema: type, entry: dict[str, Any], operations: int | None) -> bytes:
    if operations is not None:
        entry = {**entry, "topic_authorized_operations": operations}
    return encode_entity(build(schema, entry))


def _has_id(requested: Any) -> bool:
    """Whether a requested topic names an id (kio reads Kafka's zero UUID, "no id", as None)."""
    return getattr(requested, "topic_id", None) is not None
