"""Durable cluster metadata: one JSON document, and the journal of the changes made since.

Kafka keeps this in its `__cluster_metadata` log; a single-node broker needs only the
latest state, so a document written with temp file + fsync + rename is enough and can be
read by people. Each change is appended to a journal (journal.py) rather than rewriting the
document, which is rewritten with all of them at each start and when the journal has grown
as large as it: the document alone may lag behind until then. `meta.properties` is written
as Kafka writes it, with the cluster and node ids.

Every change is written before it becomes visible in memory, as Kafka commits a metadata
record before any broker acts on it: a write that fails (a full disk) changes nothing, so no
topic can accept records and then vanish at the next start. A document or meta.properties
that cannot be read stops the broker with one line naming the file and what to do.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import DataDirError, read_json, write_atomically
from ..protocol.kafka_uuid import kafka_uuid_string, parse_kafka_uuid
from .journal import Change, Journal

METADATA_FILE = "localbroker-metadata.json"
JOURNAL_FILE = "localbroker-metadata.journal"
COMPACT_AT_LEAST = 64 * 1024
"""Journal bytes below which it is never compacted (a small document is cheap to replay)."""
META_PROPERTIES = "meta.properties"
PRODUCER_ID_BLOCK = 1000
_REQUIRED_META_PROPERTIES = ("cluster.id", "node.id")
log = logging.getLogger(__name__)


def new_topic_id() -> uuid.UUID:
    """A random id that is neither the zero UUID nor Kafka's reserved metadata topic id."""
    while True:
        value = uuid.uuid4()
        if value.int > 1 and not kafka_uuid_string(value).startswith("-"):
            return value


class MetadataConflict(DataDirError):
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

    @classmethod
    def from_json(cls, name: str, value: Any) -> TopicRecord:
        """A topic as stored; TypeError, KeyError or ValueError when it is not one."""
        partitions = value["partitions"]
        configs = value.get("configs", {})
        if type(partitions) is not int or partitions < 1 or not _strings(configs):
            raise ValueError(f"topic {name!r} is malformed")
        return cls(
            name,
            parse_kafka_uuid(value["topic_id"]),
            partitions,
            dict(configs),
            bool(value.get("internal", False)),
        )


def _strings(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


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
        self._journal = Journal(data_dir / JOURNAL_FILE)
        self._document_size = 0
        self._load()

    # -- reading --------------------------------------------------------------------------

    def _load(self) -> None:
        properties = self._read_meta_properties()
        if self.path.exists():
            self._read_document()
            self._replay_journal()
        else:  # a journal without its document would change a state it cannot see: dropped
            # A directory formatted ahead (`kafka-storage.sh format -t ID` writes only
            # meta.properties) keeps the cluster id it was given.
            self.cluster_id = properties.get("cluster.id") or kafka_uuid_string(uuid.uuid4())
        self._check_meta_properties(properties)
        self.save()

    def _read_document(self) -> None:
        try:
            document = read_json(self.path)
            cluster_id = document["cluster_id"]
            topics = [TopicRecord.from_json(n, t) for n, t in document["topics"].items()]
            broker_configs = document.get("broker_configs", {})
            default_broker_configs = document.get("default_broker_configs", {})
            block_end = document.get("producer_id_block_end", 0)
            if not isinstance(cluster_id, str) or not cluster_id:
                raise ValueError("no cluster_id")
            if not _strings(broker_configs) or not _strings(default_broker_configs):
                raise ValueError("broker configs are malformed")
            if type(block_end) is not int or block_end < 0:
                raise ValueError("producer_id_block_end is malformed")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataDirError(
                f"{self.path} is unreadable ({detail}); restore it from a backup, or move it"
                " away to start without it (the partition directories it lists are then kept"
                " aside as <topic>-<partition>.<id>-stray directories)"
            ) from None
        self.cluster_id = cluster_id
        for topic in topics:
            self._index(topic)
        self.broker_configs = dict(broker_configs)
        self.default_broker_configs = dict(default_broker_configs)
        self._producer_id_block_end = self._next_producer_id = block_end

    def _replay_journal(self) -> None:
        try:
            for change in self._journal.read():
                self._apply(change)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            detail = f"no {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataDirError(
                f"{self._journal.path} is unreadable ({detail}); restore it from a backup, or"
                f" move it away to start with {METADATA_FILE} alone (the changes since it was"
                " last written are then lost)"
            ) from None

    def _apply(self, change: Any) -> None:
        """Make a journal's change in memory (each sets or removes one key: idempotent)."""
        if "topic" in change:
            name, value = change["topic"], change["value"]
            if not isinstance(name, str):
                raise ValueError("a topic name is malformed")
            old = self.topics.pop(name, None)
            if old is not None:
                del self.topics_by_id[old.topic_id]
            if value is not None:
                self._index(TopicRecord.from_json(name, value))
        elif "producer_id_block_end" in change:
            block_end = change["producer_id_block_end"]
            if type(block_end) is not int or block_end < 0:
                raise ValueError("producer_id_block_end is malformed")
            self._producer_id_block_end = self._next_producer_id = block_end
        else:
            ((key, values),) = change.items()
            targets = {
                "broker_configs": self.broker_configs,
                "default_broker_configs": self.default_broker_configs,
            }
            target = targets.get(key)
            if target is None or not _strings(values):
                raise ValueError("broker configs are malformed")
            target.clear()
            target.update(values)

    def _read_meta_properties(self) -> dict[str, str]:
        """meta.properties as Kafka's storage tool writes it; {} when there is none."""
        path = self.data_dir / META_PROPERTIES
        if not path.exists():
            return {}

        def unreadable(reason: str) -> DataDirError:
            return DataDirError(
                f"{path} is unreadable ({reason}); fix it, or delete it and localbroker"
                f" writes a new one with the cluster id from {METADATA_FILE}"
            )

        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise unreadable("it is not UTF-8 text") from None
        properties: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith(("#", "!")):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                raise unreadable(f"line {number} is not key=value")
            properties[key.strip()] = value.strip()
        missing = [key for key in _REQUIRED_META_PROPERTIES if not properties.get(key)]
        if missing:
            raise unreadable(f"it has no {', '.join(missing)}")
        if not properties["node.id"].isdigit():
            raise unreadable(f"node.id={properties['node.id']} is not a node id")
        return properties

    def _check_meta_properties(self, properties: dict[str, str]) -> None:
        path = self.data_dir / META_PROPERTIES
        if properties:
            if properties["cluster.id"] != self.cluster_id:
                raise MetadataConflict(
                    f"{path} belongs to cluster {properties['cluster.id']}, not {self.cluster_id}"
                )
            if int(properties["node.id"]) != self.node_id:
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

    # -- writing --------------------------------------------------------------------------

    def save(self) -> None:
        """Write the state as it is in memory into the document, and empty the journal."""
        document = {
            "version": 1,
            "cluster_id": self.cluster_id,
            "topics": {name: topic.to_json() for name, topic in sorted(self.topics.items())},
            "broker_configs": dict(self.broker_configs),
            "default_broker_configs": dict(self.default_broker_configs),
            "producer_id_block_end": self._producer_id_block_end,
        }
        data = json.dumps(document, indent=1).encode()
        write_atomically(self.path, data)
        self._document_size = len(data)
        self._journal.clear()

    def _write(self, change: Change) -> None:
        """Make `change` durable (the journal); memory is not touched."""
        self._journal.append(change)

    def _compact_if_due(self) -> None:
        """Rewrite the document once the journal is as large as it: the cost of a rewrite,
        spread over the changes since the last, stays the same per change. A failure leaves
        the journal as it was, every change in it, and is tried again at the next change."""
        if self._journal.size < max(self._document_size, COMPACT_AT_LEAST):
            return
        try:
            self.save()
        except OSError as exc:
            log.warning("cannot compact the metadata journal into %s: %s", self.path, exc)

    def _index(self, topic: TopicRecord) -> None:
        self.topics[topic.name] = topic
        self.topics_by_id[topic.topic_id] = topic

    def add_topic(self, topic: TopicRecord) -> None:
        self._write({"topic": topic.name, "value": topic.to_json()})
        self._index(topic)
        self._compact_if_due()

    def remove_topic(self, name: str) -> TopicRecord:
        topic = self.topics[name]
        self._write({"topic": name, "value": None})
        del self.topics[name]
        del self.topics_by_id[topic.topic_id]
        self._compact_if_due()
        return topic

    def change_topic(
        self, name: str, *, partitions: int | None = None, configs: dict[str, str] | None = None
    ) -> None:
        """Give a topic more partitions or new config overrides, written first."""
        topic = self.topics[name]
        changed = TopicRecord(
            name,
            topic.topic_id,
            topic.partitions if partitions is None else partitions,
            topic.configs if configs is None else configs,
            topic.internal,
        )
        self._write({"topic": name, "value": changed.to_json()})
        topic.partitions, topic.configs = changed.partitions, changed.configs
        self._compact_if_due()

    def replace_broker_configs(self, target: dict[str, str], values: Mapping[str, str]) -> None:
        """Replace the dynamic configs of `target` (this broker's or the cluster default)."""
        if target is self.broker_configs:
            self._write({"broker_configs": dict(values)})
        else:
            assert target is self.default_broker_configs
            self._write({"default_broker_configs": dict(values)})
        target.clear()
        target.update(values)
        self._compact_if_due()

    def next_producer_id(self) -> int:
        """A producer id never handed out before, even across restarts (allocated in blocks)."""
        if self._next_producer_id >= self._producer_id_block_end:
            block_end = self._next_producer_id + PRODUCER_ID_BLOCK
            self._write({"producer_id_block_end": block_end})
            self._producer_id_block_end = block_end
            self._compact_if_due()
        producer_id = self._next_producer_id
        self._next_producer_id += 1
        return producer_id
