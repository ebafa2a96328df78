"""The active controller: `ControllerLogic` on the quorum's leader, its decisions appended.

While this node leads the controller quorum it answers the controller's APIs on its
CONTROLLER listener (controller_rpc.py); on any other node they are NOT_CONTROLLER, as in
Kafka, and brokers look for the new leader. Each decision is the records `ControllerLogic`
returns, appended to the metadata log, and answered once they commit; by then the
quorum's `on_commit` has applied them to the image, so decisions are made one at a time
(a lock) and each one sees every earlier one, as ControllerLogic requires.

A new leader decides nothing until its image has everything committed before its epoch
began (its own LeaderChangeMessage committed, Kafka's controller waits for the same), and
starts a fresh ControllerLogic then, which gives every broker a whole session from that
moment. `run` is the controller's clock: it fences brokers whose sessions expired and
balances leaders (auto.leader.rebalance.enable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ..errors import KafkaError
from ..protocol.names import ErrorCode
from .controller import ControllerLogic, ControllerResult
from .image import MetadataImage
from .quorum.metadata_log import now_ms
from .quorum.quorum import MetadataQuorum, NotLeader
from .records import encode
from .topic_control import TopicDefaults

log = logging.getLogger(__name__)

_R = TypeVar("_R")
_IDLE_POLL_S = 1.0


@dataclass(frozen=True, slots=True)
class ControllerSettings:
    """The broker settings the controller decides with."""

    session_timeout_ms: int
    """broker.session.timeout.ms"""
    unclean_leader_election: bool
    """unclean.leader.election.enable"""
    topic_defaults: TopicDefaults
    leader_imbalance_check_interval_ms: int | None = None
    """leader.imbalance.check.interval.seconds in ms; None when auto.leader.rebalance.enable
    is false."""


class ActiveController:
    def __init__(
        self,
        quorum: MetadataQuorum,
        image: MetadataImage,
        cluster_id: str,
        settings: ControllerSettings,
    ) -> None:
        self.quorum = quorum
        self.image = image
        self.cluster_id = cluster_id
        self.settings = settings
        self._logic: ControllerLogic | None = None
        self._ready_offset = 0
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()

    def leader_changed(self, leader_id: int, epoch: int) -> None:
        """The quorum's `on_leader_change`: a new epoch starts a new ControllerLogic, once
        everything before it is in the image."""
        self._logic = None
        if leader_id == self.quorum.node_id and self.quorum.log is not None:
            self._ready_offset = self.quorum.log.end_offset
        self._changed.set()

    @property
    def is_active(self) -> bool:
        return self.quorum.is_leader and self.quorum.high_watermark >= self._ready_offset

    def _active_logic(self) -> ControllerLogic:
        if not self.is_active:
            raise KafkaError(ErrorCode.not_controller, "This node is not the active controller.")
        if self._logic is None:
            self._logic = ControllerLogic(
                self.image,
                self.cluster_id,
                now_ms(),
                session_timeout_ms=self.settings.session_timeout_ms,
                unclean_leader_election=self.settings.unclean_leader_election,
                topic_defaults=self.settings.topic_defaults,
                leader_imbalance_check_interval_ms=(
                    self.settings.leader_imbalance_check_interval_ms
                ),
            )
        return self._logic

    def next_offset(self) -> int:
        """Where the next appended record will be (a new broker's epoch)."""
        assert self.quorum.log is not None
        return self.quorum.log.end_offset

    async def decide(
        self, decision: Callable[[ControllerLogic], ControllerResult[_R]], *, commit: bool = True
    ) -> _R:
        """Make one decision and append its records; its answer once they commit.
        `commit=False` only checks (CreateTopics' validate_only). NOT_CONTROLLER when this
        node is not, or stops being, the active controller."""
        async with self._lock:
            result = decision(self._active_logic())
            if result.records and commit:
                try:
                    await self.quorum.append([encode(record) for record in result.records])
                except NotLeader:
                    raise KafkaError(
                        ErrorCode.not_controller, "This node is no longer the active controller."
                    ) from None
            return result.response

    async def run(self) -> None:
        """Fence brokers as their sessions expire, then move leaders back to preferred
        replicas when due, one decision at a time."""
        while True:
            delay = _IDLE_POLL_S
            logic = self._logic if self.is_active else None
            if logic is not None and (deadline := logic.next_deadline()) is not None:
                delay = min(delay, max(0, deadline - now_ms()) / 1000)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._changed.wait()
            if not self.is_active:
                continue
            try:
                while (fenced := await self.decide(lambda c: c.poll(now_ms()))) is not None:
                    log.info("broker %d fenced: its session expired", fenced)
                while await self.decide(lambda c: c.balance_leaders(now_ms())):
                    log.info("leaders moved back to preferred replicas")
            except KafkaError as exc:
                log.info("the controller's timer stops for now: %s", exc)
