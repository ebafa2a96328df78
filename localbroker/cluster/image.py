"""The metadata image: what the committed metadata log says, applied record by record.

Every node is a voter, so every node has the committed log and builds the same image from
it (Kafka's MetadataImage, built by MetadataDelta). It answers the request handlers as
their `ClusterView`, the controller decides from it, and `apply` tells a broker which
partitions changed so that it can become leader or follower of each (Kafka's
TopicsDelta.localChanges does the same from a delta).

Records are applied in log order and each must make sense on the image before it: a
record that does not (a partition of a topic the log never created, a change to a broker
that is not registered) raises `MetadataRecordError`, since a node that skipped it would
serve from an image that differs from its peers'.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..protocol.names import ConfigResourceType
from .partition_change import merge
from .partitions import BrokerRegistration, PartitionRegistration
from .records import (
    BrokerRegistrationChangeRecord,
    ConfigRecord,
    FencingChange,
    MetadataRecord,
    MetadataRecordError,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)


@dataclass(slots=True)
class TopicImage:
    name: str
    topic_id: uuid.UUID
    partitions: dict[int, PartitionRegistration] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PartitionChange:
    """One partition's registration before and after a batch; None where it did not exist."""

    topic: str
    partition: int
    old: PartitionRegistration | None
    new: PartitionRegistration | None


@dataclass(slots=True)
class MetadataDelta:
    """What one `apply` changed, for the broker to act on."""

    partitions: dict[tuple[str, int], PartitionChange] = field(default_factory=dict)
    created_topics: list[str] = field(default_factory=list)
    removed_topics: list[str] = field(default_factory=list)

    def note(
        self,
        topic: str,
        partition: int,
        old: PartitionRegistration | None,
        new: PartitionRegistration | None,
    ) -> None:
        earlier = self.partitions.get((topic, partition))
        first = old if earlier is None else earlier.old
        if first == new:
            self.partitions.pop((topic, partition), None)
        else:
            self.partitions[topic, partition] = PartitionChange(topic, partition, first, new)


class MetadataImage:
    def __init__(self) -> None:
        self.brokers: dict[int, BrokerRegistration] = {}
        self.incarnations: dict[int, uuid.UUID] = {}
        """Each registered broker's incarnation id, for the controller's duplicate check."""
        self.registration_offsets: dict[int, int] = {}
        """The offset of each broker's latest RegisterBrokerRecord: a broker is caught up,
        and may be unfenced, once its metadata reaches it."""
        self.topics: dict[str, TopicImage] = {}
        self.topics_by_id: dict[uuid.UUID, TopicImage] = {}
        self.configs: dict[tuple[ConfigResourceType, str], dict[str, str]] = {}
        self.next_producer_id = 0
        """The first producer id of the next block the controller may hand out."""
        self.last_offset = -1
        """The offset of the last record applied (-1 before any)."""
        self.controller_id = -1
        """The quorum's leader, which the quorum tells the image; not a record."""

    # -- ClusterView --------------------------------------------------------------------

    def live_brokers(self) -> Sequence[BrokerRegistration]:
        return [b for _, b in sorted(self.brokers.items()) if not b.fenced]

    def partition(self, topic: str, partition: int) -> PartitionRegistration | None:
        image = self.topics.get(topic)
        return None if image is None else image.partitions.get(partition)

    # -- reading, for the controller ----------------------------------------------------

    def is_active(self, broker_id: int) -> bool:
        """Registered and unfenced: may lead and be in an ISR (Kafka's isActive)."""
        broker = self.brokers.get(broker_id)
        return broker is not None and not broker.fenced

    def topic_config(self, topic: str) -> Mapping[str, str]:
        return self.configs.get((ConfigResourceType.TOPIC, topic), {})

    def partitions_of(self) -> Iterable[tuple[TopicImage, int, PartitionRegistration]]:
        """Every partition, by topic name then partition id."""
        for _, topic in sorted(self.topics.items()):
            for index, registration in sorted(topic.partitions.items()):
                yield topic, index, registration

    # -- applying -----------------------------------------------------------------------

    def apply(self, base_offset: int, records: Sequence[MetadataRecord]) -> MetadataDelta:
        """Apply records at offsets base_offset, base_offset + 1, ... in order."""
        delta = MetadataDelta()
        for i, record in enumerate(records):
            if base_offset + i <= self.last_offset:
                raise MetadataRecordError(
                    f"record at offset {base_offset + i} is not after {self.last_offset}"
                )
            self._apply_one(record, delta)
            if isinstance(record, RegisterBrokerRecord):
                self.registration_offsets[record.broker_id] = base_offset + i
            self.last_offset = base_offset + i
        return delta

    def _apply_one(self, record: MetadataRecord, delta: MetadataDelta) -> None:
        match record:
            case RegisterBrokerRecord():
                self.brokers[record.broker_id] = BrokerRegistration(
                    broker_id=record.broker_id,
                    broker_epoch=record.broker_epoch,
                    endpoints=record.end_points,
                    rack=record.rack,
                    fenced=record.fenced,
                )
                self.incarnations[record.broker_id] = record.incarnation_id
            case BrokerRegistrationChangeRecord():
                broker = self._broker(record.broker_id, record.broker_epoch)
                if record.fenced is not FencingChange.NONE:
                    fenced = record.fenced is FencingChange.FENCE
                    self.brokers[broker.broker_id] = replace(broker, fenced=fenced)
            case UnregisterBrokerRecord():
                self._broker(record.broker_id, record.broker_epoch)
                del self.brokers[record.broker_id]
                del self.incarnations[record.broker_id]
                del self.registration_offsets[record.broker_id]
            case TopicRecord():
                if record.name in self.topics or record.topic_id in self.topics_by_id:
                    raise MetadataRecordError(f"topic {record.name} is already in the image")
                topic = TopicImage(record.name, record.topic_id)
                self.topics[record.name] = self.topics_by_id[record.topic_id] = topic
                delta.created_topics.append(record.name)
            case PartitionRecord():
                topic = self._topic(record.topic_id)
                old = topic.partitions.get(record.partition_id)
                new = PartitionRegistration(
                    replicas=record.replicas,
                    isr=record.isr,
                    leader=record.leader,
                    leader_epoch=record.leader_epoch,
                    partition_epoch=record.partition_epoch,
                    removing_replicas=record.removing_replicas,
                    adding_replicas=record.adding_replicas,
                )
                topic.partitions[record.partition_id] = new
                delta.note(topic.name, record.partition_id, old, new)
            case PartitionChangeRecord():
                topic = self._topic(record.topic_id)
                old = topic.partitions.get(record.partition_id)
                if old is None:
                    raise MetadataRecordError(
                        f"PartitionChangeRecord for {topic.name}-{record.partition_id}, "
                        "which has no PartitionRecord"
                    )
                new = topic.partitions[record.partition_id] = merge(old, record)
                delta.note(topic.name, record.partition_id, old, new)
            case RemoveTopicRecord():
                topic = self._topic(record.topic_id)
                del self.topics[topic.name], self.topics_by_id[topic.topic_id]
                self.configs.pop((ConfigResourceType.TOPIC, topic.name), None)
                for index, old in topic.partitions.items():
                    delta.note(topic.name, index, old, None)
                delta.removed_topics.append(topic.name)
            case ConfigRecord():
                key = (record.resource_type, record.resource_name)
                configs = self.configs.setdefault(key, {})
                if record.value is None:
                    configs.pop(record.name, None)
                else:
                    configs[record.name] = record.value
                if not configs:
                    del self.configs[key]
            case ProducerIdsRecord():
                if record.next_producer_id <= self.next_producer_id:
                    raise MetadataRecordError(
                        f"ProducerIdsRecord moves the next producer id back to "
                        f"{record.next_producer_id} from {self.next_producer_id}"
                    )
                self.next_producer_id = record.next_producer_id

    def _broker(self, broker_id: int, broker_epoch: int) -> BrokerRegistration:
        broker = self.brokers.get(broker_id)
        if broker is None or broker.broker_epoch != broker_epoch:
            raise MetadataRecordError(f"broker {broker_id} epoch {broker_epoch} is not registered")
        return broker

    def _topic(self, topic_id: uuid.UUID) -> TopicImage:
        topic = self.topics_by_id.get(topic_id)
        if topic is None:
            raise MetadataRecordError(f"topic id {topic_id} is not in the image")
        return topic
