"""Requests a broker forwards to the active controller, and waiting for their effect here.

In KRaft a broker does not create or delete topics itself: it forwards its clients'
CreateTopics, DeleteTopics and CreatePartitions (and AlterConfigs, AlterPartitionReassignments,
ListPartitionReassignments) to the active controller, which answers once the records
committed. The client then asks this broker for Metadata, so the answer
waits until this node's image has applied those records too (`ImageWatch`), as Kafka's
broker answers only what its own metadata already shows is bounded by the request's
timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from ..protocol.client_codec import request_body
from ..protocol.names import ApiKey, ErrorCode
from .lifecycle import BrokerLifecycle
from .peer import PeerUnavailable

_RETRY_S = 0.1
AUTO_CREATE_VERSION = 7
AUTO_CREATE_TIMEOUT_MS = 30_000


class ImageWatch:
    """Wakes whoever waits for the image to reach a state, after every committed batch."""

    def __init__(self) -> None:
        self._moved = asyncio.Event()

    def moved(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()

    async def until(self, reached: Callable[[], bool], timeout_s: float) -> bool:
        """Whether `reached()` came true within `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not reached():
                    await self._moved.wait()
                return True
        return reached()


class ControllerChannel:
    def __init__(self, lifecycle: BrokerLifecycle, watch: ImageWatch) -> None:
        self._lifecycle = lifecycle
        self.watch = watch
        self._creating: dict[str, asyncio.Task[None]] = {}

    def create_in_background(
        self,
        name: str,
        partitions: int,
        replication_factor: int,
        configs: Mapping[str, str | None] | None = None,
    ) -> None:
        """Ask the controller for a topic used before it exists (auto.create.topics.enable,
        or a coordinator's topic), once at a time per name, without waiting: Kafka's
        AutoTopicCreationManager, whose answer meanwhile is LEADER_NOT_AVAILABLE (Metadata)
        or COORDINATOR_NOT_AVAILABLE (FindCoordinator)."""
        if name in self._creating:
            return
        topic = {
            "name": name,
            "num_partitions": partitions,
            "replication_factor": replication_factor,
            "assignments": [],
            "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()],
        }
        body = request_body(
            ApiKey.CREATE_TOPICS,
            AUTO_CREATE_VERSION,
            {"topics": [topic], "timeout": AUTO_CREATE_TIMEOUT_MS, "validate_only": False},
        )

        async def create() -> None:
            try:
                await self.forward(body, AUTO_CREATE_TIMEOUT_MS / 1000)
            finally:
                del self._creating[name]

        self._creating[name] = asyncio.create_task(create())

    async def close(self) -> None:
        for task in list(self._creating.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def forward(self, body: Any, timeout_s: float) -> Any:
        """The active controller's answer to `body` (a kio request), following the
        controller as it moves; None if none answered within `timeout_s`."""
        answer = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while True:
                    try:
                        answer = await self._lifecycle.send(body)
                    except PeerUnavailable:
                        await asyncio.sleep(_RETRY_S)
                        continue
                    if not _not_controller(answer):
                        return answer
                    await asyncio.sleep(_RETRY_S)
        return answer


def _not_controller(answer: Any) -> bool:
    """Whether the node asked was not (or stopped being) the active controller: the
    answer's own error code says so, or one of its topics' (resources')."""
    if getattr(answer, "error_code", None) == ErrorCode.not_controller:
        return True
    results = getattr(answer, "topics", None) or getattr(answer, "responses", None) or ()
    results = results or getattr(answer, "results", None) or ()
    return any(getattr(r, "error_code", None) == ErrorCode.not_controller for r in results)
