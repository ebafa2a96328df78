"""Coordinators move with the leadership of their topics' partitions (`localbroker --cluster
3`): the broker that comes to lead a `__consumer_offsets` partition loads its groups and
committed offsets from its replica of the log (Kafka's GroupCoordinator.onElection), and one
that stops leading forgets them (onResignation), as `__transaction_state`'s ids move with it.
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from launched import launched_cluster
from reference_cluster import CLUSTER_SETTINGS
from waiting import wait_until

FAST_FENCING = {"broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 300}
"""A killed broker fenced within seconds: this test times nothing."""
TOPIC = "moved"
GROUP = "readers"


def test_committed_offsets_survive_their_coordinator_killed(tmp_path: Path) -> None:
    with launched_cluster(tmp_path, {**CLUSTER_SETTINGS, **FAST_FENCING}) as cluster:
        cluster.wait_registered()
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 3)])[TOPIC].result(30)
        wait_until(lambda: commit(cluster.bootstrap, 5), "an offset committed")
        coordinator = admin.describe_consumer_groups([GROUP])[GROUP].result(30).coordinator.id

        cluster.kill(coordinator)
        rest = ",".join(a for n, a in enumerate(cluster.addresses) if n != coordinator)
        assert wait_until(lambda: committed(rest), "the offset from the new coordinator") == 5


def commit(bootstrap: str, offset: int) -> bool:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        consumer.commit(offsets=[TopicPartition(TOPIC, 0, offset)], asynchronous=False)
        return True
    except KafkaException:  # the offsets topic is being created: no coordinator yet
        return False
    finally:
        consumer.close()


def committed(bootstrap: str) -> int | None:
    """The group's committed offset as a new member sees it (None while no coordinator
    answers, and while it answers none: -1001)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP})
    try:
        (partition,) = consumer.committed([TopicPartition(TOPIC, 0)], timeout=5)
        return partition.offset if partition.offset >= 0 else None
    except KafkaException:
        return None
    finally:
        consumer.close()
