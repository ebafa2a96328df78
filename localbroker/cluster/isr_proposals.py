"""A leader's ISR changes sent to the active controller as AlterPartition (Kafka's
AlterPartitionManager, one request per proposal).

The leader proposes; the controller checks the proposal against the partition's leader
epoch and partition epoch and, if it holds, commits a PartitionChangeRecord, which comes
back to every broker through the metadata log. A refusal (or no answer) hands the
proposal back to the replica manager, which proposes again when the ISR still needs it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from ..protocol.names import ApiKey, ErrorCode
from .image import MetadataImage
from .lifecycle import BrokerLifecycle
from .peer import PeerUnavailable
from .replication.leader import IsrProposal

log = logging.getLogger(__name__)

ALTER_PARTITION_VERSION = 3


async def send_proposal(
    lifecycle: BrokerLifecycle,
    image: MetadataImage,
    topic_id: uuid.UUID,
    partition: int,
    proposal: IsrProposal,
    failed: Callable[[], None],
) -> None:
    """Send one proposal; `failed()` unless the controller accepted it."""
    members = [
        {"broker_id": broker, "broker_epoch": _epoch(image, broker)} for broker in proposal.isr
    ]
    request = {
        "broker_id": lifecycle.node_id,
        "broker_epoch": lifecycle.broker_epoch,
        "topics": [
            {
                "topic_id": topic_id,
                "partitions": [
                    {
                        "partition_index": partition,
                        "leader_epoch": proposal.leader_epoch,
                        "new_isr_with_epochs": members,
                        "partition_epoch": proposal.partition_epoch,
                    }
                ],
            }
        ],
    }
    try:
        response = await lifecycle.call(ApiKey.ALTER_PARTITION, ALTER_PARTITION_VERSION, request)
    except PeerUnavailable as exc:
        log.info("AlterPartition for %s-%d not sent: %s", topic_id, partition, exc)
        failed()
        return
    errors = [response.error_code] + [p.error_code for t in response.topics for p in t.partitions]
    if any(error != ErrorCode.none for error in errors) or not response.topics:
        log.info("AlterPartition for %s-%d refused: %s", topic_id, partition, errors)
        failed()


def _epoch(image: MetadataImage, broker_id: int) -> int:
    broker = image.brokers.get(broker_id)
    return -1 if broker is None else broker.broker_epoch
