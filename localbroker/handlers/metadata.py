"""Metadata: brokers, topics with ids, partitions and leaders; auto-creates topics on request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..metadata.store import TopicRecord
from ..protocol.names import AclOperation, AclResourceType, ApiKey
from . import access
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

LEADER_EPOCH = 0


def broker_entries(state: BrokerState, ctx: RequestContext) -> list[dict[str, Any]]:
    """This broker at the advertised endpoint of the listener the client came in on."""
    listener = state.advertised[ctx.listener]
    return [{"node_id": state.node_id, "host": listener.host, "port": listener.port, "rack": None}]


def topic_entry(state: BrokerState, topic: TopicRecord) -> dict[str, Any]:
    node = state.node_id
    return {
        "error_code": ErrorCode.none,
        "name": topic.name,
        "topic_id": topic.topic_id,
        "is_internal": topic.internal,
        "partitions": [
            {
                "error_code": ErrorCode.none,
                "partition_index": partition,
                "leader_id": node,
                "leader_epoch": LEADER_EPOCH,
                "replica_nodes": [node],
                "isr_nodes": [node],
                "offline_replicas": [],
            }
            for partition in range(topic.partitions)
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


def _by_id(state: BrokerState, ctx: RequestContext, topic_id: Any) -> dict[str, Any]:
    """A topic asked for by id; as by name, one the principal may not describe is refused, the
    id given back (ids are not secret)."""
    topic = state.topic_by_id(topic_id)
    if topic is None:
        return _error_entry(ErrorCode.unknown_topic_id, None, topic_id)
    if not _describable(state, ctx, topic.name):
        return _error_entry(ErrorCode.topic_authorization_failed, None, topic_id)
    return topic_entry(state, topic)


def _by_name(
    state: BrokerState, ctx: RequestContext, name: str, auto_create: bool
) -> dict[str, Any]:
    """One named topic. As Kafka, a topic the principal may not describe is refused before
    anything says whether it exists."""
    if not _describable(state, ctx, name):
        return _error_entry(ErrorCode.topic_authorization_failed, name)
    topic = state.topics.get(name)
    if topic is not None:
        return topic_entry(state, topic)
    if not auto_create or not state.config.auto_create_topics_enable:
        return _error_entry(ErrorCode.unknown_topic_or_partition, name)
    if not access.permits(state, ctx, AclResourceType.TOPIC, name, AclOperation.CREATE):
        return _error_entry(ErrorCode.topic_authorization_failed, name)
    try:
        return topic_entry(state, state.ensure_topic(name))
    except KafkaError as exc:
        return _error_entry(exc.code, name)


@handles(ApiKey.METADATA, 0, 13)
def metadata(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    """As Kafka's KafkaApis.handleTopicMetadataRequest: once a request carries topic ids, the
    ids are looked up and the names beside them ignored (the Java client sends an empty name
    with each id, other clients a null one)."""
    requested = request.topics
    if requested is None or (ctx.api_version == 0 and not requested):
        topics = [
            topic_entry(state, topic)
            for topic in state.topics.values()
            if _describable(state, ctx, topic.name, quiet=True)
        ]
    elif topic_ids := list(dict.fromkeys(t.topic_id for t in requested if _has_id(t))):
        topics = [_by_id(state, ctx, topic_id) for topic_id in topic_ids]
    else:
        auto_create = getattr(request, "allow_auto_topic_creation", True)
        topics = [_by_name(state, ctx, item.name, auto_create) for item in requested]
    if getattr(request, "include_topic_authorized_operations", False):
        for topic in topics:
            if topic["error_code"] != ErrorCode.topic_authorization_failed and topic["name"]:
                topic["topic_authorized_operations"] = access.authorized_operations(
                    state, ctx, AclResourceType.TOPIC, topic["name"]
                )
    response = {
        "throttle_time": 0,
        "brokers": broker_entries(state, ctx),
        "cluster_id": state.store.cluster_id,
        "controller_id": state.node_id,
        "topics": topics,
        "error_code": ErrorCode.none,
    }
    if getattr(request, "include_cluster_authorized_operations", False):
        response["cluster_authorized_operations"] = access.cluster_operations(state, ctx)
    return ctx.respond(response)


def _has_id(requested: Any) -> bool:
    """Whether a requested topic names an id (kio reads Kafka's zero UUID, "no id", as None)."""
    return getattr(requested, "topic_id", None) is not None
