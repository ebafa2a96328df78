"""Producing engines for `kwb perf` and the traffic generator: librdkafka, or aiokafka.

aiokafka is pure Python and sends about 100,000 records/s of 100 B here; librdkafka (the
`confluent-kafka` package, in the `speed` extra) builds and sends batches in its own C threads
and reaches several times that, which is what a load test of a consumer needs. So librdkafka
is the engine when it is installed and the connection is one it can make; aiokafka is the
fallback (and what `KWB_PRODUCER_ENGINE=aiokafka` forces).

An engine runs a ProducerLoad into a Stats (producer.py) until the load's count is sent or
`stop` is set, and returns once every record sent is answered. aiokafka's engine runs the send
loop on the caller's event loop. librdkafka's runs it in a thread of its own: librdkafka's
calls release the interpreter lock while they wait, its delivery callbacks run in that thread
when it polls, and the caller's loop (a UI) only reads the Stats, a window a second, so it
stays free to draw and answer keys.

A transactional mode (records per transaction, a share aborted) fits here as an engine with
begin/commit/abort around groups of sends; both libraries have them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from aiokafka.errors import KafkaError as AIOKafkaError

from ..clients import (
    ACKS,
    CODECS,
    CONNECTION_KEYS,
    CONNECTION_PREFIXES,
    PRODUCER_DEFAULTS,
    choice,
    new_producer,
    producer_args,
    start,
)
from ..connection import Connection, SettingsError
from ..errors import KafkaToolError
from .producer import YIELD_EVERY, ProducerLoad, Stats, Tally, ThroughputThrottler, now_ms

EngineName = Literal["librdkafka", "aiokafka"]
ENGINE_VARIABLE = "KWB_PRODUCER_ENGINE"
"""Set to `aiokafka` or `librdkafka` to choose the engine instead of the default."""
POLL_EVERY = 1024
"""Records between two polls for delivery reports when librdkafka's queue has room."""
FULL_QUEUE_WAIT_S = 0.005
HAND_OFF_MS = 100
"""How often librdkafka's engine hands its counts to the Stats (and a UI sees them)."""
LIBRDKAFKA_PROPERTIES = {
    "acks": "acks",
    "compression.type": "compression.type",
    "enable.idempotence": "enable.idempotence",
    "batch.size": "batch.size",
    "linger.ms": "linger.ms",
    "delivery.timeout.ms": "delivery.timeout.ms",
    "request.timeout.ms": "request.timeout.ms",
    "retry.backoff.ms": "retry.backoff.ms",
    "retries": "retries",
    "metadata.max.age.ms": "metadata.max.age.ms",
    "max.request.size": "message.max.bytes",
    "max.in.flight.requests.per.connection": "max.in.flight.requests.per.connection",
    "connections.max.idle.ms": "connections.max.idle.ms",
}
"""Kafka producer properties librdkafka takes (under its name); the others but the
connection's are reported as ignored, as aiokafka's are."""
IGNORED = ("key.serializer", "value.serializer")
LOG = logging.getLogger("kwb.librdkafka")
LOG.addHandler(logging.NullHandler())  # librdkafka's log never reaches a screen by accident


class ProducerEngine(Protocol):
    name: EngineName

    async def run(
        self,
        load: ProducerLoad,
        stats: Stats,
        stop: asyncio.Event | None = None,
        throttler: ThroughputThrottler | None = None,
    ) -> None:
        """Send the load (until `stop`, if it has no count) and wait for every answer."""

    async def close(self) -> None: ...


class AiokafkaEngine:
    """aiokafka's producer, driven by ProducerPerformance's loop on the running event loop."""

    name: EngineName = "aiokafka"

    def __init__(self, producer: Any) -> None:
        self.producer = producer

    async def run(
        self,
        load: ProducerLoad,
        stats: Stats,
        stop: asyncio.Event | None = None,
        throttler: ThroughputThrottler | None = None,
    ) -> None:
        try:
            await self._send_all(
                load, stats, stop, throttler or ThroughputThrottler(load.throughput, now_ms())
            )
            await self.producer.flush()
            await stats.done.wait()
        except AIOKafkaError as exc:
            raise KafkaToolError(f"sending to {load.topic} failed: {exc}") from None

    async def _send_all(
        self,
        load: ProducerLoad,
        stats: Stats,
        stop: asyncio.Event | None,
        throttler: ThroughputThrottler,
    ) -> None:
        """ProducerPerformance's loop: send, register the callback, throttle when ahead;
        yield to the loop now and then so that whatever shares it keeps running."""
        source, key_source = load.streams()
        headers = list(load.headers) or None
        stopped = stop.is_set if stop is not None else lambda: False
        send, topic, completed = self.producer.send, load.topic, stats.completed
        limit, sent = load.num_records, 0
        try:
            while (limit is None or sent < limit) and not stopped():
                payload = next(source)
                send_start = now_ms()
                future = await send(topic, payload, next(key_source), headers=headers)
                future.add_done_callback(functools.partial(completed, send_start, len(payload)))
                if throttler.should_throttle(sent, send_start):
                    await throttler.throttle()
                elif sent % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                sent += 1
        finally:
            stats.expect(sent)

    async def close(self) -> None:
        await self.producer.stop()


class LibrdkafkaEngine:
    """confluent-kafka's Producer, fed from a thread of its own (see the module's docstring).

    Latency is librdkafka's own measure of each message, from produce() to its delivery
    report: ProducerPerformance's send-to-callback time. The delivery callbacks count into a
    Tally that goes to the Stats every HAND_OFF_MS.
    """

    name: EngineName = "librdkafka"

    def __init__(self, config: dict[str, Any]) -> None:
        from confluent_kafka import KafkaException, Producer

        try:
            self.producer = Producer(config)
        except (KafkaException, ValueError, TypeError) as exc:
            raise SettingsError(f"producer properties: {exc}") from None
        self._abandoned = threading.Event()

    async def run(
        self,
        load: ProducerLoad,
        stats: Stats,
        stop: asyncio.Event | None = None,
        throttler: ThroughputThrottler | None = None,
    ) -> None:
        stopped = stop.is_set if stop is not None else lambda: False
        pacer = throttler or ThroughputThrottler(load.throughput, now_ms())
        try:
            sent = await asyncio.to_thread(self.send_all, load, pacer, stats.absorb, stopped)
        except BaseException:
            self._abandoned.set()  # cancelled: the thread stops waiting for answers
            raise
        stats.expect(sent)

    def send_all(
        self,
        load: ProducerLoad,
        throttler: ThroughputThrottler,
        hand: Callable[[Tally], None],
        stopped: Callable[[], bool],
    ) -> int:
        """The send loop, blocking: until the load's count is sent or `stopped()` (asked
        every POLL_EVERY records and after each throttling pause), then until every record is
        answered; what was counted goes to `hand` at least every HAND_OFF_MS while it runs,
        and at the end. A full queue waits for answers, as Kafka's producer blocks in send()
        when its buffer is full. Returns how many records were sent."""
        producer = self.producer
        produce, poll = producer.produce, producer.poll
        source, key_source = load.streams()
        tally = Tally()
        options: dict[str, Any] = {"on_delivery": self._reporter(tally)}
        if load.headers:
            options["headers"] = list(load.headers)
        topic, limit, sent, handed = load.topic, load.num_records, 0, now_ms()
        while limit is None or sent < limit:
            paced = throttler.target >= 0  # a generator's rate may change while it runs
            send_start = now_ms() if paced else 0.0
            payload, key = next(source), next(key_source)
            while True:
                try:
                    produce(topic, payload, key, **options)
                    break
                except BufferError:
                    poll(FULL_QUEUE_WAIT_S)
            if paced and throttler.should_throttle(sent, send_start):
                throttler.throttle_blocking()
            elif sent % POLL_EVERY != 0:
                sent += 1
                continue
            sent += 1
            poll(0)
            if now_ms() - handed >= HAND_OFF_MS:
                hand(tally.take())
                handed = now_ms()
            if not paced:
                throttler.amount = sent  # a retarget then paces from here
            if stopped():
                break
        while producer.flush(HAND_OFF_MS / 1000) > 0 and not self._abandoned.is_set():
            hand(tally.take())
        hand(tally.take())
        return sent

    @staticmethod
    def _reporter(tally: Tally) -> Callable[[Any, Any], None]:
        counted, failed = tally.delivered, tally.failed

        def delivered(error: Any, message: Any) -> None:
            if error is not None:
                failed(f"{error.name()}: {error.str()}")
            else:
                counted(int((message.latency() or 0.0) * 1000), len(message))

        return delivered

    async def close(self) -> None:
        """Drop what is still queued (a run that was cancelled) and let librdkafka go."""
        self._abandoned.set()
        self.producer.purge()
        await asyncio.to_thread(self.producer.flush, HAND_OFF_MS / 1000)


def librdkafka_config(
    connection: Connection, props: Mapping[str, str], client_id: str | None
) -> tuple[dict[str, Any], list[str]]:
    """librdkafka's configuration for a connection and Kafka producer properties, with Kafka's
    defaults where librdkafka's differ (batch.size, idempotence with acks=all, the murmur2
    partitioner rather than librdkafka's CRC32 one), and the
    properties it has no equivalent for. Its log goes to Python logging, never the screen."""
    acks = choice({"acks": "all", **props}, "acks", tuple(ACKS))
    choice({"compression.type": "none", **props}, "compression.type", CODECS)
    config: dict[str, Any] = {
        "batch.size": PRODUCER_DEFAULTS["batch.size"],
        "linger.ms": PRODUCER_DEFAULTS["linger.ms"],
        "enable.idempotence": ACKS[acks] == -1,
        "partitioner": "murmur2_random",  # keyed records go where Java clients put them
    }
    ignored = []
    for name, value in props.items():
        if name in LIBRDKAFKA_PROPERTIES:
            config[LIBRDKAFKA_PROPERTIES[name]] = value
        elif not name.startswith(CONNECTION_PREFIXES) and name not in (*CONNECTION_KEYS, *IGNORED):
            ignored.append(name)
    config.update(librdkafka_connection(connection, client_id))
    return config, sorted(ignored)


def librdkafka_connection(connection: Connection, client_id: str | None) -> dict[str, Any]:
    """librdkafka's settings for reaching the cluster (a producer's or a consumer's): the
    bootstrap servers, security, the client id, and its log into Python logging."""
    config: dict[str, Any] = {
        "bootstrap.servers": connection.bootstrap_servers,
        "security.protocol": connection.security_protocol,
        "logger": LOG,
    }
    if connection.uses_sasl:
        config["sasl.mechanisms"] = connection.sasl_mechanism or "PLAIN"
        config["sasl.username"] = connection.sasl_username
        config["sasl.password"] = connection.sasl_password
    if connection.uses_ssl:
        for name, path in (
            ("ssl.ca.location", connection.ssl_cafile),
            ("ssl.certificate.location", connection.ssl_certfile),
            ("ssl.key.location", connection.ssl_keyfile),
            ("ssl.key.password", connection.ssl_key_password),
        ):
            if path:
                config[name] = path
        config["ssl.endpoint.identification.algorithm"] = (
            "https" if connection.ssl_check_hostname else "none"
        )
    if client_id or connection.client_id:
        config["client.id"] = client_id or connection.client_id
    return config


def librdkafka_installed() -> bool:
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        return False
    return True


def engine_name(wanted: str | None = None) -> EngineName:
    """The engine to use: `wanted` or $KWB_PRODUCER_ENGINE if set, else librdkafka when it is
    installed, else aiokafka."""
    name = wanted or os.environ.get(ENGINE_VARIABLE) or ""
    if name not in ("", "librdkafka", "aiokafka"):
        raise SettingsError(f"{ENGINE_VARIABLE}={name}: choose librdkafka or aiokafka")
    if name == "librdkafka" and not librdkafka_installed():
        raise SettingsError("the librdkafka engine needs confluent-kafka: pip install 'kwb[speed]'")
    if name:
        return name  # type: ignore[return-value]
    return "librdkafka" if librdkafka_installed() else "aiokafka"


async def start_engine(
    connection: Connection,
    props: Mapping[str, str],
    client_id: str | None = None,
    wanted: str | None = None,
    process: bool = False,
) -> tuple[ProducerEngine, list[str]]:
    """A started engine for a connection and producer properties, and the properties it
    ignores; what prevents it is a SettingsError or KafkaToolError saying why. With `process`,
    librdkafka's engine sends from a child process (worker.py), away from a UI's process."""
    if engine_name(wanted) == "librdkafka":
        config, ignored = librdkafka_config(connection, props, client_id)
        if process:
            from .worker import WorkerEngine  # it imports this module

            worker = WorkerEngine(config)
            await worker.start()
            return worker, ignored
        return LibrdkafkaEngine(config), ignored
    producer, ignored = await start_aiokafka_producer(connection, props, client_id)
    return AiokafkaEngine(producer), ignored


async def start_aiokafka_producer(
    connection: Connection,
    props: Mapping[str, str],
    client_id: str | None = None,
    **extra: Any,
) -> tuple[Any, list[str]]:
    """A started aiokafka producer for a connection and producer properties (`extra` are
    aiokafka keywords on top, e.g. a transactional id), and the properties it ignores."""
    kwargs, ignored = producer_args(connection, props)
    named = {"client_id": client_id} if client_id else {}
    return await start(new_producer(kwargs, **named, **extra), connection), ignored
