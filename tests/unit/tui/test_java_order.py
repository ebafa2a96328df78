"""kwb topics --describe lists a topic's configs in the order kafka-topics.sh does: a
java.util.HashMap's, filled in the order the broker listed them."""

from __future__ import annotations

from tui.cli.java_order import hash_map_order, string_hash

# Topic configs in the order Apache Kafka 4.1 lists them (localbroker lists them sorted).
KAFKA_ORDER = [
    "compression.type",
    "remote.log.delete.on.disable",
    "leader.replication.throttled.replicas",
    "remote.storage.enable",
    "min.insync.replicas",
    "segment.jitter.ms",
    "remote.log.copy.disable",
    "local.retention.ms",
    "cleanup.policy",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "compression.lz4.level",
    "segment.bytes",
    "retention.ms",
    "compression.gzip.level",
    "flush.messages",
    "compression.zstd.level",
    "max.compaction.lag.ms",
    "file.delete.delay.ms",
    "max.message.bytes",
    "min.compaction.lag.ms",
    "message.timestamp.type",
    "local.retention.bytes",
    "preallocate",
    "min.cleanable.dirty.ratio",
    "index.interval.bytes",
    "unclean.leader.election.enable",
    "retention.bytes",
    "delete.retention.ms",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "segment.ms",
    "segment.index.bytes",
]
OVERRIDDEN = {"cleanup.policy", "flush.ms", "segment.bytes", "retention.ms", "max.message.bytes"}


def test_string_hash_is_javas() -> None:
    assert string_hash("hello") == 99162322
    assert string_hash("") == 0


def test_iteration_order_follows_buckets_then_insertion() -> None:
    """The Configs: lines kafka-topics.sh printed for one topic on each broker: the same
    configs, but segment.bytes and retention.ms share a bucket, so the broker's order of the
    two decides."""
    shown = [name for name in hash_map_order(KAFKA_ORDER) if name in OVERRIDDEN]
    assert shown == [
        "cleanup.policy",
        "flush.ms",
        "segment.bytes",
        "retention.ms",
        "max.message.bytes",
    ]
    shown = [name for name in hash_map_order(sorted(KAFKA_ORDER)) if name in OVERRIDDEN]
    assert shown == [
        "cleanup.policy",
        "flush.ms",
        "retention.ms",
        "segment.bytes",
        "max.message.bytes",
    ]
