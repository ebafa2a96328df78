"""How the broker creates its coordinators' topics, with the configs Kafka's coordinators give
them: `__consumer_offsets` (GroupCoordinatorService.groupMetadataTopicConfigs) and
`__transaction_state` (TransactionStateManager.transactionTopicConfigs)."""

from __future__ import annotations

from .config.broker import BrokerConfig
from .protocol.names import OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC

COMPACTION_BYTES = 4 * 1024 * 1024
"""A partition of either topic larger than this is rewritten as a snapshot of its
coordinator's live state (groups/storage.py), so replaying it at start-up stays quick."""

_SETTINGS = {
    OFFSETS_TOPIC: (
        "offsets.topic.num.partitions",
        "offsets.topic.segment.bytes",
        {"compression.type": "producer"},
    ),
    TRANSACTION_STATE_TOPIC: (
        "transaction.state.log.num.partitions",
        "transaction.state.log.segment.bytes",
        {"compression.type": "uncompressed", "unclean.leader.election.enable": "false"},
    ),
}


def topic_settings(config: BrokerConfig, name: str) -> tuple[int, dict[str, str | None]]:
    """The partition count and topic configs `name` is created with."""
    partitions_key, segment_key, configs = _SETTINGS[name]
    settings: dict[str, str | None] = {
        "cleanup.policy": "compact",
        "segment.bytes": config.value(segment_key) or "104857600",
        **configs,
    }
    if name == TRANSACTION_STATE_TOPIC:  # its writes wait for this many replicas
        settings["min.insync.replicas"] = config.value("transaction.state.log.min.isr")
    return config.int_value(partitions_key), settings
