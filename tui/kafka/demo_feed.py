"""The two background jobs of the rebalance demo besides its consumers: a producer writing a
steady trickle of records to every partition (so lag is visible the moment nobody consumes a
partition), and a watcher of each partition's log start and end offsets (so lag can be
computed as Kafka computes it: log end offset minus committed offset)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError as AIOKafkaError

from localbroker.public import ListOffsetsTimestamp

from .admin import KafkaAdmin
from .clients import new_producer, producer_args, start
from .connection import Connection
from .errors import KafkaToolError
from .pacing import Pacer

LAG_HISTORY = 120
"""Lag samples kept per partition (one per watcher poll)."""


class Feeder:
    """Produces `rate` records a second round-robin over `partitions`, values "order-N"."""

    def __init__(
        self,
        connection: Connection,
        topic: str,
        partitions: int,
        rate: float,
        on_error: Callable[[str], None],
    ) -> None:
        self.topic = topic
        self.partitions = partitions
        self.rate = rate
        self.running = False
        self.sent = 0
        self._connection = connection
        self._on_error = on_error
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._producer is None:
            kwargs, _ = producer_args(self._connection, {"acks": "1", "linger.ms": "5"})
            self._producer = await start(
                new_producer(kwargs, client_id="demo-feeder"), self._connection
            )
        self.resume()

    def resume(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._feed(), name="demo-feeder")
        self.running = True

    async def pause(self) -> None:
        self.running = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def close(self) -> None:
        await self.pause()
        if self._producer is not None:
            with contextlib.suppress(AIOKafkaError, OSError):
                await self._producer.stop()
            self._producer = None

    async def _feed(self) -> None:
        assert self._producer is not None
        pacer = Pacer()
        while True:
            await pacer.wait(self.sent, self.rate)
            partition = self.sent % self.partitions
            try:
                await self._producer.send(
                    self.topic, b"order-%06d" % self.sent, partition=partition
                )
            except (AIOKafkaError, OSError) as exc:
                self._on_error(f"demo producer: {exc}")
                await asyncio.sleep(1.0)
                continue
            self.sent += 1


class LogWatcher:
    """Polls ListOffsets (earliest and latest) of the demo topic every `interval_s`."""

    def __init__(
        self,
        admin: KafkaAdmin,
        topic: str,
        partitions: int,
        interval_s: float,
        on_poll: Callable[[], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.topic = topic
        self.partitions = partitions
        self.log_start: dict[int, int] = {}
        self.log_end: dict[int, int] = {}
        self.lag_history: dict[int, deque[int]] = {
            p: deque(maxlen=LAG_HISTORY) for p in range(partitions)
        }
        self._admin = admin
        self._interval_s = interval_s
        self._on_poll = on_poll
        self._on_error = on_error
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="demo-log-watcher")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def poll(self) -> None:
        wanted = [(self.topic, p) for p in range(self.partitions)]
        latest = await self._admin.list_offsets(wanted, ListOffsetsTimestamp.LATEST)
        earliest = await self._admin.list_offsets(wanted, ListOffsetsTimestamp.EARLIEST)
        self.log_end = {p: offset for (_, p), (offset, _) in latest.items()}
        self.log_start = {p: offset for (_, p), (offset, _) in earliest.items()}

    async def _watch(self) -> None:
        failing = False
        while True:
            try:
                await self.poll()
                failing = False
            except KafkaToolError as exc:
                if not failing:
                    self._on_error(str(exc))
                failing = True
            self._on_poll()
            await asyncio.sleep(self._interval_s)
