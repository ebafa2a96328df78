"""Keeping a node's own topics (MetadataStore and partition logs) in step with the image.

In cluster mode the metadata log decides which topics exist, how many partitions each has
and their config overrides; the request handlers, the group and transaction coordinators
and the log manager still read the node's MetadataStore, as on one broker. After every
committed batch this makes the store say what the image says: topics created (their logs
made for every partition; the ReplicaManager, told next, drops those this node does not
replicate), partitions added, overrides changed, topics removed (logs deleted), and this
broker's dynamic configs and the cluster-wide defaults those of the image's BROKER
ConfigRecords. A topic is matched by id, so a topic deleted and created again under its
name is a new topic here too. The node calls this only once its image has caught up with
the log it had at start-up: an image half replayed would delete topics it has not seen yet.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..metadata.store import TopicRecord
from ..protocol.names import INTERNAL_TOPICS, ConfigResourceType
from .image import MetadataImage, TopicImage

if TYPE_CHECKING:
    from ..state import BrokerState

log = logging.getLogger(__name__)

CLUSTER_DEFAULT = ""
"""The BROKER config resource of the cluster-wide dynamic defaults."""


def follow_image(state: BrokerState, image: MetadataImage) -> None:
    """Make `state`'s topics those of `image` (see the module docstring)."""
    for name, record in list(state.topics.items()):
        wanted = image.topics.get(name)
        if wanted is None or wanted.topic_id != record.topic_id:
            state.delete_topic(name)
    for name, topic in image.topics.items():
        configs = dict(image.topic_config(name))
        existing = state.topics.get(name)
        if existing is None:
            state.add_topic(_record(topic, configs))
            continue
        if len(topic.partitions) > existing.partitions:
            state.add_partitions(existing, len(topic.partitions))
        if existing.configs != configs:
            state.set_topic_configs(name, configs)
    broker = state.config
    for target, resource in (
        (broker.dynamic, str(state.node_id)),
        (broker.dynamic_default, CLUSTER_DEFAULT),
    ):
        values = dict(image.configs.get((ConfigResourceType.BROKER, resource), {}))
        if target != values:
            state.replace_broker_configs(target, values)


def _record(topic: TopicImage, configs: dict[str, str]) -> TopicRecord:
    return TopicRecord(
        topic.name,
        topic.topic_id,
        len(topic.partitions),
        configs,
        internal=topic.name in INTERNAL_TOPICS,
    )
