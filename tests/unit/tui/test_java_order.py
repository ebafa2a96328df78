"""kwb topics --describe lists a topic's configs in the order kafka-topics.sh does: a
java.util.HashMap's, filled in the order the broker listed them."""

from __future__ import annotations

from localbroker.config.definitions import TOPIC_CONFIGS_IN_KAFKAS_ORDER
from tui.cli.java_order import hash_map_order, string_hash

KAFKA_ORDER = [definition.name for definition in TOPIC_CONFIGS_IN_KAFKAS_ORDER]
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
