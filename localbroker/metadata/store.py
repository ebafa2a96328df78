"""Durable cluster metadata: one JSON document, replaced atomically on every change.

Kafka keeps this in its `__cluster_metadata` log; a single-node broker needs only the
latest state, so a document written with temp file + fsync + rename is enough and can be
read by people. `meta.properties` is written as Kafka writes it, with the cluster and node ids.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import write_atomically
from ..protocol.kafka_uuid import kafka_uuid_string, parse_kafka_uuid

METADATA_FILE = "localbroker-metadata.json"
META_PROPERTIES = "meta.properties"
PRODUCER_ID_BLOCK = 1000


def new_topic_id() -> uuid.UUID:
    """A random id that is neither the zero UUID nor Kafka's reserved metadata topic id."""
    while True:
        value = uuid.uuid4()
        if value.int > 1 and not kafka_uuid_string(value).startswith("-"):
            return value


class MetadataConflict(Exception):
    pass


@dataclass(slots=True)
class TopicRecord:
    name: str
    topic_id: uuid.UUID
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)
    internal: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "topic_id": kafka_uuid_string(self.topic_id),
            "partitions": self.partitions,
            "configs": self.configs,
            "internal": self.internal,
        }


class MetadataStore:
    """The broker's persistent view of topics, dynamic broker configs and producer ids."""

    def __init__(self, data_dir: Path, node_id: int) -> None:
        self.data_dir = data_dir
        self.path = data_dir / METADATA_FILE
        self.node_id = node_id
        self.topics: dict[str, TopicRecord] = {}
        self.topics_by_id: dict[uuid.UUID, TopicRecord] = {}
        self.broker_configs: dict[str, str] = {}
        self.default_broker_configs: dict[str, str] = {}
        self._producer_id_block_end = 0
        self._next_producer_id = 0
        self.cluster_id = ""
        self._load()

    def _load(self) -> None:
        if self.path.exists():
            document = json.loads(self.path.read_text())
            self.cluster_id = document["cluster_id"]
            for name, topic in document.get("topics", {}).items():
                self._index(
                    TopicRecord(
                        name,
                        parse_kafka_uuid(topic["topic_id"]),
                        int(topic["partitions"]),
                        dict(topic.get("configs", {})),
                        bool(topic.get("internal", False)),
                    )
                )
            self.broker_configs = dict(document.get("broker_configs", {}))
            self.default_broker_configs = dict(document.get("default_broker_configs", {}))
            self._producer_id_block_end = int(document.get("producer_id_block_end", 0))
            self._next_producer_id = self._producer_id_block_end
        else:
            # A directory formatted ahead (`kafka-storage.sh format -t ID` writes only
            # meta.properties) keeps the cluster id it was given.
            formatted = self._meta_properties().get("cluster.id")
            self.cluster_id = formatted or kafka_uuid_string(uuid.uuid4())
        self._check_meta_properties()
        self.save()

    def _meta_properties(self) -> dict[str, str]:
        path = self.data_dir / META_PROPERTIES
        if not path.exists():
            return {}
        return dict(
            line.split("=", 1)
            for line in path.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )

    def _check_meta_properties(self) -> None:
        path = self.data_dir / META_PROPERTIES
        properties = self._meta_properties()
        if properties:
            if properties.get("cluster.id", self.cluster_id) != self.cluster_id:
                raise MetadataConflict(
                    f"{path} belongs to cluster {properties['cluster.id']}, not {self.cluster_id}"
                )
            if int(properties.get("node.id", self.node_id)) != self.node_id:
                raise MetadataConflict(
                    f"{self.data_dir} belongs to node.id={properties['node.id']}; start with"
                    f" --node-id {properties['node.id']} or use another --data-dir"
                )
            return
        write_atomically(
            path,
            (
                "#\n#Written by localbroker\n"
                f"cluster.id={self.cluster_id}\n"
                f"directory.id={kafka_uuid_string(uuid.uuid4())}\n"
                f"node.id={self.node_id}\nversion=1\n"
            ).encode(),
        )

    def save(self) -> None:
        document = {
            "version": 1,
            "cluster_id": self.cluster_id,
            "topics": {name: topic.to_json() for name, topic in sorted(self.topics.items())},
            "broker_configs": self.broker_configs,
            "default_broker_configs": self.default_broker_configs,
            "producer_id_block_end": self._producer_id_block_end,
        }
        write_atomically(self.path, json.dumps(document, indent=1).encode())

    def _index(self, topic: TopicRecord) -> None:
        self.topics[topic.name] = topic
        self.topics_by_id[topic.topic_id] = topic

    def add_topic(self, topic: TopicRecord) -> None:
        self._index(topic)
        self.save()

    def remove_topic(self, name: str) -> TopicRecord:
        topic = self.topics.pop(name)
        del self.topics_by_id[topic.topic_id]
        self.save()
        return topic

    def next_producer_id(self) -> int:
        """A producer id never handed out before, even across restarts (allocated in blocks)."""
        if self._next_producer_id >= self._producer_id_block_end:
            self._producer_id_block_end = self._next_producer_id + PRODUCER_ID_BLOCK
            self.save()
        producer_id = self._next_producer_id
        self._next_producer_id += 1
        return producer_id
