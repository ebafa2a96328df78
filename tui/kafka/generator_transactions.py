"""Generators that produce in transactions, so that a learner can watch a read_committed tail
skip the aborted ones (issue 15, point 4).

`TransactionSettings` says how many records go in each transaction and what share of the
transactions is aborted. `TransactionalSends` stands in front of a transactional producer
with the producer's `send`, `flush` and `stop`: the send loop (perf/producer.py) runs
unchanged, and the transaction begins before the first record of each group and ends
after the last, committed or aborted by a draw. Every record of a transaction is flushed
before it ends, so the aborted records are in the log (read_uncommitted tails show them)
and each one is counted as sent.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .connection import Connection, SettingsError
from .perf.engine import AiokafkaEngine, start_aiokafka_producer


@dataclass(frozen=True, slots=True)
class TransactionSettings:
    """`records` records a transaction; a share `abort_share` (0 to 1) of them aborted."""

    records: int
    abort_share: float = 0.0

    def describe(self) -> str:
        return f"transactions of {self.records} · {self.abort_share:.0%} aborted"


def parse_transactions(records: str, abort_percent: str) -> TransactionSettings | None:
    """Settings from a form's fields (no records: not transactional); SettingsError says
    what cannot be used."""
    if not records.strip():
        return None
    try:
        count = int(records.strip().replace("_", "").replace(",", ""))
    except ValueError:
        raise SettingsError(
            f"records per transaction {records.strip()!r} is not a whole number"
        ) from None
    if count < 1:
        raise SettingsError(f"records per transaction {count}: 1 or more (empty: none)")
    try:
        percent = float(abort_percent.strip().rstrip("%") or 0)
    except ValueError:
        raise SettingsError(f"abort {abort_percent.strip()!r} is not a percentage") from None
    if not 0 <= percent <= 100:
        raise SettingsError(f"abort {percent:g}%: between 0 and 100")
    return TransactionSettings(count, percent / 100)


class TransactionalSends:
    """A transactional aiokafka producer seen as the send loop's producer; `committed` and
    `aborted` count the transactions ended so far."""

    def __init__(
        self,
        producer: Any,
        settings: TransactionSettings,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.producer = producer
        self.settings = settings
        self.committed = 0
        self.aborted = 0
        self._draw = draw
        self._in_transaction = 0
        """Records sent in the open transaction (0: none is open)."""

    async def send(self, topic: str, value: Any, key: Any = None, **kwargs: Any) -> Any:
        if not self._in_transaction:
            await self.producer.begin_transaction()
        future = await self.producer.send(topic, value, key, **kwargs)
        self._in_transaction += 1
        if self._in_transaction >= self.settings.records:
            await self._end()
        return future

    async def _end(self) -> None:
        self._in_transaction = 0
        await self.producer.flush()
        if self._draw() < self.settings.abort_share:
            await self.producer.abort_transaction()
            self.aborted += 1
        else:
            await self.producer.commit_transaction()
            self.committed += 1

    async def flush(self) -> None:
        """The loop stopped: end the transaction left open (a draw decides it too)."""
        if self._in_transaction:
            await self._end()
        await self.producer.flush()

    async def stop(self) -> None:
        await self.producer.stop()


async def start_transactional(
    connection: Connection,
    properties: Mapping[str, str],
    client_id: str,
    settings: TransactionSettings,
) -> tuple[AiokafkaEngine, TransactionalSends]:
    """aiokafka's transactional producer (a transactional id of its own) behind
    `TransactionalSends`, as an engine: the librdkafka engine's worker process does not do
    transactions, and a learner's transactional generator needs no load-test rate."""
    transactional_id = f"{client_id}-{uuid.uuid4().hex[:8]}"
    producer, _ignored = await start_aiokafka_producer(
        connection, properties, client_id, transactional_id=transactional_id
    )
    sends = TransactionalSends(producer, settings)
    return AiokafkaEngine(sends), sends
