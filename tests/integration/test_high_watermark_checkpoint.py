"""The high watermark across a restart in `localbroker --cluster 3`: each node keeps Kafka's
`replication-offset-checkpoint` and reopens its logs there, not at their log end offsets
(which may hold records the ISR never did); a leader then raises it to what its ISR holds."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from launched import launched_cluster
from waiting import wait_until

TIMEOUT = 30.0
TOPIC = "alone"
FAST_FENCING = {"broker.session.timeout.ms": 3000, "broker.heartbeat.interval.ms": 300}


def high_watermark(bootstrap: str) -> int | None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "watcher"})
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=5)
        return high if high >= 0 else None
    except Exception:  # the node is still starting
        return None
    finally:
        consumer.close()


def test_a_restarted_sole_replica_serves_its_whole_log(tmp_path: Path) -> None:
    """A one-replica partition's leader is its whole ISR: once it leads again after a crash
    (its checkpoint older than its last records), every record is readable at once, with
    no new write to move the high watermark (Kafka's makeLeader)."""
    with launched_cluster(tmp_path, FAST_FENCING) as cluster:
        cluster.wait_registered()
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(TIMEOUT)
        producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all"})
        for index in range(5):
            producer.produce(TOPIC, f"v{index}".encode(), partition=0)
        assert producer.flush(TIMEOUT) == 0
        leader = admin.list_topics(TOPIC, timeout=10).topics[TOPIC].partitions[0].leader

        cluster.kill(leader)  # within replica.high.watermark.checkpoint.interval.ms, mostly
        cluster.restart(leader)

        assert wait_until(lambda: high_watermark(cluster.bootstrap) == 5, "the whole log readable")
