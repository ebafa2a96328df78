"""Transactions on `localbroker --cluster 3`: the partitions of one transaction are led by
different brokers, so the transaction coordinator sends its COMMIT and ABORT markers to each
partition's leader as WriteTxnMarkers (Kafka's TransactionMarkerChannelManager), and a
read_committed consumer sees exactly the committed records."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kio.schema.errors import ErrorCode
from launched import Launched, launched_cluster
from reference_cluster import CLUSTER_SETTINGS, ReferenceCluster
from transaction_state import READ_TIMEOUT, read_values
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.client_codec import request_body
from localbroker.protocol.names import ApiKey, CoordinatorType

TIMEOUT = 30.0
TOPIC = "spread"
PARTITIONS = 3
FAST_FENCING = {"broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 300}


def spread_topic(bootstrap: str, topic: str) -> None:
    """`topic`, whose three partitions have three different leaders."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 3)])[topic].result(TIMEOUT)

    def leaders() -> set[int]:
        partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions.values()
        return {p.leader for p in partitions}

    assert wait_until(lambda: len(leaders()) == PARTITIONS, f"{topic}'s three leaders")


@contextlib.contextmanager
def spread_cluster(directory: Path) -> Iterator[Launched]:
    """Three nodes, a topic whose three partitions have three different leaders."""
    with launched_cluster(directory, {**CLUSTER_SETTINGS, **FAST_FENCING}) as launched:
        launched.wait_registered()
        spread_topic(launched.bootstrap, TOPIC)
        yield launched


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    """One cluster for the tests that kill nothing (each cluster start costs seconds)."""
    with spread_cluster(tmp_path_factory.mktemp("shared")) as launched:
        yield launched


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Launched]:
    """A cluster of the test's own, for the tests that kill brokers."""
    with spread_cluster(tmp_path) as launched:
        yield launched


def in_transaction(producer: Producer, values: list[str], commit: bool, topic: str = TOPIC) -> None:
    """One transaction writing value i to partition i % 3, committed or aborted."""
    producer.begin_transaction()
    for index, value in enumerate(values):
        producer.produce(topic, value=value.encode(), partition=index % PARTITIONS)
    producer.flush(TIMEOUT)
    if commit:
        producer.commit_transaction(TIMEOUT)
    else:
        producer.abort_transaction(TIMEOUT)


def by_partition(values: list[str]) -> list[str]:
    """`values` as `read_values` returns them: partition 0's first, each in offset order."""
    return [v for p in range(PARTITIONS) for v in values[p::PARTITIONS]]


def committed_and_read(
    bootstrap: str, topic: str, committed: list[str]
) -> tuple[list[str], list[str]]:
    """What committed (partition by partition, as read), and what read_committed reads once it
    reads that, or last read within READ_TIMEOUT.

    A commit is answered once the coordinator has written PREPARE_COMMIT; it writes the
    markers to the partitions' leaders after that (Kafka's TransactionMarkerChannelManager, and
    localbroker's), and until a partition has its marker, its last stable offset stops a
    read_committed reader before the transaction's records. After a coordinator was killed, a
    marker to a partition the killed node led waits for that partition's new leader: Apache
    Kafka's partition 0 was read without its two records (CI, 2026-12-07)."""
    expected = by_partition(committed)
    deadline = time.monotonic() + READ_TIMEOUT
    while (read := read_values(bootstrap, "read_committed", topic, PARTITIONS)) != expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return expected, read


def commit_abort_commit(bootstrap: str, topic: str) -> tuple[list[str], list[str]]:
    """Committed, aborted and committed transactions over the three leaders of `topic`: what
    committed (partition by partition, as read), and what read_committed reads."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{topic}-txn"})
    producer.init_transactions(TIMEOUT)
    committed = [f"c{i}" for i in range(6)]
    in_transaction(producer, committed[:3], commit=True, topic=topic)
    in_transaction(producer, [f"a{i}" for i in range(6)], commit=False, topic=topic)
    in_transaction(producer, committed[3:], commit=True, topic=topic)
    return committed_and_read(bootstrap, topic, committed)


def test_committed_and_aborted_transactions_across_leaders(shared_cluster: Launched) -> None:
    committed, read = commit_abort_commit(shared_cluster.bootstrap, TOPIC)

    assert read == committed


@pytest.mark.timeout(240)  # the session's reference cluster may start here: up to 90 s
def test_committed_and_aborted_transactions_across_leaders_on_kafka(
    reference_cluster: ReferenceCluster,
) -> None:
    spread_topic(reference_cluster.bootstrap, "spread-txns-on-kafka")

    committed, read = commit_abort_commit(reference_cluster.bootstrap, "spread-txns-on-kafka")

    assert read == committed


def test_a_follower_refuses_markers(shared_cluster: Launched) -> None:
    """Only a partition's leader writes a marker (a follower's log is the leader's copy)."""
    cluster = shared_cluster
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    partition = wait_until(
        lambda: admin.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions.get(0),
        "partition 0 in the metadata",
    )
    follower = next(r for r in partition.replicas if r != partition.leader)
    marker = {
        "producer_id": 1,
        "producer_epoch": 0,
        "transaction_result": False,
        "topics": [{"name": TOPIC, "partition_indexes": [0]}],
        "coordinator_epoch": 0,
    }
    body = request_body(ApiKey.WRITE_TXN_MARKERS, 1, {"markers": [marker]})

    with RawClient(cluster.addresses[follower]) as client:
        answer = client.recv(ApiKey.WRITE_TXN_MARKERS, 1, client.send(body))

    (error,) = [p.error_code for m in answer.markers for t in m.topics for p in t.partitions]
    assert error == ErrorCode.not_leader_or_follower


def test_transaction_state_is_answered_once_the_isr_holds_it(cluster: Launched) -> None:
    """With both other brokers gone, the coordinator's `__transaction_state` partition cannot
    reach transaction.state.log.min.isr=2: InitProducerId is refused (the client retries),
    not answered from a write only the coordinator holds."""
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "transactional.id": "isr"})
    producer.init_transactions(TIMEOUT)  # creates __transaction_state, all brokers alive
    coordinator = transaction_coordinator(cluster.addresses[0], "isr")
    for node in range(len(cluster.addresses)):
        if node != coordinator:
            cluster.kill(node)

    with RawClient(cluster.addresses[coordinator]) as client:
        answer = client.call(
            ApiKey.INIT_PRODUCER_ID,
            4,
            {
                "transactional_id": "isr",
                "transaction_timeout": 1000,  # how long the coordinator waits for the ISR
                "producer_id": -1,
                "producer_epoch": -1,
            },
        )

    assert answer.error_code == ErrorCode.coordinator_not_available


def transaction_coordinator(address: str, transactional_id: str) -> int:
    with RawClient(address) as client:
        found = client.call(
            ApiKey.FIND_COORDINATOR,
            4,
            {"key_type": CoordinatorType.TRANSACTION, "coordinator_keys": [transactional_id]},
        )
    return int(found.coordinators[0].node_id)


def coordinator_killed_mid_transaction(
    bootstrap: str, topic: str, kill: Callable[[int], None]
) -> tuple[list[str], list[str]]:
    """A transaction open on the three leaders of `topic` when its coordinator is killed -9:
    the producer's commit goes to the broker that takes over its `__transaction_state`
    partition and completes there, or fails and the transaction is aborted. What committed
    (partition by partition, as read), and what read_committed reads."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{topic}-moving"})
    producer.init_transactions(TIMEOUT)
    before = [f"b{i}" for i in range(3)]
    in_transaction(producer, before, commit=True, topic=topic)
    during = [f"d{i}" for i in range(6)]
    producer.begin_transaction()
    for index, value in enumerate(during):
        producer.produce(topic, value=value.encode(), partition=index % PARTITIONS)
    producer.flush(TIMEOUT)

    kill(transaction_coordinator(bootstrap.split(",")[0], f"{topic}-moving"))
    try:
        producer.commit_transaction(TIMEOUT)
        committed = before + during
    except KafkaException as exc:
        assert exc.args[0].txn_requires_abort(), exc
        producer.abort_transaction(TIMEOUT)
        committed = before
    print("committed:", committed)  # which of the two ways it went, with -s
    return committed_and_read(bootstrap, topic, committed)


def test_the_coordinator_killed_mid_transaction(cluster: Launched) -> None:
    committed, read = coordinator_killed_mid_transaction(cluster.bootstrap, TOPIC, cluster.kill)

    assert read == committed


@pytest.mark.timeout(240)  # the session's reference cluster may start here: up to 90 s
def test_the_coordinator_killed_mid_transaction_on_kafka(
    reference_cluster: ReferenceCluster,
) -> None:
    """The same steps on Apache Kafka's three-node cluster (its coordinator moves after
    broker.session.timeout.ms, 9 s)."""
    bootstrap = reference_cluster.bootstrap
    topic = "spread-on-kafka"
    spread_topic(bootstrap, topic)
    killed: list[int] = []

    def kill(node_id: int) -> None:
        reference_cluster.kill(node_id)
        killed.append(node_id)

    try:
        committed, read = coordinator_killed_mid_transaction(bootstrap, topic, kill)
    finally:
        for node_id in killed:
            reference_cluster.restart(node_id)

    assert read == committed
