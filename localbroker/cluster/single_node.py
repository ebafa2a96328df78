"""`SingleNodeView`: the cluster as one broker sees it when it is the whole cluster.

The broker is the only live broker and the controller, and leads every partition it has in
leader epoch 0 with itself as the only replica and the whole ISR: what Kafka's metadata would
say of a one-node KRaft cluster. Handlers ask this view the questions cluster mode's metadata
image answers, so the single-node answers stay exactly what they were.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..metadata.store import TopicRecord
from ..security.listeners import Endpoint
from .partitions import BrokerRegistration, PartitionRegistration

SINGLE_NODE_EPOCH = 0
"""The leader epoch and partition epoch of every partition: leadership never changes."""


class SingleNodeView:
    """Answers from the broker's own topics and listeners, read at each call: topics come and
    go, and the advertised endpoints are known only once the listeners are bound (so they are
    asked for, by `advertised`)."""

    def __init__(
        self,
        node_id: int,
        advertised: Callable[[], Mapping[str, Endpoint]],
        topics: Mapping[str, TopicRecord],
    ) -> None:
        self._node_id = node_id
        self._advertised = advertised
        self._topics = topics
        self._led = PartitionRegistration(
            replicas=(node_id,),
            isr=(node_id,),
            leader=node_id,
            leader_epoch=SINGLE_NODE_EPOCH,
            partition_epoch=SINGLE_NODE_EPOCH,
        )

    @property
    def controller_id(self) -> int:
        return self._node_id

    def live_brokers(self) -> Sequence[BrokerRegistration]:
        return (
            BrokerRegistration(
                broker_id=self._node_id,
                broker_epoch=0,
                endpoints=tuple(self._advertised().values()),
                rack=None,
                fenced=False,
            ),
        )

    def partition(self, topic: str, partition: int) -> PartitionRegistration | None:
        record = self._topics.get(topic)
        if record is None or not 0 <= partition < record.partitions:
            return None
        return self._led
