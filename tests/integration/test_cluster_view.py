"""Handlers answering from a cluster-mode metadata image instead of the single-node view.

A running broker (node 0) gets a `MetadataImage` built by applying metadata records (brokers
registered, partitions led by another broker, a partition with no leader, newer leader epochs)
as its `state.cluster`, and answers as Kafka 4.1 does (KRaftMetadataCache, KafkaApis,
ReplicaManager): NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH,
LEADER_NOT_AVAILABLE, COORDINATOR_NOT_AVAILABLE, and KIP-951's current_leader and
node_endpoints. Raw requests see each field; confluent-kafka shows a real client following a
leader that moved to another running broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from brokers import running_broker
from confluent_kafka import Producer
from kio.schema.errors import ErrorCode
from wire import RawClient

from localbroker.cluster.image import MetadataImage
from localbroker.cluster.partitions import NO_LEADER
from localbroker.cluster.records import (
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from localbroker.protocol.names import OFFSETS_TOPIC, ApiKey, SecurityProtocol
from localbroker.records.builder import NewRecord, build_batch
from localbroker.security.listeners import Endpoint
from localbroker.state import BrokerState
from tui.embedded import EmbeddedBroker

TOPIC = "orders"
ELSEWHERE = Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 1)
"""Broker 1's listener in the raw tests: answers only name it, nothing connects to it."""
LEADS = 0
"""orders-0: led here (node 0) at epoch 0, broker 1 following."""
FOLLOWS = 1
"""orders-1: led by broker 1 at epoch 3, this broker following."""
OFFLINE = 2
"""orders-2: its only replica, broker 2, is not registered: no leader, epoch 5."""
NEWER = 3
"""orders-3: led here at epoch 2."""
TIMEOUT = 30.0
GROUP = "g"
METADATA_OF_TOPIC = {
    "topics": [{"name": TOPIC}],
    "allow_auto_topic_creation": False,
    "include_topic_authorized_operations": False,
}


def registered(broker_id: int, epoch: int, endpoints: tuple[Endpoint, ...]) -> RegisterBrokerRecord:
    return RegisterBrokerRecord(broker_id, uuid.uuid4(), epoch, endpoints, None, fenced=False)


def partitions(topic_id: uuid.UUID) -> list[MetadataRecord]:
    return [
        PartitionRecord(LEADS, topic_id, (0, 1), (0, 1), 0, 0, 0),
        PartitionRecord(FOLLOWS, topic_id, (1, 0), (1, 0), 1, 3, 4),
        PartitionRecord(OFFLINE, topic_id, (2,), (2,), NO_LEADER, 5, 6),
        PartitionRecord(NEWER, topic_id, (0, 1), (0,), 0, 2, 2),
    ]


class Cluster:
    """The image a broker answers from, and the way a test appends records to it."""

    def __init__(self, broker: EmbeddedBroker) -> None:
        self.broker = broker
        self.image = MetadataImage()
        self.topic_id = uuid.uuid4()

    def apply(self, *records: MetadataRecord) -> None:
        image = self.image
        self.broker.call(lambda: image.apply(image.last_offset + 1, records))


@pytest.fixture
def cluster(broker: EmbeddedBroker) -> Cluster:
    """Node 0 with topic `orders` (4 partitions) in a two-broker image, broker 1 the active
    controller."""
    state = broker.state
    broker.call(lambda: state.create_topic(TOPIC, 4))
    own = broker.call(lambda: tuple(state.advertised.values()))
    view = Cluster(broker)
    view.apply(
        registered(0, 0, own),
        registered(1, 1, (ELSEWHERE,)),
        TopicRecord(TOPIC, view.topic_id),
        *partitions(view.topic_id),
    )
    view.image.controller_id = 1
    broker.call(lambda: setattr(state, "cluster", view.image))
    return view


def by_index(entries: Any, key: str = "partition_index") -> dict[int, Any]:
    return {getattr(entry, key): entry for entry in entries}


def test_metadata_names_each_partitions_leader_replicas_and_the_live_brokers(
    cluster: Cluster,
) -> None:
    with RawClient(cluster.broker.bootstrap) as client:
        answer = client.call(ApiKey.METADATA, 12, METADATA_OF_TOPIC)
    assert sorted((b.node_id, b.port) for b in answer.brokers) == [
        (0, int(cluster.broker.bootstrap.rpartition(":")[2])),
        (1, ELSEWHERE.port),
    ]
    assert answer.controller_id == 1
    found = by_index(answer.topics[0].partitions)
    summary = {
        index: (p.error_code, p.leader_id, p.leader_epoch, p.replica_nodes, p.isr_nodes)
        for index, p in found.items()
    }
    assert summary == {
        LEADS: (ErrorCode.none, 0, 0, (0, 1), (0, 1)),
        FOLLOWS: (ErrorCode.none, 1, 3, (1, 0), (1, 0)),
        OFFLINE: (ErrorCode.leader_not_available, -1, 5, (2,), (2,)),
        NEWER: (ErrorCode.none, 0, 2, (0, 1), (0,)),
    }
    assert found[OFFLINE].offline_replicas == (2,)
    assert found[FOLLOWS].offline_replicas == ()


def produce(bootstrap: str, version: int, *indexes: int) -> Any:
    batch = build_batch([NewRecord(b"v")], now_ms=0)
    data = [{"index": index, "records": batch} for index in indexes]
    with RawClient(bootstrap) as client:
        return client.call(
            ApiKey.PRODUCE,
            version,
            {"acks": 1, "timeout": 5000, "topic_data": [{"name": TOPIC, "partition_data": data}]},
        )


def test_produce_to_a_partition_led_elsewhere_names_the_leader(cluster: Cluster) -> None:
    """KIP-951: NOT_LEADER_OR_FOLLOWER comes with the current leader and its endpoint."""
    answer = produce(cluster.broker.bootstrap, 12, LEADS, FOLLOWS, OFFLINE)
    found = by_index(answer.responses[0].partition_responses, "index")
    assert found[LEADS].error_code == ErrorCode.none
    assert found[FOLLOWS].error_code == ErrorCode.not_leader_or_follower
    assert (
        found[FOLLOWS].current_leader.leader_id,
        found[FOLLOWS].current_leader.leader_epoch,
    ) == (
        1,
        3,
    )
    assert found[OFFLINE].error_code == ErrorCode.not_leader_or_follower
    assert (
        found[OFFLINE].current_leader.leader_id,
        found[OFFLINE].current_leader.leader_epoch,
    ) == (
        NO_LEADER,
        5,
    )
    assert [(n.node_id, n.host, n.port) for n in answer.node_endpoints] == [
        (1, ELSEWHERE.host, ELSEWHERE.port)
    ]
    older = produce(cluster.broker.bootstrap, 9, FOLLOWS)  # before KIP-951's fields
    assert older.responses[0].partition_responses[0].error_code == ErrorCode.not_leader_or_follower


def fetch(cluster: Cluster, version: int, asks: dict[int, int]) -> Any:
    """Fetch `{partition: current_leader_epoch}` of orders, by topic id from v13."""
    topic_id = cluster.broker.call(lambda: cluster.broker.state.topics[TOPIC].topic_id)
    wanted = [
        {
            "partition": index,
            "current_leader_epoch": epoch,
            "fetch_offset": 0,
            "partition_max_bytes": 1 << 20,
        }
        for index, epoch in asks.items()
    ]
    topic = {"topic_id": topic_id} if version >= 13 else {"topic": TOPIC}
    with RawClient(cluster.broker.bootstrap) as client:
        return client.call(
            ApiKey.FETCH,
            version,
            {
                "max_wait": 0,
                "min_bytes": 0,
                "topics": [{**topic, "partitions": wanted}],
                "forgotten_topics_data": [],
            },
        )


def test_fetch_checks_the_leader_epoch_then_who_may_answer(cluster: Cluster) -> None:
    answer = fetch(cluster, 17, {LEADS: 0, FOLLOWS: 3, OFFLINE: -1, NEWER: 1})
    found = by_index(answer.responses[0].partitions)
    assert found[LEADS].error_code == ErrorCode.none
    assert found[FOLLOWS].error_code == ErrorCode.none  # a follower serves consumers (KIP-392)
    assert found[OFFLINE].error_code == ErrorCode.not_leader_or_follower
    assert found[NEWER].error_code == ErrorCode.fenced_leader_epoch
    assert (found[NEWER].current_leader.leader_id, found[NEWER].current_leader.leader_epoch) == (
        0,
        2,
    )
    assert [n.node_id for n in answer.node_endpoints] == [0]
    ahead = fetch(cluster, 17, {NEWER: 3}).responses[0].partitions[0]
    assert ahead.error_code == ErrorCode.unknown_leader_epoch
    before_kip_392 = fetch(cluster, 10, {FOLLOWS: 3}).responses[0].partitions[0]
    assert before_kip_392.error_code == ErrorCode.not_leader_or_follower


def test_list_offsets_is_the_leaders_to_answer(cluster: Cluster) -> None:
    def ask(partition: int, epoch: int, replica_id: int = -1) -> ErrorCode:
        request = {
            "replica_id": replica_id,
            "isolation_level": 0,
            "timeout": 5000,
            "topics": [
                {
                    "name": TOPIC,
                    "partitions": [
                        {
                            "partition_index": partition,
                            "current_leader_epoch": epoch,
                            "timestamp": -1,
                        }
                    ],
                }
            ],
        }
        with RawClient(cluster.broker.bootstrap) as client:
            answer = client.call(ApiKey.LIST_OFFSETS, 10, request)
        return ErrorCode(answer.topics[0].partitions[0].error_code)

    assert ask(LEADS, 0) == ErrorCode.none
    assert ask(FOLLOWS, -1) == ErrorCode.not_leader_or_follower
    assert ask(FOLLOWS, -1, replica_id=-2) == ErrorCode.none  # the debugging replica id
    assert ask(NEWER, 1) == ErrorCode.fenced_leader_epoch
    assert ask(NEWER, 4) == ErrorCode.unknown_leader_epoch


def offsets_led_by_broker_1(cluster: Cluster) -> tuple[uuid.UUID, int]:
    """Every `__consumer_offsets` partition led by broker 1: its topic id in the image and
    group g's partition."""
    state: BrokerState = cluster.broker.state
    count = cluster.broker.call(lambda: state.ensure_offsets_topic().partitions)
    group_partition = cluster.broker.call(lambda: state.offsets_topic.partition_of(GROUP))
    offsets_id = uuid.uuid4()
    cluster.apply(
        TopicRecord(OFFSETS_TOPIC, offsets_id),
        *(PartitionRecord(i, offsets_id, (1, 0), (1, 0), 1, 0, 0) for i in range(count)),
    )
    return offsets_id, group_partition


def test_the_coordinator_is_the_leader_of_the_groups_offsets_partition(cluster: Cluster) -> None:
    offsets_id, group_partition = offsets_led_by_broker_1(cluster)

    def coordinator() -> Any:
        with RawClient(cluster.broker.bootstrap) as client:
            request = {"key_type": 0, "coordinator_keys": [GROUP]}
            return client.call(ApiKey.FIND_COORDINATOR, 4, request).coordinators[0]

    found = coordinator()
    assert (found.error_code, found.node_id, found.port) == (ErrorCode.none, 1, ELSEWHERE.port)
    cluster.apply(PartitionChangeRecord(group_partition, offsets_id, isr=(2,), leader=NO_LEADER))
    found = coordinator()
    assert (found.error_code, found.node_id) == (ErrorCode.coordinator_not_available, -1)


@pytest.fixture
def two_brokers(tmp_path: Path) -> Iterator[tuple[Cluster, Cluster]]:
    """Nodes 0 and 1, each with topic `orders` (one partition) led by node 0 at epoch 0."""
    with (
        running_broker(tmp_path / "node-0", {"node.id": "0"}) as first,
        running_broker(tmp_path / "node-1", {"node.id": "1"}) as second,
    ):
        nodes = (Cluster(first), Cluster(second))
        endpoints = [
            b.call(lambda b=b: tuple(b.state.advertised.values())) for b in (first, second)
        ]
        for node in nodes:
            node.topic_id = nodes[0].topic_id
            node.broker.call(lambda b=node.broker: b.state.create_topic(TOPIC, 1))
            node.apply(
                registered(0, 0, endpoints[0]),
                registered(1, 1, endpoints[1]),
                TopicRecord(TOPIC, node.topic_id),
                PartitionRecord(0, node.topic_id, (0, 1), (0, 1), 0, 0, 0),
            )
            node.image.controller_id = 0
            node.broker.call(lambda n=node: setattr(n.broker.state, "cluster", n.image))
        yield nodes


def log_end_offset(broker: EmbeddedBroker) -> int:
    return broker.call(lambda: broker.state.partition_log(TOPIC, 0).log_end_offset)


def test_a_producer_follows_the_leader_to_another_broker(
    two_brokers: tuple[Cluster, Cluster],
) -> None:
    """confluent-kafka produces to node 0, the leader; once the leadership moves to node 1
    (epoch 1), node 0 refuses the next batch with NOT_LEADER_OR_FOLLOWER and names node 1,
    and the producer delivers it there."""
    first, second = two_brokers
    producer = Producer(
        {"bootstrap.servers": first.broker.bootstrap, "linger.ms": 0, "enable.idempotence": False}
    )
    errors: list[Any] = []

    def send(value: bytes) -> None:
        producer.produce(TOPIC, value, partition=0, on_delivery=lambda err, _: errors.append(err))
        assert producer.flush(TIMEOUT) == 0

    send(b"to node 0")
    assert (log_end_offset(first.broker), log_end_offset(second.broker)) == (1, 0)
    for node in two_brokers:
        node.apply(PartitionChangeRecord(0, node.topic_id, leader=1))
    send(b"to node 1")
    assert errors == [None, None]
    assert (log_end_offset(first.broker), log_end_offset(second.broker)) == (1, 1)


def test_group_apis_answer_not_coordinator_for_a_group_led_elsewhere(cluster: Cluster) -> None:
    """Kafka's coordinator runtime refuses a group whose offsets partition it does not lead."""
    offsets_led_by_broker_1(cluster)
    member = {"group_id": GROUP, "generation_id": 1, "member_id": "m"}
    offsets = [{"name": TOPIC, "partitions": [{"partition_index": 0, "committed_offset": 1}]}]
    with RawClient(cluster.broker.bootstrap) as client:
        joined = client.call(
            ApiKey.JOIN_GROUP,
            9,
            {
                "group_id": GROUP,
                "session_timeout": 10_000,
                "rebalance_timeout": 10_000,
                "member_id": "",
                "protocol_type": "consumer",
                "protocols": [{"name": "range", "metadata": b""}],
            },
        )
        heartbeat = client.call(ApiKey.HEARTBEAT, 4, member)
        committed = client.call(
            ApiKey.OFFSET_COMMIT,
            9,
            {
                "group_id": GROUP,
                "generation_id_or_member_epoch": -1,
                "member_id": "",
                "topics": offsets,
            },
        )
        fetched = client.call(ApiKey.OFFSET_FETCH, 9, {"groups": [{"group_id": GROUP}]})
        described = client.call(
            ApiKey.DESCRIBE_GROUPS, 5, {"groups": [GROUP], "include_authorized_operations": False}
        )
        deleted = client.call(ApiKey.DELETE_GROUPS, 2, {"groups_names": [GROUP]})
    assert joined.error_code == ErrorCode.not_coordinator
    assert heartbeat.error_code == ErrorCode.not_coordinator
    assert committed.topics[0].partitions[0].error_code == ErrorCode.not_coordinator
    assert fetched.groups[0].error_code == ErrorCode.not_coordinator
    assert described.groups[0].error_code == ErrorCode.not_coordinator
    assert deleted.results[0].error_code == ErrorCode.not_coordinator
