"""Producer ids in cluster mode: blocks from the active controller (AllocateProducerIds).

A producer id must be unique in the whole cluster, since a partition's leader tells
producers apart by it and leadership moves between brokers. On one broker the
MetadataStore hands ids out; in a cluster each broker gets blocks of ids from the
controller, which records each block in the metadata log (ProducerIdsRecord) so that no
two brokers, and no broker after a restart, get the same one. As Kafka's
RPCProducerIdManager: the next block is asked for once the current one is 90% used, and
a broker whose block ran out before the next arrived answers COORDINATOR_LOAD_IN_PROGRESS,
which clients retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ..errors import KafkaError
from ..protocol.names import ErrorCode

log = logging.getLogger(__name__)

PREFETCH_AT = 0.9
"""The share of a block used when the next one is asked for (Kafka's 90%)."""


class ProducerIdBlocks:
    def __init__(self, allocate: Callable[[], Awaitable[tuple[int, int]]]) -> None:
        """`allocate()` asks the controller for a block: (first id, length), or raises."""
        self._allocate = allocate
        self._next = self._end = self._prefetch_at = 0
        self._coming: tuple[int, int] | None = None
        self._asking: asyncio.Task[None] | None = None

    def next(self) -> int:
        if self._next >= self._end:
            if self._coming is None:
                self._ask()
                raise KafkaError(
                    ErrorCode.coordinator_load_in_progress,
                    "Producer ID block is full. Waiting for next block",
                )
            first, length = self._coming
            self._coming = None
            self._next, self._end = first, first + length
            self._prefetch_at = first + int(length * PREFETCH_AT)
        producer_id = self._next
        self._next += 1
        if self._next >= self._prefetch_at and self._coming is None:
            self._ask()
        return producer_id

    def _ask(self) -> None:
        if self._asking is None:
            self._asking = asyncio.create_task(self._fetch())

    async def _fetch(self) -> None:
        try:
            self._coming = await self._allocate()
        except (KafkaError, OSError) as exc:
            log.info("no producer id block from the controller yet: %s", exc)
        finally:
            self._asking = None

    async def close(self) -> None:
        if self._asking is not None:
            self._asking.cancel()
