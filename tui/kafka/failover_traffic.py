"""The failover demo's clients: an idempotent producer with acks=all writing numbered records,
and a consumer in a group reading them, both running while brokers die and return.

The producer sends `rate` records a second, each value its id from the ledger, without
waiting for one acknowledgement before the next send (as an application would): each send's
outcome lands in the ledger when the cluster answers. aiokafka retries a failed produce
request by itself (idempotent: until it succeeds, with the same sequence numbers, so a retry
cannot write a record twice); the retries it logs are counted by error. The consumer commits
automatically and records every id it reads with its offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError as AIOKafkaError

from .aiokafka_private import error_name, producer_retries
from .clients import consumer_args, new_consumer, new_producer, producer_args, start
from .connection import Connection
from .failover_ledger import FailoverLedger
from .pacing import Pacer

Note = Callable[[str, str], None]
"""(kind, text) onto the demo's timeline."""
FLUSH_TIMEOUT_S = 30.0
"""How long the producer may take to have its last records answered when it stops."""
POLL_MS = 200


class FailoverTraffic:
    def __init__(
        self,
        connection: Connection,
        topic: str,
        group_id: str,
        rate: float,
        ledger: FailoverLedger,
        note: Note,
    ) -> None:
        self.topic = topic
        self.group_id = group_id
        self.rate = rate
        self.ledger = ledger
        self.producing = False
        self.last_read_at = 0.0
        """time.monotonic() of the consumer's last record."""
        self._connection = connection
        self._note = note
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._retries = contextlib.ExitStack()

    async def start(self) -> None:
        """Start both clients (a KafkaToolError if either cannot)."""
        kwargs, _ = producer_args(self._connection, {"acks": "all", "enable.idempotence": "true"})
        self._producer = await start(
            new_producer(kwargs, client_id="demo-failover-producer"), self._connection
        )
        self._retries.enter_context(producer_retries(self.ledger.retry))
        props = {"group.id": self.group_id, "auto.offset.reset": "earliest"}
        consumer_kwargs, _ = consumer_args(self._connection, props)
        consumer = new_consumer(consumer_kwargs, client_id="demo-failover-consumer")
        self._consumer = await start(consumer, self._connection)
        self._consumer.subscribe([self.topic])
        self.producing = True
        self._tasks = [
            asyncio.create_task(self._produce(), name="demo-failover-producer"),
            asyncio.create_task(self._consume(), name="demo-failover-consumer"),
        ]

    async def stop_producing(self) -> None:
        """Stop sending and wait (bounded) until every record sent is answered."""
        if not self.producing:
            return
        self.producing = False
        await _cancel(self._tasks[0])
        if self._producer is not None:
            with contextlib.suppress(TimeoutError, AIOKafkaError):
                await asyncio.wait_for(self._producer.flush(), FLUSH_TIMEOUT_S)

    async def close(self) -> None:
        self.producing = False
        for task in self._tasks:
            await _cancel(task)
        self._retries.close()
        for client in (self._producer, self._consumer):
            if client is not None:
                with contextlib.suppress(AIOKafkaError, OSError):
                    await client.stop()
        self._producer = self._consumer = None

    async def _produce(self) -> None:
        assert self._producer is not None
        pacer = Pacer()
        while True:
            record_id = self.ledger.next_id()
            try:
                delivery = await self._producer.send(
                    self.topic, str(record_id).encode(), partition=0
                )
            except AIOKafkaError as exc:
                self.ledger.fail(error_name(exc))
                self._note("error", f"the producer could not send record {record_id}: {exc}")
                continue
            delivery.add_done_callback(lambda done, sent=record_id: self._answered(sent, done))
            await pacer.wait(self.ledger.sent, self.rate)

    def _answered(self, record_id: int, delivery: asyncio.Future[object]) -> None:
        if delivery.cancelled():
            return
        error = delivery.exception()
        if error is None:
            self.ledger.acknowledge(record_id)
            return
        self.ledger.fail(error_name(error))
        self._note("error", f"record {record_id} failed for good: {error_name(error)}")

    async def _consume(self) -> None:
        assert self._consumer is not None
        failing = False
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=POLL_MS)
                failing = False
            except AIOKafkaError as exc:
                if not failing:
                    self._note("error", f"the consumer: {error_name(exc)} ({exc})")
                failing = True
                await asyncio.sleep(POLL_MS / 1000)
                continue
            for records in batches.values():
                for record in records:
                    self.ledger.consume(int(record.value), record.offset)
                    self.last_read_at = time.monotonic()


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
