"""Failover: a partition's leader killed under load loses no acknowledged record.

tests/failover.py's scenario (an RF=3, min.insync.replicas=2 topic; an idempotent acks=all
producer and a consumer group; the leader killed with SIGKILL and restarted, twice) runs
against Apache Kafka's three-node KRaft cluster here: what Kafka's clients observe there is
what localbroker's cluster mode must match. `bench/failover.py` prints the timings.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from failover import FailoverReport, run_failover
from launched import launched_cluster
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
    survived_twice(report)
    match = DESCRIBED.fullmatch(described[0])
    assert match is not None, described[0]
    replicas = match["replicas"].split(",")
    assert sorted(replicas) == ["0", "1", "2"] == sorted(match["isr"].split(","))
    assert match["leader"] == replicas[0]  # the preferred replica leads a new topic


def test_a_killed_leader_of_a_localbroker_cluster_loses_no_acknowledged_record(
    tmp_path: Path,
) -> None:
    """The same scenario against `localbroker --cluster 3`, with the settings of Kafka's
    run (its internal topics replicated as a three-node cluster has them; the default
    broker.session.timeout.ms, 9 s, on both)."""
    with launched_cluster(tmp_path, CLUSTER_SETTINGS) as cluster:
        cluster.wait_registered()
        survived_twice(run_failover(cluster.bootstrap, cluster, rounds=2))


def survived_twice(report: FailoverReport) -> None:
    print(report.summary())
    assert report.lost == [], report.summary()
    assert report.duplicates == 0, report.summary()
    assert len(report.kills) == 2
    assert report.consumed >= report.acknowledged > 0
