"""`TransactionVerifier`: a partition leader asking a transactional id's coordinator, on
another broker, about a transactional batch before appending it (KIP-890), as Kafka's
AddPartitionsToTxnManager does.

The leader sends AddPartitionsToTxn v5 (the brokers' version) for the request's partitions:
`verify_only` for Produce before v12 (is the partition in the producer's transaction?), and
to add them for v12 on (transaction version 2, where the broker adds the partition itself).
A coordinator that cannot be reached answers NETWORK_EXCEPTION for each; a top-level error
stands for every partition, CLUSTER_AUTHORIZATION_FAILED as INVALID_TXN_STATE, since the
client is not the one refused. The Produce handler translates the answers as it does its own
coordinator's (handlers/produce.py `_verify`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from kio.schema.errors import ErrorCode

from ..protocol.names import ApiKey
from ..transactions.metadata import TopicPartition
from .broker_channels import BrokerChannels, answered, by_topic
from .peer import PeerUnavailable

log = logging.getLogger(__name__)

ADD_PARTITIONS_TO_TXN_VERSION = 5


class TransactionVerifier:
    def __init__(
        self, node_id: int, channels: BrokerChannels, coordinator_of: Callable[[str], int]
    ) -> None:
        """`coordinator_of(transactional_id)`: the broker leading the id's
        `__transaction_state` partition (NO_LEADER when none does)."""
        self.node_id = node_id
        self._channels = channels
        self._coordinator_of = coordinator_of

    def is_remote(self, transactional_id: str) -> bool:
        """Whether another broker (or none) coordinates the id: verify through `verify`."""
        return self._coordinator_of(transactional_id) != self.node_id

    async def verify(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: Iterable[TopicPartition],
        verify_only: bool,
    ) -> dict[TopicPartition, ErrorCode]:
        """The coordinator's answer for each partition."""
        asked = sorted(set(partitions))
        channel = self._channels.to(self._coordinator_of(transactional_id))
        if channel is None:
            return dict.fromkeys(asked, ErrorCode.coordinator_not_available)
        transaction = {
            "transactional_id": transactional_id,
            "producer_id": producer_id,
            "producer_epoch": producer_epoch,
            "verify_only": verify_only,
            "topics": [{"name": t, "partitions": p} for t, p in by_topic(asked).items()],
        }
        try:
            response = await channel.call(
                ApiKey.ADD_PARTITIONS_TO_TXN,
                ADD_PARTITIONS_TO_TXN_VERSION,
                {"transactions": [transaction]},
            )
        except PeerUnavailable as exc:
            log.info("transaction verification of %s failed: %s", transactional_id, exc)
            return dict.fromkeys(asked, ErrorCode.network_exception)
        if response.error_code != ErrorCode.none:
            error = response.error_code
            if error == ErrorCode.cluster_authorization_failed:
                error = ErrorCode.invalid_txn_state
            return dict.fromkeys(asked, error)
        return answered(
            dict.fromkeys(asked, ErrorCode.none),
            (
                ((topic.name, partition.partition_index), partition.partition_error_code)
                for result in response.results_by_transaction
                for topic in result.topic_results
                for partition in topic.results_by_partition
            ),
        )
