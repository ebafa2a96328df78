"""A controller over an image, driven as the active controller drives it, on a fake clock.

`Cluster.commit` appends a decision's records at the image's next offsets, which is what
the quorum does once they commit; brokers join by the real path (BrokerRegistration, then
a heartbeat that has caught up with the registration).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from localbroker.cluster.controller import (
    BrokerHeartbeatRequest,
    BrokerRegistrationRequest,
    ControllerLogic,
    ControllerResult,
)
from localbroker.cluster.image import MetadataImage
from localbroker.cluster.partitions import PartitionRegistration
from localbroker.cluster.topic_control import NewTopic
from localbroker.protocol.names import SecurityProtocol
from localbroker.security.listeners import Endpoint

_R = TypeVar("_R")


class Cluster:
    def __init__(self, size: int, **controller: Any) -> None:
        self.image = MetadataImage()
        self.now = 0
        self.controller = ControllerLogic(self.image, now_ms=0, rng=random.Random(1), **controller)
        self.epochs: dict[int, int] = {}
        for broker_id in range(size):
            self.join(broker_id)

    def commit(self, result: ControllerResult[_R]) -> _R:
        self.image.apply(self.image.last_offset + 1, result.records)
        return result.response

    def register(self, broker_id: int, incarnation: int | None = None) -> int:
        listener = Endpoint("PLAINTEXT", SecurityProtocol.PLAINTEXT, "127.0.0.1", 9092 + broker_id)
        request = BrokerRegistrationRequest(
            broker_id, uuid.UUID(int=broker_id if incarnation is None else incarnation), (listener,)
        )
        result = self.controller.register_broker(request, self.image.last_offset + 1, self.now)
        self.epochs[broker_id] = self.commit(result)
        return self.epochs[broker_id]

    def heartbeat(self, broker_id: int, **fields: Any) -> Any:
        request = BrokerHeartbeatRequest(
            broker_id,
            fields.pop("broker_epoch") if "broker_epoch" in fields else self.epochs[broker_id],
            fields.pop("current_metadata_offset", self.image.last_offset),
            **fields,
        )
        return self.commit(self.controller.heartbeat(request, self.now))

    def join(self, broker_id: int) -> None:
        self.register(broker_id)
        self.heartbeat(broker_id)

    def create(self, name: str, *assignments: tuple[int, ...], **configs: str) -> uuid.UUID:
        topic = NewTopic(name, assignments=dict(enumerate(assignments)), configs=configs)
        (result,) = self.commit(self.controller.create_topics([topic]))
        assert result.topic_id is not None, result
        return result.topic_id

    def part(self, name: str, partition: int = 0) -> PartitionRegistration:
        registration = self.image.partition(name, partition)
        assert registration is not None
        return registration

    def expire(self, *alive: int) -> list[int]:
        """Let a whole session pass in which only `alive` heartbeat; fence the rest."""
        self.now += self.controller.session_timeout_ms + 1
        for broker_id in alive:
            self.heartbeat(broker_id)
        fenced = []
        while (broker_id := self.commit(self.controller.poll(self.now))) is not None:
            fenced.append(broker_id)
        return fenced


@pytest.fixture
def cluster_of() -> Callable[..., Cluster]:
    return Cluster
