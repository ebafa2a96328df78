"""`kwb consumer-perf` on librdkafka: ConsumerPerformance's loop over confluent-kafka's Consumer.

The engine when confluent-kafka is installed, as for `kwb perf` (KWB_PRODUCER_ENGINE=aiokafka
forces aiokafka). Measured on one localbroker, one partition, interleaved runs, medians of
5 under load 6: 500,000 records of 100 B, librdkafka 195,000/s and aiokafka 181,000/s;
200,000 of 1 KB, 143,000/s and 77,000/s. librdkafka fetches and decodes in its own threads;
what remains in Python is a Message object per record that confluent-kafka's consume()
builds (about 2 us each), which is why the gain is small at 100 B.

The loop runs in a thread of its own (the caller's event loop shows progress) and keeps
ConsumerPerformance's bookkeeping (consumer.Progress): subscribed in a group, so the join is
timed as Kafka's tool times it, until N messages came or none for the timeout.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ..clients import CONNECTION_KEYS, CONNECTION_PREFIXES
from ..connection import Connection
from ..errors import KafkaToolError, unreachable
from .consumer import ConsumerLoad, Counts, Interval, Progress, Rebalances
from .engine import librdkafka_connection

BATCH = 10_000
"""Messages one consume() may hand over."""
POLL_TIMEOUT_S = 0.1
FETCH_QUEUE_BACKOFF_MS = 10
"""librdkafka's fetch.queue.backoff.ms (1,000 by default since 2.1): how long its fetcher
waits, once queued.min.messages are queued, before fetching again. Java's consumer never
waits so; at the default, one partition of 100 B records was read at 180,000 records/s
here instead of 990,000 (at 10 ms), the fetcher idle most of each second."""
CONSUMER_PROPERTIES = (
    "group.id",
    "auto.offset.reset",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "fetch.min.bytes",
    "fetch.max.bytes",
    "fetch.max.wait.ms",
    "max.partition.fetch.bytes",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "isolation.level",
    "check.crcs",
    "partition.assignment.strategy",
    "group.instance.id",
)
"""Kafka consumer properties librdkafka takes under the same name."""
MOOT = ("key.deserializer", "value.deserializer", "max.poll.records")
"""Consumer properties with nothing to do in librdkafka (it hands over bytes, in batches)."""
_ASSIGNORS = {
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}


def librdkafka_consumer_config(
    connection: Connection, props: Mapping[str, str], client_id: str | None
) -> tuple[dict[str, Any], list[str]]:
    """librdkafka's configuration for a connection and Kafka consumer properties, and the
    properties it has no equivalent for (Java's class names of the assignors mapped to
    librdkafka's names; the deserializers and max.poll.records have none and are moot)."""
    config = {
        "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
        **librdkafka_connection(connection, client_id),
    }
    ignored = []
    for name, value in props.items():
        if name == "partition.assignment.strategy":
            config[name] = ",".join(
                _ASSIGNORS.get(one.strip(), one.strip()) for one in value.split(",")
            )
        elif name in CONSUMER_PROPERTIES:
            config[name] = value
        elif not name.startswith(CONNECTION_PREFIXES) and name not in (*CONNECTION_KEYS, *MOOT):
            ignored.append(name)
    return config, sorted(ignored)


async def consume_with_librdkafka(
    config: dict[str, Any],
    load: ConsumerLoad,
    counts: Counts,
    rebalances: Rebalances,
    on_interval: Callable[[Interval], None] | None = None,
) -> None:
    """Subscribe and consume until the load is read or times out (then `counts.timed_out`);
    the consumer is closed (leaving its group) before this returns, cancelled or not."""
    stop = threading.Event()
    try:
        await asyncio.to_thread(_consume, config, load, counts, rebalances, on_interval, stop)
    finally:
        stop.set()


def _consume(
    config: dict[str, Any],
    load: ConsumerLoad,
    counts: Counts,
    rebalances: Rebalances,
    on_interval: Callable[[Interval], None] | None,
    stop: threading.Event,
) -> None:
    from confluent_kafka import Consumer, KafkaException

    try:
        consumer = Consumer(config)
    except KafkaException as exc:
        raise KafkaToolError(f"cannot start a consumer: {exc.args[0].str()}") from None
    try:
        try:  # as aiokafka's start(): a cluster that does not answer is one line, at once
            consumer.list_topics(load.topic, timeout=load.timeout_ms / 1000)
        except KafkaException as exc:
            raise unreachable(config["bootstrap.servers"], exc.args[0].str()) from None
        consumer.subscribe(
            [load.topic],
            on_assign=lambda _, partitions: rebalances.assigned(partitions),
            on_revoke=lambda _, partitions: rebalances.revoked(partitions),
        )
        progress = Progress(load, counts, rebalances, on_interval)
        consume = consumer.consume
        while progress.wanted() and not stop.is_set():
            messages = consume(BATCH, POLL_TIMEOUT_S)
            progress.add(_sizes(messages))
        counts.timed_out = counts.messages < load.messages
    except KafkaException as exc:
        raise KafkaToolError(f"consuming {load.topic} failed: {exc.args[0].str()}") from None
    finally:
        consumer.close()


def _sizes(messages: list[Any]) -> list[int]:
    """Each message's key and value bytes; a message that is an error stops the run, as an
    exception from Java's poll() does (partition EOFs are not asked for)."""
    for message in messages:
        if (error := message.error()) is not None:
            raise KafkaToolError(f"consuming failed: {error.str()}")
    return [len(message) + len(message.key() or b"") for message in messages]
