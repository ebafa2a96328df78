"""The client libraries in tests/failover.py's scenario, each a `Client`, and what they saw.

Every client runs the same pair: an idempotent acks=all producer sending numbered records to
partition 0 every SEND_INTERVAL seconds, and a consumer in the group TOPIC-readers (committing
as the library does by default). They report to one `Observed`, which times each record's
sending, acknowledgement and consumption (by its number), so the scenario times a failover
alike whatever the library: confluent-kafka (librdkafka), kafka-python, aiokafka and the Java
client (tests/java's `workbench.Failover`, whose JSON lines are timed as they arrive).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import kafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError as AIOKafkaError
from confluent_kafka import Consumer, KafkaError, Producer
from java_programs import JavaPrograms
from reference_kafka import stop_group
from waiting import wait_until

PARTITION = 0
SEND_INTERVAL = 0.005
"""Seconds between two records: a steady 200 records a second, enough to time a failover to a
few milliseconds without loading a two-core machine."""
DELIVERY_TIMEOUT = 120.0
"""Seconds a producer keeps retrying a record before it reports it failed: longer than any
failover the scenario allows, so a record fails only if the cluster never recovers."""
DRAIN_TIMEOUT = 60.0
"""Seconds for the producer's last records to be acknowledged once it stops."""
CONSUMER_IDLE = 10.0
"""Seconds the consumer goes on reading, once the producer has flushed, without being given a
record: then what it has not read counts as lost (nothing was in flight any more)."""


class Observed:
    """What the clients saw, by record number, reported from their own threads; and when
    they are to stop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        """Set when the producer is to stop, flush and then set `flushed`."""
        self.flushed = threading.Event()
        self.sent_at: list[float] = []
        self.acked_at: dict[int, float] = {}
        self.consumed_at: dict[int, float] = {}
        self.offsets: dict[int, set[int]] = {}
        self.seen_offsets: set[int] = set()
        self.redelivered = 0
        self.delivery_errors: Counter[str] = Counter()
        self.client_errors: Counter[str] = Counter()
        self.consumer_errors: Counter[str] = Counter()
        self.last_record = time.monotonic()

    def errors(self) -> tuple[Counter[str], Counter[str], Counter[str]]:
        return self.delivery_errors, self.client_errors, self.consumer_errors

    def sent(self) -> int:
        """A record is being sent: its number."""
        with self.lock:
            self.sent_at.append(time.monotonic())
            return len(self.sent_at) - 1

    def acked(self, number: int) -> None:
        with self.lock:
            self.acked_at[number] = time.monotonic()

    def consumed(self, number: int, offset: int) -> None:
        with self.lock:
            self.last_record = time.monotonic()
            self.consumed_at.setdefault(number, self.last_record)
            self.offsets.setdefault(number, set()).add(offset)
            if offset in self.seen_offsets:
                self.redelivered += 1
            self.seen_offsets.add(offset)

    def error(self, counter: Counter[str], name: str) -> None:
        """An error `name` counted in one of `errors()`."""
        with self.lock:
            counter[name] += 1

    def consuming(self) -> bool:
        """Whether the consumer should go on: until every acknowledged record is consumed,
        or for CONSUMER_IDLE seconds without a record once the producer flushed (what is
        unread then is lost: nothing was in flight any more)."""
        if not self.flushed.is_set():
            return True
        with self.lock:
            drained = self.acked_at.keys() <= self.consumed_at.keys()
            return not drained and time.monotonic() - self.last_record <= CONSUMER_IDLE

    def first_after(self, seen: dict[int, float], moment: float) -> float | None:
        """Seconds from `moment` until the first record sent after it was seen in `seen`
        (`acked_at` or `consumed_at`), or None."""
        with self.lock:
            later = [number for number, sent in enumerate(self.sent_at) if sent >= moment]
            times = [seen[number] for number in later if number in seen]
        return min(times) - moment if times else None


Client = Callable[[str, str, Observed], list[Callable[[], None]]]
"""A client library in the scenario: given the bootstrap servers, the topic and `Observed`,
the bodies of the threads that run its producer and consumer until `Observed` says to stop;
they close what they open, whatever happens."""


def confluent(bootstrap: str, topic: str, observed: Observed) -> list[Callable[[], None]]:
    """confluent-kafka (librdkafka), whose client-level errors are counted too."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": int(DELIVERY_TIMEOUT * 1000),
            "error_cb": lambda e: observed.error(observed.client_errors, e.name()),
        }
    )
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"{topic}-readers",
            "auto.offset.reset": "earliest",
            "error_cb": lambda e: observed.error(observed.consumer_errors, e.name()),
        }
    )

    def delivered(error: KafkaError | None, message: Any) -> None:
        if error is not None:
            observed.error(observed.delivery_errors, error.name())
        else:
            observed.acked(int(message.value()))

    def produce() -> None:
        try:
            while not observed.stopping.is_set():
                value = str(observed.sent()).encode()
                producer.produce(topic, value, partition=PARTITION, on_delivery=delivered)
                producer.poll(SEND_INTERVAL)
            producer.flush(DRAIN_TIMEOUT)
        finally:
            observed.flushed.set()

    def consume() -> None:
        consumer.subscribe([topic])
        try:
            while observed.consuming():
                message = consumer.poll(0.1)
                if message is None:
                    continue
                if message.error() is not None:
                    observed.error(observed.consumer_errors, message.error().name())
                    continue
                observed.consumed(int(message.value()), message.offset())
        finally:
            consumer.close()

    return [produce, consume]


def kafka_python(bootstrap: str, topic: str, observed: Observed) -> list[Callable[[], None]]:
    """kafka-python (3.x: idempotent, versions negotiated per API)."""
    servers = bootstrap.split(",")

    def failed(error: Exception) -> None:
        observed.error(observed.delivery_errors, type(error).__name__)

    def produce() -> None:
        producer = kafka.KafkaProducer(
            bootstrap_servers=servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            delivery_timeout_ms=int(DELIVERY_TIMEOUT * 1000),
        )
        try:
            while not observed.stopping.is_set():
                number = observed.sent()
                sending = producer.send(topic, str(number).encode(), partition=PARTITION)
                sending.add_callback(lambda _metadata, n=number: observed.acked(n))
                sending.add_errback(failed)
                time.sleep(SEND_INTERVAL)
            producer.flush(DRAIN_TIMEOUT)
        finally:
            observed.flushed.set()
            producer.close(timeout=DRAIN_TIMEOUT)

    def consume() -> None:
        consumer = kafka.KafkaConsumer(
            bootstrap_servers=servers,
            group_id=f"{topic}-readers",
            auto_offset_reset="earliest",
        )
        consumer.subscribe([topic])
        # Metadata before the first join: kafka-python 3.0.12 can otherwise stay "rebalancing"
        # for good, fetching but never committing (group_members.KafkaPythonMember says how).
        consumer.topics()
        try:
            while observed.consuming():
                for records in consumer.poll(timeout_ms=100).values():
                    for record in records:
                        observed.consumed(int(record.value), record.offset)
        finally:
            consumer.close()

    return [produce, consume]


def aiokafka(bootstrap: str, topic: str, observed: Observed) -> list[Callable[[], None]]:
    """aiokafka, each client on an event loop of its own thread."""

    def acknowledged(number: int, sending: asyncio.Future[Any]) -> None:
        if sending.cancelled() or sending.exception() is not None:
            observed.error(observed.delivery_errors, repr(sending.exception()))
        else:
            observed.acked(number)

    async def produce() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        await producer.start()
        try:
            while not observed.stopping.is_set():
                number = observed.sent()
                sending = await producer.send(topic, str(number).encode(), partition=PARTITION)
                sending.add_done_callback(partial(acknowledged, number))
                await asyncio.sleep(SEND_INTERVAL)
            await asyncio.wait_for(producer.flush(), DRAIN_TIMEOUT)
        finally:
            observed.flushed.set()
            await producer.stop()

    async def consume() -> None:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{topic}-readers",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            while observed.consuming():
                try:
                    batches = await consumer.getmany(timeout_ms=100)
                except AIOKafkaError as exc:
                    observed.error(observed.consumer_errors, type(exc).__name__)
                    continue
                for records in batches.values():
                    for record in records:
                        assert record.value is not None
                        observed.consumed(int(record.value), record.offset)
        finally:
            await consumer.stop()

    return [lambda: asyncio.run(produce()), lambda: asyncio.run(consume())]


def java(programs: JavaPrograms) -> Client:
    """The Java client (kafka-clients), as tests/java's `workbench.Failover`: one JVM for the
    producer and the consumer, told on stdin when to stop."""

    def client(bootstrap: str, topic: str, observed: Observed) -> list[Callable[[], None]]:
        def run() -> None:
            with programs.started(
                "workbench.Failover",
                bootstrap,
                topic,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            ) as process:
                orders = threading.Thread(target=order, args=(process,), daemon=True)
                orders.start()
                try:
                    assert process.stdout is not None
                    for line in process.stdout:
                        seen(json.loads(line))
                finally:
                    observed.flushed.set()

        def seen(line: dict[str, Any]) -> None:
            event = line["event"]
            if event == "sent":
                observed.sent()
            elif event == "acked":
                observed.acked(line["number"])
            elif event == "consumed":
                observed.consumed(line["number"], line["offset"])
            elif event == "delivery-error":
                observed.error(observed.delivery_errors, line["error"])
            elif event == "flushed":
                observed.flushed.set()

        def order(process: subprocess.Popen[str]) -> None:
            """ "stop" once the scenario stops; "close" once the consumer is done (or in
            time for the JVM to be stopped if it does not finish)."""
            assert process.stdin is not None
            observed.stopping.wait()
            with contextlib.suppress(OSError):
                process.stdin.write("stop\n")
                process.stdin.flush()
            with contextlib.suppress(AssertionError):  # closed anyway: the test says why
                wait_until(
                    lambda: not observed.consuming(),
                    "the Java consumer done",
                    DRAIN_TIMEOUT + CONSUMER_IDLE,
                )
            with contextlib.suppress(OSError):
                process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(DRAIN_TIMEOUT)
            stop_group(process)

        return [run]

    return client


CLIENTS: dict[str, Client] = {
    "confluent-kafka": confluent,
    "kafka-python": kafka_python,
    "aiokafka": aiokafka,
}
"""The Python clients by name; the Java client needs its programs built (`java`)."""
