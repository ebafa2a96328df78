"""`TransactionMarkerChannel`: a cluster's transaction coordinator writing a decided end's
COMMIT or ABORT markers into partitions other brokers lead, as Kafka's
TransactionMarkerChannelManager does.

One WriteTxnMarkers request per leader, this broker included (the request goes to its own
inter-broker listener, as Kafka's goes to itself): the leader appends the marker and answers
once its ISR holds it. Retriable answers, an unreachable leader or a leaderless partition are
sent again after `retry.backoff.ms`, to the leader the metadata names by then, for as long as
this broker still coordinates the transactional id in the coordinator epoch the markers
carry (the leader epoch of its `__transaction_state` partition); when it no longer does, or a
leader answers that the producer or this coordinator was fenced, the end is left to whoever
coordinates now (`MarkersCancelled`). The end is complete only when every partition holds
its marker (routing and the answers' meanings: transactions/marker_routing.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..protocol.names import ApiKey
from ..transactions.coordinator import Completion
from ..transactions.marker_routing import MarkerOutcome, by_leader, marker_outcome
from ..transactions.metadata import TopicPartition
from .broker_channels import BrokerChannels, answered, by_topic
from .peer import PeerUnavailable

log = logging.getLogger(__name__)

WRITE_TXN_MARKERS_VERSION = 1
RETRY_BACKOFF_MS = 100
"""retry.backoff.ms's default: the pause before markers are sent again."""


class MarkersCancelled(KafkaError):
    """This broker no longer coordinates the transaction, or a leader fenced the markers."""


class TransactionMarkerChannel:
    def __init__(
        self,
        channels: BrokerChannels,
        leader_of: Callable[[str, int], int | None],
        coordinator_epoch_of: Callable[[str], int | None],
        retry_backoff_ms: int = RETRY_BACKOFF_MS,
    ) -> None:
        """`leader_of(topic, partition)`: the partition's leader (None once the partition is
        gone); `coordinator_epoch_of(transactional_id)`: the coordinator epoch while this
        broker coordinates the id, else None."""
        self._channels = channels
        self._leader_of = leader_of
        self._coordinator_epoch_of = coordinator_epoch_of
        self._retry_backoff_s = retry_backoff_ms / 1000

    async def write(self, completion: Completion) -> None:
        """Return once every partition of `completion` holds its marker; raise
        `MarkersCancelled` when this broker must leave the end to another."""
        epoch = self._coordinator_epoch_of(completion.transactional_id)
        pending = set(completion.partitions)
        while True:
            if epoch is None or self._coordinator_epoch_of(completion.transactional_id) != epoch:
                raise MarkersCancelled(
                    ErrorCode.not_coordinator,
                    f"No longer the coordinator of {completion.transactional_id}",
                )
            grouped, gone = by_leader(pending, self._leader_of)
            pending.difference_update(gone)
            answers = await asyncio.gather(
                *(
                    self._send(leader, partitions, completion, epoch)
                    for leader, partitions in grouped.items()
                )
            )
            for errors in answers:
                for partition, error in errors.items():
                    outcome = marker_outcome(error)
                    if outcome == MarkerOutcome.CANCEL:
                        raise MarkersCancelled(error, f"A leader refused the marker: {error.name}")
                    if outcome != MarkerOutcome.RETRY:
                        pending.discard(partition)
            if not pending:
                return
            await asyncio.sleep(self._retry_backoff_s)

    async def _send(
        self, leader: int, partitions: list[TopicPartition], completion: Completion, epoch: int
    ) -> dict[TopicPartition, ErrorCode]:
        """The leader's answer for each partition; NETWORK_EXCEPTION for all of them when the
        leader cannot be reached (or there is none)."""
        unreachable = dict.fromkeys(partitions, ErrorCode.network_exception)
        channel = self._channels.to(leader)
        if channel is None:
            return unreachable
        marker = {
            "producer_id": completion.producer_id,
            "producer_epoch": completion.producer_epoch,
            "transaction_result": completion.commit,
            "topics": [
                {"name": t, "partition_indexes": p} for t, p in by_topic(partitions).items()
            ],
            "coordinator_epoch": epoch,
        }
        try:
            response = await channel.call(
                ApiKey.WRITE_TXN_MARKERS, WRITE_TXN_MARKERS_VERSION, {"markers": [marker]}
            )
        except PeerUnavailable as exc:
            log.info("transaction markers to broker %d not sent: %s", leader, exc)
            return unreachable
        return _errors(response, completion.producer_id, unreachable)


def _errors(
    response: Any, producer_id: int, asked: dict[TopicPartition, ErrorCode]
) -> dict[TopicPartition, ErrorCode]:
    """Each asked partition's error in the response (NETWORK_EXCEPTION for one it left out)."""
    return answered(
        asked,
        (
            ((topic.name, partition.partition_index), partition.error_code)
            for marker in response.markers
            if marker.producer_id == producer_id
            for topic in marker.topics
            for partition in topic.partitions
        ),
    )
