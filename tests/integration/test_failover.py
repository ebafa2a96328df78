"""Failover: a partition's leader killed under load loses no acknowledged record.

tests/failover.py's scenario (an RF=3, min.insync.replicas=2 topic; an idempotent acks=all
producer and a consumer group; the leader killed with SIGKILL and restarted, twice) runs
against Apache Kafka's three-node KRaft cluster here: what Kafka's clients observe there is
what localbroker's cluster mode must match. On `localbroker --cluster 3` it runs with
confluent-kafka twice as well, and once with each of the other clients (kafka-python,
aiokafka, the Java client), all on one cluster for the module: each client's run is one
kill, the cluster's start is paid once. `bench/failover.py` prints the timings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from failover import FailoverReport, run_failover
from failover_clients import CLIENTS, java
from launched import Launched, launched_cluster
from reference_cluster import CLUSTER_SETTINGS, ReferenceCluster

DESCRIBED = re.compile(
    r"Topic: (?P<topic>\S+)\tTopicId: \S+\tPartitionCount: 1\tReplicationFactor: 3\t"
    r"Configs: min\.insync\.replicas=2\n"
    r"\tTopic: (?P=topic)\tPartition: 0\tLeader: (?P<leader>\d)\tReplicas: (?P<replicas>[\d,]+)"
    r"\tIsr: (?P<isr>[\d,]+)\tElr: \tLastKnownElr: \n"
)
"""`kafka-topics --describe` of the RF=3 topic on Apache Kafka 4.1: the reference for
`kwb topics --describe` of a localbroker cluster."""

pytestmark = pytest.mark.timeout(240)
"""The session's cluster starts in this module's first test (three JVMs, up to 90 s on a
loaded machine: about 25 s here), and each kill takes Kafka's broker.session.timeout.ms (9 s)
to be survived plus a JVM's restart: 90 s in all here, more than the default 120 s allows on
a busy CI machine."""


def test_a_killed_leader_loses_no_acknowledged_record(
    reference_cluster: ReferenceCluster,
) -> None:
    described: list[str] = []

    def describe(topic: str) -> None:
        done = reference_cluster.nodes[0].run_tool(
            "kafka-topics",
            ["--describe", "--topic", topic, "--bootstrap-server", reference_cluster.bootstrap],
        )
        assert done.returncode == 0, done.stderr
        described.append(done.stdout)

    report = run_failover(
        reference_cluster.bootstrap, reference_cluster, rounds=2, on_ready=describe
    )
    print(described[0])
    survived(report, kills=2)
    match = DESCRIBED.fullmatch(described[0])
    assert match is not None, described[0]
    replicas = match["replicas"].split(",")
    assert sorted(replicas) == ["0", "1", "2"] == sorted(match["isr"].split(","))
    assert match["leader"] == replicas[0]  # the preferred replica leads a new topic


@pytest.fixture(scope="module")
def localbroker_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    """`localbroker --cluster 3` with the settings of Kafka's run (its internal topics
    replicated as a three-node cluster has them; the default broker.session.timeout.ms,
    9 s, on both), shared by the module's runs: each kills and restarts nodes and waits
    for its topic's whole ISR, so the next finds the cluster whole again."""
    with launched_cluster(tmp_path_factory.mktemp("cluster"), CLUSTER_SETTINGS) as cluster:
        cluster.wait_registered()
        yield cluster


def test_a_killed_leader_of_a_localbroker_cluster_loses_no_acknowledged_record(
    localbroker_cluster: Launched,
) -> None:
    report = run_failover(localbroker_cluster.bootstrap, localbroker_cluster, rounds=2)
    survived(report, kills=2)


@pytest.mark.parametrize("client", ["kafka-python", "aiokafka", "java"])
def test_each_client_survives_a_killed_leader_of_a_localbroker_cluster(
    localbroker_cluster: Launched, client: str, request: pytest.FixtureRequest
) -> None:
    """One kill per client: its producer's acknowledged records all consumed by its group,
    from the group's commits after the coordinator or the leader moved."""
    chosen = java(request.getfixturevalue("java")) if client == "java" else CLIENTS[client]
    report = run_failover(
        localbroker_cluster.bootstrap, localbroker_cluster, rounds=1, client=chosen
    )
    survived(report, kills=1)


def survived(report: FailoverReport, kills: int) -> None:
    print(report.summary())
    assert report.lost == [], report.summary()
    assert report.duplicates == 0, report.summary()
    assert len(report.kills) == kills
    assert report.consumed >= report.acknowledged > 0
    assert report.committed == report.end_offset, report.summary()  # commits reached the end
