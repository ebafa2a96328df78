"""`BrokerChannels`: one connection from this broker to each other broker's inter-broker
listener, for the requests a broker sends a broker on its own behalf.

Kafka's transaction coordinator sends WriteTxnMarkers to partition leaders
(TransactionMarkerChannelManager) and a partition leader asks the transaction coordinator
whether a transactional batch's partition is in its transaction (AddPartitionsToTxnManager),
each over its own NetworkClient to the brokers' inter-broker endpoints. Here both share one
`PeerClient` per broker, reconnected by the client itself when a broker comes back; a
broker that registers again on another address gets a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kio.schema.errors import ErrorCode

from ..transactions.metadata import TopicPartition
from .image import MetadataImage
from .peer import PeerClient

REQUEST_TIMEOUT_S = 30.0
"""request.timeout.ms's default, the bound of Kafka's inter-broker send threads' requests."""


class BrokerChannels:
    def __init__(self, node_id: int, image: Callable[[], MetadataImage], listener: str) -> None:
        self.node_id = node_id
        self._image = image
        self._listener = listener
        self._clients: dict[int, PeerClient] = {}
        self._retired: list[PeerClient] = []
        """Clients of a broker's old address, closed with the rest."""

    def to(self, broker_id: int) -> PeerClient | None:
        """The channel to a live broker (None for a fenced or unknown one, or one without
        the inter-broker listener: the caller retries once the metadata moves on)."""
        broker = self._image().brokers.get(broker_id)
        if broker is None or broker.fenced:
            return None
        endpoint = broker.endpoint(self._listener)
        if endpoint is None:
            return None
        client = self._clients.get(broker_id)
        if client is None or (client.host, client.port) != (endpoint.host, endpoint.port):
            if client is not None:
                self._retired.append(client)
            client = PeerClient(
                endpoint.host,
                endpoint.port,
                client_id=f"broker-{self.node_id}",
                timeout_s=REQUEST_TIMEOUT_S,
            )
            self._clients[broker_id] = client
        return client

    async def close(self) -> None:
        for client in [*self._clients.values(), *self._retired]:
            await client.close()
        self._clients = {}
        self._retired = []


def by_topic(partitions: Iterable[TopicPartition]) -> dict[str, list[int]]:
    """Partition indexes per topic, as requests between brokers list them."""
    topics: dict[str, list[int]] = {}
    for topic, partition in partitions:
        topics.setdefault(topic, []).append(partition)
    return topics


def answered(
    asked: dict[TopicPartition, ErrorCode], answers: Iterable[tuple[TopicPartition, ErrorCode]]
) -> dict[TopicPartition, ErrorCode]:
    """`asked` (each partition's error if the peer leaves it out) with the peer's answers for
    the partitions asked about."""
    errors = dict(asked)
    errors.update((key, error) for key, error in answers if key in errors)
    return errors
