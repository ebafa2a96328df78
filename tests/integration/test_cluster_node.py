"""Cluster mode's node runtime: three KRaft combined nodes (LocalBrokers with
process.roles=broker,controller) in one event loop, on free ports, talking over their
CONTROLLER listeners; clients see them through Metadata on their PLAINTEXT listeners.

A short election timeout keeps elections fast; the fetch timeout is long, so a follower
stands for election only when its leader resigns or is gone for good (a stopped node here).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kio.schema.errors import ErrorCode
from reference_kafka import free_port
from waiting import polling, wait_until_async

from localbroker import LocalBroker
from localbroker.cluster.launcher import ClusterLayout, format_node, node_dir
from localbroker.cluster.peer import PeerClient
from localbroker.protocol.kafka_uuid import kafka_uuid_string
from localbroker.protocol.names import ApiKey

FAST = {
    "controller.quorum.election.timeout.ms": "300",
    "controller.quorum.fetch.timeout.ms": "3000",
    "controller.quorum.election.backoff.max.ms": "300",
    "broker.heartbeat.interval.ms": "100",
    "broker.session.timeout.ms": "1500",
}


@dataclass
class Cluster:
    directory: Path
    layout: ClusterLayout
    running: dict[int, LocalBroker] = field(default_factory=dict)

    async def start(self, node_id: int) -> LocalBroker:
        format_node(node_dir(self.directory, node_id), self.layout.cluster_id, node_id)
        properties = {**self.layout.node_properties(node_id, self.directory), **FAST}
        broker = await LocalBroker(config=properties).start()
        self.running[node_id] = broker
        return broker

    async def stop(self, node_id: int) -> None:
        await self.running.pop(node_id).stop()

    def controller(self) -> int:
        """The active controller every running node agrees on, or -1."""
        ids = {b.node.image.controller_id for b in self.running.values() if b.node}
        leader = ids.pop() if len(ids) == 1 else -1
        active = self.running.get(leader)
        ready = active is not None and active.node is not None and active.node.controller.is_active
        return leader if ready else -1

    def brokers_everywhere(self, wanted: set[int]) -> bool:
        """Every running node's image lists `wanted` as its live brokers."""
        return all(
            b.node is not None and {r.broker_id for r in b.node.image.live_brokers()} == wanted
            for b in self.running.values()
        )

    async def controller_call(self, api_key: int, version: int, body: dict[str, object]) -> object:
        port = self.layout.controller_ports[self.controller()]
        peer = PeerClient("127.0.0.1", port, client_id="test")
        try:
            return await peer.call(api_key, version, body)
        finally:
            await peer.close()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    ports = [free_port() for _ in range(6)]
    layout = ClusterLayout(kafka_uuid_string(uuid.uuid4()), tuple(ports[:3]), tuple(ports[3:]))
    cluster = Cluster(tmp_path, layout)
    try:
        for node_id in range(3):
            await cluster.start(node_id)
        yield cluster
    finally:
        for node_id in list(cluster.running):
            with contextlib.suppress(Exception):
                await cluster.stop(node_id)


async def metadata(port: int, topics: list[str] | None = None) -> Any:
    peer = PeerClient("127.0.0.1", port, client_id="test")
    try:
        return await peer.call(
            ApiKey.METADATA,
            12,
            {
                "topics": None if topics is None else [{"name": t} for t in topics],
                "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False,
            },
        )
    finally:
        await peer.close()


def layout_of(response: Any) -> dict[int, tuple[int, tuple[int, ...], tuple[int, ...]]]:
    """Each partition's (leader, replicas, isr) in a Metadata answer's only topic."""
    (topic,) = response.topics
    assert topic.error_code == ErrorCode.none, topic.error_code
    return {
        p.partition_index: (p.leader_id, tuple(p.replica_nodes), tuple(p.isr_nodes))
        for p in topic.partitions
    }


async def create_topic(cluster: Cluster, name: str, partitions: int = 3) -> Any:
    response: Any = await cluster.controller_call(
        ApiKey.CREATE_TOPICS,
        7,
        {
            "topics": [
                {
                    "name": name,
                    "num_partitions": partitions,
                    "replication_factor": 3,
                    "assignments": [],
                    "configs": [],
                }
            ],
            "timeout": 5000,
            "validate_only": False,
        },
    )
    (result,) = response.topics
    assert result.error_code == ErrorCode.none, result.error_message
    return result


async def same_everywhere(cluster: Cluster, name: str) -> dict[int, Any]:
    """The topic's partitions, once every running node's Metadata says the same of them."""

    async def agreed() -> dict[int, Any] | None:
        seen = []
        for node_id in cluster.running:
            response = await metadata(cluster.layout.client_ports[node_id], [name])
            if response.topics[0].error_code != ErrorCode.none:
                return None
            seen.append(layout_of(response))
        return seen[0] if all(s == seen[0] for s in seen) else None

    pauses = polling(f"every node's Metadata to agree on {name}")
    while (partitions := await agreed()) is None:
        await asyncio.sleep(next(pauses))
    return partitions


async def test_a_controller_is_elected_and_every_node_lists_the_three_brokers(
    cluster: Cluster,
) -> None:
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    controller = cluster.controller()
    assert controller in (0, 1, 2)
    for port in cluster.layout.client_ports:
        response = await metadata(port)
        assert response.controller_id == controller
        assert {(b.node_id, b.port) for b in response.brokers} == set(
            enumerate(cluster.layout.client_ports)
        )


async def test_a_topic_created_on_the_controller_is_on_every_node(cluster: Cluster) -> None:
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    created = await create_topic(cluster, "replicated")
    partitions = await same_everywhere(cluster, "replicated")
    assert sorted(partitions) == [0, 1, 2]
    for leader, replicas, isr in partitions.values():
        assert sorted(replicas) == [0, 1, 2] and sorted(isr) == [0, 1, 2]
        assert leader == replicas[0]
    for broker in cluster.running.values():
        assert broker.state is not None
        assert broker.state.topics["replicated"].topic_id == created.topic_id
        assert broker.state.logs.get("replicated", 2) is not None


async def test_when_the_controller_stops_another_takes_over(cluster: Cluster) -> None:
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    first = cluster.controller()
    await cluster.stop(first)
    await wait_until_async(
        lambda: cluster.controller() not in (-1, first), "a new active controller"
    )
    await create_topic(cluster, "after")
    partitions = await same_everywhere(cluster, "after")
    assert all(leader != first for leader, _, _ in partitions.values())


async def test_a_broker_that_stops_is_fenced_and_its_partitions_get_new_leaders(
    cluster: Cluster,
) -> None:
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    await create_topic(cluster, "moving")
    before = await same_everywhere(cluster, "moving")
    controller = cluster.controller()
    victim = next(node for node in range(3) if node != controller)
    await cluster.stop(victim)
    rest = {0, 1, 2} - {victim}
    await wait_until_async(lambda: cluster.brokers_everywhere(rest), f"broker {victim} fenced")
    after = await same_everywhere(cluster, "moving")
    for index, (leader, replicas, isr) in after.items():
        assert leader in rest and victim not in isr
        assert replicas == before[index][1]
        assert leader == before[index][0] or before[index][0] == victim


def admin_call(bootstrap: str, action: str, name: str) -> None:
    """confluent-kafka's AdminClient creates (3 partitions, 3 replicas) or deletes a topic."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    if action == "create":
        futures = admin.create_topics([NewTopic(name, 3, 3)], request_timeout=15)
    else:
        futures = admin.delete_topics([name], request_timeout=15)
    futures[name].result(timeout=20)


async def client_call(port: int, api_key: int, version: int, body: dict[str, Any]) -> Any:
    peer = PeerClient("127.0.0.1", port, client_id="test")
    try:
        return await peer.call(api_key, version, body)
    finally:
        await peer.close()


async def test_a_broker_forwards_topic_changes_and_answers_once_it_shows_them(
    cluster: Cluster,
) -> None:
    """CreateTopics, CreatePartitions and DeleteTopics sent to a broker that is not the
    controller are forwarded to it, and answered once that broker's Metadata shows them."""
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    controller = cluster.controller()
    port = cluster.layout.client_ports[next(n for n in range(3) if n != controller)]
    topic = {"name": "forwarded", "num_partitions": 2, "replication_factor": 3}
    created = await client_call(
        port,
        ApiKey.CREATE_TOPICS,
        4,
        {"topics": [{**topic, "assignments": [], "configs": []}], "timeout": 15000},
    )
    assert created.topics[0].error_code == ErrorCode.none
    assert len(layout_of(await metadata(port, ["forwarded"]))) == 2
    grown = await client_call(
        port,
        ApiKey.CREATE_PARTITIONS,
        3,
        {
            "topics": [{"name": "forwarded", "count": 3, "assignments": None}],
            "timeout": 15000,
            "validate_only": False,
        },
    )
    assert grown.results[0].error_code == ErrorCode.none
    assert len(layout_of(await metadata(port, ["forwarded"]))) == 3
    deleted = await client_call(
        port, ApiKey.DELETE_TOPICS, 4, {"topic_names": ["forwarded"], "timeout": 15000}
    )
    assert deleted.responses[0].error_code == ErrorCode.none
    gone = await metadata(port, ["forwarded"])
    assert gone.topics[0].error_code == ErrorCode.unknown_topic_or_partition


async def test_admin_client_creates_a_replicated_topic(cluster: Cluster) -> None:
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    await asyncio.to_thread(admin_call, cluster.layout.bootstrap, "create", "by-admin")
    partitions = await same_everywhere(cluster, "by-admin")
    assert all(sorted(replicas) == [0, 1, 2] for _, replicas, _ in partitions.values())


def produce_all(bootstrap: str, topic: str, count: int) -> None:
    """confluent-kafka produces `count` records with acks=all, every one acknowledged."""
    from confluent_kafka import Producer

    failures: list[object] = []
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(count):
        producer.produce(
            topic, str(i).encode(), on_delivery=lambda err, _: err and failures.append(err)
        )
    assert producer.flush(20) == 0
    assert not failures, failures


async def test_records_produced_with_acks_all_are_on_every_replica(cluster: Cluster) -> None:
    """The ReplicaManager (cl-leader's) wired in: followers fetch from the leaders and
    every node's log of each partition ends at the same offset."""
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    await create_topic(cluster, "replicated-data")
    await same_everywhere(cluster, "replicated-data")
    await asyncio.to_thread(produce_all, cluster.layout.bootstrap, "replicated-data", 300)

    def end_offsets(broker: LocalBroker) -> tuple[int, ...]:
        assert broker.state is not None
        logs = [broker.state.logs.get("replicated-data", p) for p in range(3)]
        return tuple(-1 if log is None else log.log_end_offset for log in logs)

    def replicated() -> bool:
        ends = {end_offsets(broker) for broker in cluster.running.values()}
        return len(ends) == 1 and sum(ends.pop()) == 300

    await wait_until_async(replicated, "every replica holding the 300 records")


async def test_a_topic_a_producer_uses_is_created_by_the_controller(cluster: Cluster) -> None:
    """auto.create.topics.enable in cluster mode: the broker asks the controller, so the
    topic exists on every node (a node creating it alone would have its own topic id)."""
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    await asyncio.to_thread(produce_all, cluster.layout.bootstrap, "auto-made", 10)
    await same_everywhere(cluster, "auto-made")
    ids = {b.state.topics["auto-made"].topic_id for b in cluster.running.values() if b.state}
    assert len(ids) == 1


async def test_producer_ids_are_unique_across_the_cluster(cluster: Cluster) -> None:
    """Each broker hands out producer ids from blocks the controller allocates, so idempotent
    producers on different brokers never share one (each broker counting from 0 would)."""
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    request = {
        "transactional_id": None,
        "transaction_timeout": 60000,
        "producer_id": -1,
        "producer_epoch": -1,
    }

    async def producer_id(port: int) -> int:
        pauses = polling("a producer id")
        while True:
            answer = await client_call(port, ApiKey.INIT_PRODUCER_ID, 4, request)
            if answer.error_code == ErrorCode.none:
                return int(answer.producer_id)
            assert answer.error_code == ErrorCode.coordinator_load_in_progress
            await asyncio.sleep(next(pauses))

    ids = [await producer_id(port) for port in cluster.layout.client_ports for _ in range(2)]
    assert len(set(ids)) == len(ids), ids


async def test_kafka_topics_creates_and_describes_a_replicated_topic(
    cluster: Cluster, kafka_tool: Any
) -> None:
    """Kafka's own kafka-topics.sh (the Java AdminClient) against the cluster."""
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    server = ["--bootstrap-server", cluster.layout.bootstrap]
    create = ["--create", "--topic", "by-java", "--partitions", "3", "--replication-factor", "3"]
    created = await asyncio.to_thread(kafka_tool, "kafka-topics", [*server, *create])
    assert created.returncode == 0, created.stderr
    partitions = await same_everywhere(cluster, "by-java")
    described = await asyncio.to_thread(
        kafka_tool, "kafka-topics", [*server, "--describe", "--topic", "by-java"]
    )
    assert described.returncode == 0, described.stderr
    for index, (leader, replicas, isr) in partitions.items():
        line = (
            f"Partition: {index}\tLeader: {leader}\t"
            f"Replicas: {','.join(map(str, replicas))}\tIsr: {','.join(map(str, isr))}"
        )
        assert line in described.stdout, described.stdout


def consume_in_group(bootstrap: str, topic: str, count: int) -> int:
    """A confluent-kafka consumer in a group reads `count` records and commits; the offset
    the group then has committed."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "cluster-group",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.subscribe([topic])
        got = 0
        for _ in polling(f"{count} records consumed", interval=0):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                got += 1
            if got == count:
                break
        consumer.commit(asynchronous=False)
        (committed,) = consumer.committed([TopicPartition(topic, 0)], timeout=10)
        return int(committed.offset)
    finally:
        consumer.close()


async def test_a_consumer_group_commits_offsets_in_the_cluster(cluster: Cluster) -> None:
    """The group's coordinator is the leader of its __consumer_offsets partition, a topic
    the controller creates on the first FindCoordinator."""
    await wait_until_async(lambda: cluster.brokers_everywhere({0, 1, 2}), "three brokers")
    await create_topic(cluster, "grouped", partitions=1)
    await same_everywhere(cluster, "grouped")
    await asyncio.to_thread(produce_all, cluster.layout.bootstrap, "grouped", 10)
    committed = await asyncio.to_thread(consume_in_group, cluster.layout.bootstrap, "grouped", 10)
    assert committed == 10
    await same_everywhere(cluster, "__consumer_offsets")
