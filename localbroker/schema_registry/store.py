"""The registry's store: the compacted `_schemas` topic, written and read back through Kafka.

Confluent's KafkaStore: a single-partition compacted topic (created if missing), a producer
with acks=all, and a reader that replays the topic from the start into the in-memory state
and then follows it. A write returns once the reader has applied the written offset
("wait until the store's reader reached the offset"), so every answer reflects the topic,
and the state survives restarts because the topic does. Start-up writes a NOOP record and
waits for it, as Confluent does to learn the end of the topic. Any Kafka serves: the broker
beside which the registry runs, or another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from .errors import ErrorCode, RegistryError
from .records import SCHEMAS_TOPIC, NoopRecord, Record, decode, encode
from .state import RegistryState

log = logging.getLogger(__name__)

WRITE_TIMEOUT_S = 10.0
"""How long a write may wait for the broker's ack and the reader (Confluent's
kafkastore.timeout.ms is 500 ms; a busy laptop broker deserves more)."""


class KafkaStore:
    def __init__(self, bootstrap: str, state: RegistryState, *, topic: str = SCHEMAS_TOPIC) -> None:
        self.bootstrap = bootstrap
        self.state = state
        self.topic = topic
        self._partition = TopicPartition(topic, 0)
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None
        self._next_offset = 0
        self._applied = asyncio.Condition()

    async def start(self) -> None:
        """Create the topic if missing, replay it, and return once caught up."""
        await self._ensure_topic()
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False
        )
        try:
            await self._producer.start()
            await self._consumer.start()
            self._consumer.assign([self._partition])
            await self._consumer.seek_to_beginning(self._partition)
            self._reader = asyncio.create_task(self._read(), name="schema-registry-reader")
            await self.write([NoopRecord()])
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for client in (self._producer, self._consumer):
            if client is not None:
                with contextlib.suppress(KafkaError):
                    await client.stop()
        self._reader = self._producer = self._consumer = None

    async def _ensure_topic(self) -> None:
        """Confluent's createOrVerifySchemaTopic: one partition, cleanup.policy=compact."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            if self.topic in await admin.list_topics():
                await self._verify_topic(admin)
                return
            log.info("Creating schemas topic %s", self.topic)
            topic = NewTopic(self.topic, 1, 1, topic_configs={"cleanup.policy": "compact"})
            with contextlib.suppress(TopicAlreadyExistsError):
                response = await admin.create_topics([topic])
                for _name, code, *rest in response.topic_errors:
                    if code not in (0, TopicAlreadyExistsError.errno):
                        raise RegistryError(
                            ErrorCode.STORE_ERROR,
                            f"Failed trying to create the schemas topic: error {code} {rest}",
                        )
        finally:
            await admin.close()

    async def _verify_topic(self, admin: AIOKafkaAdminClient) -> None:
        """An existing topic must have one partition (one order of records) and be compacted
        (or retention deletes the schemas); Confluent refuses to start otherwise."""
        (described,) = await admin.describe_topics([self.topic])
        partitions = len(described["partitions"])
        if partitions != 1:
            raise RegistryError(
                ErrorCode.STORE_ERROR,
                f"The schema topic {self.topic} should have only 1 partition but has {partitions}",
            )
        resource = ConfigResource(ConfigResourceType.TOPIC, self.topic, {"cleanup.policy": None})
        (answer,) = await admin.describe_configs([resource])
        entries = answer.to_object()["resources"][0]["config_entries"]
        policy = next(
            (
                entry["config_value"]
                for entry in entries
                if entry["config_names"] == "cleanup.policy"
            ),
            None,
        )
        if policy != "compact":
            raise RegistryError(
                ErrorCode.STORE_ERROR,
                f"The retention policy of the schema topic {self.topic} is incorrect. "
                f"Expected cleanup.policy to be 'compact' but it is {policy}",
            )

    async def _read(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(self._partition, timeout_ms=1000)
            messages = batches.get(self._partition, [])
            for message in messages:
                self._apply(message.key, message.value, message.offset)
            if messages:
                async with self._applied:
                    self._next_offset = messages[-1].offset + 1
                    self._applied.notify_all()

    def _apply(self, key: bytes | None, value: bytes | None, offset: int) -> None:
        """Confluent's reader logs and skips a record it cannot read; so does this one."""
        try:
            record = decode(key, value) if key is not None else None
        except ValueError as exc:
            log.warning("%s offset %d: unreadable record skipped: %s", self.topic, offset, exc)
            return
        if record is not None:
            self.state.apply(record)

    async def write(self, records: Sequence[Record]) -> None:
        """Produce each record (acks=all) and return once the reader has applied them all."""
        if not records:
            return
        assert self._producer is not None
        try:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                for record in records:
                    key, value = encode(record)
                    written = await self._producer.send_and_wait(
                        self.topic, value=value, key=key, partition=0
                    )
                async with self._applied:
                    await self._applied.wait_for(lambda: self._next_offset > written.offset)
        except TimeoutError:
            raise RegistryError(
                ErrorCode.OPERATION_TIMEOUT, "Write to the Kafka store timed out while"
            ) from None
        except KafkaError as exc:
            raise RegistryError(
                ErrorCode.STORE_ERROR, f"Error while writing to the Kafka store: {exc}"
            ) from None
