"""Producing for the workbench: one record, N repeats, a file of lines or JSON Lines, or a file
followed as it grows (`tail -F`), each acknowledgement with its partition, offset and latency.

The producer is built by clients.py from Kafka's properties (the connection's properties file
under the pane's acks and compression.type), so it behaves as `kwb produce` does; keyed records
go where Java clients put them (StickyPartitioner). Records are handed to aiokafka without
waiting for each answer and counted as answers come, so a big file goes at batch speed; every
few hundred records the loop is yielded so that a UI on the same loop stays responsive.

A topic that does not exist is refused at once, never auto-created: in a workbench a typo in a
topic name must not make a topic (and aiokafka would otherwise wait for its metadata for
delivery.timeout.ms). Records come from outgoing.py, lines from lines.py. No Textual here:
callers get plain callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError as AIOKafkaError
from aiokafka.errors import KafkaTimeoutError
from kio.schema.errors import ErrorCode

from .admin import KafkaAdmin
from .clients import new_producer, partitions_for, producer_args, start
from .connection import Connection, SettingsError
from .errors import KafkaToolError
from .lines import FileFollower, file_line_batches
from .outgoing import FileFormat, OutgoingRecord, RecordError, parse_line
from .partitioner import StickyPartitioner

_YIELD_EVERY = 256
_LEADER_WAIT_S = 5.0
_CLOSE_TIMEOUT_S = 10.0


class DeliveryTimeout(KafkaToolError):
    """The producer has no room for another record within delivery.timeout.ms: the cluster
    is gone, and reading on would only wait again for each record."""


def describe(error: BaseException) -> str:
    """One readable line for a failed send; aiokafka's errors name themselves already, other
    exceptions get their class name in front."""
    if isinstance(error, KafkaToolError | RecordError | SettingsError):
        return str(error)
    name, reason = type(error).__name__, str(error)
    if reason.startswith(name):
        return reason
    return f"{name}: {reason}" if reason else name


# -- the producer --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProducerSettings:
    """The producer-level choices the pane offers (Kafka's acks and compression.type)."""

    acks: str = "all"
    compression: str = "none"


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    topic: str
    partition: int
    offset: int
    """-1 with acks=0: the broker answers nothing."""
    latency_ms: float
    """From handing the record to the producer to its answer (linger.ms included)."""


@dataclass(slots=True)
class ProduceProgress:
    """Counts of a run of records (repeats, a file, a followed file), updated as answers come."""

    records: int = 0
    """Records read (lines, repeats), sent or not."""
    sent: int = 0
    failed: int = 0
    bytes_read: int = 0
    total_bytes: int | None = None
    last_error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Acknowledged records per second."""
        return self.sent / self.elapsed if self.elapsed > 0 else 0.0

    def fail(self, error: str) -> None:
        self.failed += 1
        self.last_error = error


class RecordProducer:
    """One producer (and a metadata client) for one connection and one choice of settings.

    Start it once, send as often as needed, close it when done: building a producer costs a
    connection and an InitProducerId round trip, so a UI keeps one per pane and rebuilds it
    only when the connection or the producer-level settings change.
    """

    def __init__(
        self,
        connection: Connection,
        settings: ProducerSettings | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings or ProducerSettings()
        props = {**connection.extra}  # the connection's properties file, then the pane's choices
        props.update({"acks": self.settings.acks, "compression.type": self.settings.compression})
        self._kwargs, _ = producer_args(connection, props)
        self._partitioner = StickyPartitioner(self._kwargs["max_batch_size"])
        self._producer: AIOKafkaProducer | None = None
        self._admin: KafkaAdmin | None = None

    @property
    def delivery_timeout_s(self) -> float:
        return float(self._kwargs["request_timeout_ms"]) / 1000

    @property
    def _not_acknowledged(self) -> str:
        return f"not acknowledged within delivery.timeout.ms={self._kwargs['request_timeout_ms']}"

    async def start(self) -> RecordProducer:
        admin = KafkaAdmin(self.connection)
        await admin.__aenter__()
        try:
            producer = new_producer(self._kwargs, partitioner=self._partitioner)
            self._producer = await start(producer, self.connection)
        except BaseException:
            await admin.__aexit__(None, None, None)
            raise
        self._admin = admin
        return self

    async def close(self) -> None:
        """Deliver what is pending (bounded), then close both clients."""
        producer, admin = self._producer, self._admin
        self._producer = self._admin = None
        if producer is not None:
            with contextlib.suppress(TimeoutError, AIOKafkaError):
                await asyncio.wait_for(producer.stop(), _CLOSE_TIMEOUT_S)
        if admin is not None:
            await admin.__aexit__(None, None, None)

    async def __aenter__(self) -> RecordProducer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _started(self) -> tuple[AIOKafkaProducer, KafkaAdmin]:
        if self._producer is None or self._admin is None:
            raise KafkaToolError("the producer is not running")
        return self._producer, self._admin

    async def partitions(self, topic: str) -> list[int]:
        """The topic's partitions; a topic that does not exist is a KafkaToolError (with code
        UNKNOWN_TOPIC_OR_PARTITION) now, not aiokafka's timeout minutes later."""
        producer, admin = self._started()
        if not topic:
            raise KafkaToolError("no topic: type the name of the topic to produce to")
        deadline = time.monotonic() + _LEADER_WAIT_S
        while True:
            try:
                found = await partitions_for(admin, topic, auto_create=False)
            except KafkaToolError as exc:
                if exc.code == ErrorCode.unknown_topic_or_partition:
                    raise KafkaToolError(f"topic '{topic}' does not exist", exc.code) from None
                raise
            if found:
                break
            if time.monotonic() > deadline:  # just created, no leader yet
                raise KafkaToolError(f"topic {topic}: no partition leader yet; try again")
            await asyncio.sleep(0.1)
        if set(found) != (producer.client.cluster.partitions_for_topic(topic) or set()):
            producer.client.add_topic(topic)
            await producer.client.force_metadata_update()
        return found

    async def submit(
        self, topic: str, record: OutgoingRecord, partitions: list[int]
    ) -> asyncio.Future[Acknowledgement]:
        """Hand a record to the producer; the future resolves with its acknowledgement.

        Raises KafkaToolError for what fails before the record is queued (a partition the
        topic lacks, a record larger than max.request.size, a full buffer)."""
        producer, _ = self._started()
        if record.partition is not None and record.partition not in partitions:
            raise KafkaToolError(
                f"partition {record.partition} does not exist: topic {topic} has"
                f" {len(partitions)} partition(s), 0-{max(partitions)}"
            )
        partition = record.partition
        if partition is None:  # chosen here, so that acks=0 (no answer) still tells where
            available = producer.client.cluster.available_partitions_for_topic(topic) or ()
            partition = self._partitioner(record.key, partitions, sorted(available))
        started = time.perf_counter()
        try:
            answer = await producer.send(
                topic,
                record.value,
                key=record.key,
                partition=partition,
                timestamp_ms=record.timestamp_ms,
                headers=list(record.headers),
            )
        except KafkaTimeoutError as exc:
            raise DeliveryTimeout(f"cannot deliver to topic {topic}: {describe(exc)}") from None
        except AIOKafkaError as exc:
            raise KafkaToolError(describe(exc)) from None
        self._partitioner.account(record.key, record.value)
        acknowledged: asyncio.Future[Acknowledgement] = asyncio.get_running_loop().create_future()

        def done(future: asyncio.Future[Any]) -> None:
            if acknowledged.done():
                return
            if future.cancelled():
                acknowledged.set_exception(KafkaToolError("the send was cancelled"))
            elif (error := future.exception()) is not None:
                acknowledged.set_exception(KafkaToolError(describe(error)))
            else:
                meta = future.result()  # None with acks=0
                latency = (time.perf_counter() - started) * 1000
                offset = -1 if meta is None else meta.offset
                acknowledged.set_result(Acknowledgement(topic, partition, offset, latency))

        answer.add_done_callback(done)
        return acknowledged

    async def send(self, topic: str, record: OutgoingRecord) -> Acknowledgement:
        """Send one record and wait for its acknowledgement (KafkaToolError if it fails)."""
        partitions = await self.partitions(topic)
        acknowledged = await self.submit(topic, record, partitions)
        try:
            return await asyncio.wait_for(acknowledged, self.delivery_timeout_s)
        except TimeoutError:
            raise KafkaToolError(self._not_acknowledged) from None

    async def produce(
        self,
        topic: str,
        batches: AsyncIterable[Sequence[OutgoingRecord | RecordError]],
        progress: ProduceProgress,
        on_ack: Callable[[Acknowledgement], None] | None = None,
    ) -> ProduceProgress:
        """Send every record of `batches` without waiting for each answer, counting answers
        and failures in `progress` (a RecordError counts as a failure), then wait for the
        answers still due. A cluster gone for good ends the run with KafkaToolError."""
        partitions = await self.partitions(topic)
        progress.started = time.monotonic()  # the rate is the sending's, not the connecting's
        pending: set[asyncio.Future[Acknowledgement]] = set()

        def answered(future: asyncio.Future[Acknowledgement]) -> None:
            pending.discard(future)
            if future.cancelled():
                progress.fail("cancelled")
            elif (error := future.exception()) is not None:
                progress.fail(describe(error))
            else:
                progress.sent += 1
                if on_ack is not None:
                    on_ack(future.result())

        try:
            async for batch in batches:
                for item in batch:
                    progress.records += 1
                    if progress.records % _YIELD_EVERY == 0:
                        await asyncio.sleep(0)
                    if isinstance(item, RecordError):
                        progress.fail(str(item))
                        continue
                    try:
                        future = await self.submit(topic, item, partitions)
                    except DeliveryTimeout:
                        raise
                    except KafkaToolError as exc:
                        progress.fail(str(exc))
                        continue
                    pending.add(future)
                    future.add_done_callback(answered)
            if pending:
                await asyncio.wait(set(pending), timeout=self.delivery_timeout_s)
                for future in list(pending):
                    future.remove_done_callback(answered)
                    progress.fail(self._not_acknowledged)
                pending.clear()
        finally:
            progress.finished = time.monotonic()
        return progress


# -- sources of records --------------------------------------------------------------------


async def repeated(record: OutgoingRecord, count: int) -> AsyncIterator[list[OutgoingRecord]]:
    """The same record `count` times, in batches of a few hundred."""
    left = count
    while left > 0:
        batch = min(left, _YIELD_EVERY)
        left -= batch
        yield [record] * batch


def _parsed(
    lines: list[bytes], first: int, file_format: FileFormat
) -> list[OutgoingRecord | RecordError]:
    records: list[OutgoingRecord | RecordError] = []
    for number, line in enumerate(lines, first):
        try:
            record = parse_line(line, number, file_format)
        except RecordError as exc:
            records.append(exc)
            continue
        if record is not None:
            records.append(record)
    return records


async def file_records(
    path: Path, file_format: FileFormat, progress: ProduceProgress
) -> AsyncIterator[list[OutgoingRecord | RecordError]]:
    """A file's records a few hundred at a time, with the bytes of the lines handed over
    counted in `progress` (so a progress bar follows the sending, not the reading ahead)."""
    try:
        progress.total_bytes = path.stat().st_size
        number = 1
        async for lines, done in file_line_batches(path):
            for start in range(0, len(lines), _YIELD_EVERY):
                batch = lines[start : start + _YIELD_EVERY]
                yield _parsed(batch, number, file_format)
                number += len(batch)
                progress.bytes_read += sum(len(line) + 1 for line in batch)
            progress.bytes_read = done
    except OSError as exc:
        raise KafkaToolError(f"cannot read {path}: {exc.strerror or exc}") from None


async def followed_records(
    follower: FileFollower, file_format: FileFormat, progress: ProduceProgress
) -> AsyncIterator[list[OutgoingRecord | RecordError]]:
    """The records of the lines appended to a followed file, as they are written."""
    number = 1
    async for lines in follower.batches():
        progress.bytes_read += sum(len(line) + 1 for line in lines)
        yield _parsed(lines, number, file_format)
        number += len(lines)


async def produce_once(
    connection: Connection, topic: str, record: OutgoingRecord
) -> Acknowledgement:
    """One record sent with a producer of its own (a record produced again from its detail):
    KafkaToolError when the topic is missing or the cluster refuses it."""
    async with RecordProducer(connection) as producer:
        return await producer.send(topic, record)
