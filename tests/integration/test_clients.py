"""Real clients (confluent-kafka, aiokafka, kafka-python, kcat) produce to and consume from
localbroker: exact bytes, compression kept as sent, acks and idempotence, ListOffsets lookups,
fetches from the middle of a batch, long polls woken by appends, and size limits.

Every client is driven through the same small adapters (`produce`, `open_consumer`,
`list_offsets`) so each concern is one test parametrized over clients. Consumers use manual
assignment only: the broker has no group coordinator.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AioPartition
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpPartition
from waiting import wait_until

from localbroker.records.batch import BatchHeader, read_header
from localbroker.records.reader import Record, iter_records
from tui.embedded import EmbeddedBroker

CLIENTS = ("confluent", "aiokafka", "kafka-python", "kcat")
TIMEOUT = 30.0  # bound on any single client operation
LONG_POLL_MS = 30_000  # fetch max wait for long-poll tests: longer than LONG_POLL_DEADLINE
LONG_POLL_DEADLINE = 15.0
MESSAGE_TOO_LARGE = 10
CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
KCAT_RECORD, KCAT_KEY = b"\x1e", b"\x1f"  # kcat -D / -K delimiters
# Manual assignment only (no group coordinator yet): never subscribe, commit or store offsets.
CONFLUENT_CONSUMER = {
    "group.id": "test-clients",
    "enable.auto.commit": False,
    "enable.auto.offset.store": False,
}
PYTHON_CONSUMER: dict[str, Any] = {
    "group_id": None,
    "enable_auto_commit": False,
    "request_timeout_ms": 60_000,  # above LONG_POLL_MS, as both clients require
}


# -- records and options ------------------------------------------------------------------


@dataclass(frozen=True)
class Rec:
    """A record to produce (timestamp None: the client stamps CreateTime) or as consumed."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp: int | None = None
    offset: int = -1


@dataclass(frozen=True)
class Opts:
    compression: str | None = None
    acks: str = "all"  # "0", "1" or "all"
    idempotent: bool = False
    max_request_bytes: int | None = None  # raised on the client so the broker decides
    linger_ms: int = 5


class ProduceFailed(Exception):
    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def base_timestamp() -> int:
    """A CreateTime a minute in the past: inside retention and the broker's timestamp bounds."""
    return now_ms() // 1000 * 1000 - 60_000


def sample_records(t0: int) -> list[Rec]:
    """Keys, values and headers that catch any re-encoding: NULs, non-UTF-8, null vs empty."""
    return [
        Rec(
            b"key\x00\xff\xfe",
            b"\x00\x01 binary \x80\xff\x00",
            (("h", b"1"), ("h", b"2"), ("raw", b"\xfe\xff\x01")),
            t0,
        ),
        Rec(None, b"no key", (), t0 + 1),
        Rec(b"tombstone", None, (("why", b"deleted"),), t0 + 2),
        Rec(b"empty value", b"", (("n", None), ("h", b"x")), t0 + 3),
        Rec(b"", b"empty key", (), t0 + 4),
        Rec("clé".encode(), "café ☕".encode(), (), t0 + 5),
    ]


def expressible(client: str, records: Sequence[Rec]) -> list[Rec]:
    """What `client` can produce: kcat sets no timestamps; kafka-python's send() raises
    TypeError on null header values."""
    if client == "kcat":
        return [replace(r, timestamp=None) for r in records]
    if client == "kafka-python":
        drop = [tuple(h for h in r.headers if h[1] is not None) for r in records]
        return [replace(r, headers=headers) for r, headers in zip(records, drop, strict=True)]
    return list(records)


def compressible_records(count: int) -> list[Rec]:
    return [Rec(b"k%d" % i, (b"compressible \x00\xff payload %d " % i) * 20) for i in range(count)]


# -- producing ----------------------------------------------------------------------------


def _produce_confluent(bootstrap: str, topic: str, records: Sequence[Rec], opts: Opts) -> None:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "acks": opts.acks,
        "linger.ms": opts.linger_ms,
        "compression.type": opts.compression or "none",
        "enable.idempotence": opts.idempotent,
        "message.timeout.ms": int(TIMEOUT * 1000),
    }
    if opts.max_request_bytes:
        config["message.max.bytes"] = opts.max_request_bytes
    producer = Producer(config)
    errors: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            errors.append(error)

    for r in records:
        headers, timestamp = list(r.headers) or None, r.timestamp or 0
        producer.produce(
            topic, r.value, r.key, 0, on_delivery=delivered, timestamp=timestamp, headers=headers
        )
    assert producer.flush(TIMEOUT + 5) == 0, "confluent producer did not deliver in time"
    if errors:
        raise ProduceFailed(errors[0].str(), errors[0].code())


def _python_config(bootstrap: str, opts: Opts) -> dict[str, Any]:
    """aiokafka and kafka-python take the same producer settings."""
    return {
        "bootstrap_servers": bootstrap,
        "acks": "all" if opts.acks == "all" else int(opts.acks),
        "compression_type": opts.compression,
        "enable_idempotence": opts.idempotent,
        "linger_ms": opts.linger_ms,
        "max_request_size": opts.max_request_bytes or 1048576,
        "request_timeout_ms": int(TIMEOUT * 1000),
    }


async def _produce_aiokafka(bootstrap: str, topic: str, records: Sequence[Rec], opts: Opts) -> None:
    producer = AIOKafkaProducer(**_python_config(bootstrap, opts))
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic, r.value, r.key, 0, timestamp_ms=r.timestamp, headers=list(r.headers)
            )
            for r in records
        ]
        for future in futures:
            try:
                await future
            except Exception as exc:
                raise ProduceFailed(str(exc), getattr(exc, "errno", None)) from exc
    finally:
        await producer.stop()


def _produce_kafka_python(bootstrap: str, topic: str, records: Sequence[Rec], opts: Opts) -> None:
    producer = KafkaProducer(**_python_config(bootstrap, opts))
    try:
        futures = [
            producer.send(
                topic, r.value, r.key, list(r.headers), partition=0, timestamp_ms=r.timestamp
            )
            for r in records
        ]
        for future in futures:
            try:
                future.get(TIMEOUT)
            except Exception as exc:
                raise ProduceFailed(str(exc), getattr(exc, "errno", None)) from exc
    finally:
        producer.close(timeout=TIMEOUT)


def _produce_kcat(bootstrap: str, topic: str, records: Sequence[Rec], opts: Opts) -> None:
    """kcat -P: records split by -D, keys by -K; one run per distinct header set (-H applies
    to every record of a run); -Z turns an empty value into a null one; a value holding the
    delimiters is sent from a file (a whole file is one record)."""
    base = ["kcat", "-b", bootstrap, "-P", "-t", topic, "-p", "0", "-X", f"acks={opts.acks}"]
    idempotent = "true" if opts.idempotent else "false"
    base += ["-X", f"linger.ms={opts.linger_ms}", "-X", f"enable.idempotence={idempotent}"]
    base += ["-X", f"message.timeout.ms={int(TIMEOUT * 1000)}"]
    if opts.compression:
        base += ["-z", opts.compression]
    if opts.max_request_bytes:
        base += ["-X", f"message.max.bytes={opts.max_request_bytes}"]
    with tempfile.TemporaryDirectory() as scratch:
        runs: list[tuple[list[str | bytes], bytes]] = []
        for r in records:
            assert r.timestamp is None, "kcat cannot set timestamps"
            command: list[str | bytes] = [*base]
            for name, value in r.headers:
                command += ["-H", name.encode() if value is None else name.encode() + b"=" + value]
            raw = (r.key or b"") + (r.value or b"")
            if KCAT_RECORD in raw or KCAT_KEY in raw:
                assert r.key is None and r.value is not None
                path = Path(scratch, f"value{len(runs)}")
                path.write_bytes(r.value)
                runs.append(([*command, str(path)], b""))
                continue
            command += ["-D", "\\x1e", "-K", "\\x1f"]
            if r.value is None:
                assert r.key != b"", "-Z would turn an empty key into a null one"
                command.append("-Z")
            value = r.value or b""
            line = value if r.key is None else r.key + KCAT_KEY + value
            if runs and runs[-1][0] == command:
                runs[-1] = (command, runs[-1][1] + line + KCAT_RECORD)
            else:
                runs.append((command, line + KCAT_RECORD))
        for command, stdin in runs:
            done = subprocess.run(command, input=stdin, capture_output=True, timeout=TIMEOUT)
            if done.returncode != 0 or done.stderr:
                raise ProduceFailed(done.stderr.decode(errors="replace"), None)


def produce(
    client: str, bootstrap: str, topic: str, records: Sequence[Rec], opts: Opts | None = None
) -> None:
    """Produce `records` to partition 0 with `client`; raise ProduceFailed on any error."""
    opts = opts or Opts()
    if client == "aiokafka":
        asyncio.run(asyncio.wait_for(_produce_aiokafka(bootstrap, topic, records, opts), TIMEOUT))
    else:
        {"confluent": _produce_confluent, "kafka-python": _produce_kafka_python}.get(
            client, _produce_kcat
        )(bootstrap, topic, records, opts)


# -- consuming ----------------------------------------------------------------------------


class Reader:
    """A consumer assigned to partition 0; `take` polls until `count` records or `timeout`."""

    def poll(self, seconds: float, most: int) -> list[Rec]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def take(self, count: int, timeout: float = TIMEOUT) -> list[Rec]:
        got: list[Rec] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and (left := deadline - time.monotonic()) > 0:
            got += self.poll(min(left, 0.5), count - len(got))
        return got


def _headers(headers: Sequence[tuple[str, bytes | None]] | None) -> tuple:
    return tuple((str(name), value) for name, value in headers or ())


def _got(r: Any) -> Rec:
    """aiokafka's and kafka-python's ConsumerRecord share these attributes."""
    return Rec(r.key, r.value, _headers(r.headers), r.timestamp, r.offset)


class _ConfluentReader(Reader):
    def __init__(self, bootstrap: str, topic: str, start: int, wait_ms: int) -> None:
        config = {"bootstrap.servers": bootstrap, "fetch.wait.max.ms": wait_ms}
        self.consumer = Consumer({**CONFLUENT_CONSUMER, **config})
        self.consumer.assign([TopicPartition(topic, 0, start)])

    def poll(self, seconds: float, most: int) -> list[Rec]:
        messages = self.consumer.consume(most, seconds)
        assert [m.error() for m in messages] == [None] * len(messages)
        return [
            Rec(m.key(), m.value(), _headers(m.headers()), m.timestamp()[1], m.offset())
            for m in messages
        ]

    def close(self) -> None:
        self.consumer.close()


class _AioReader(Reader):
    """aiokafka on its own loop in a thread, so it keeps fetching while the test produces."""

    def __init__(self, bootstrap: str, topic: str, start: int, wait_ms: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.partition = AioPartition(topic, 0)
        self.consumer: AIOKafkaConsumer | None = None
        try:
            self._run(self._start(bootstrap, start, wait_ms))
        except BaseException:
            self.close()
            raise

    def _run(self, coroutine: Any, timeout: float = TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self, bootstrap: str, start: int, wait_ms: int) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, fetch_max_wait_ms=wait_ms, **PYTHON_CONSUMER
        )
        await self.consumer.start()
        self.consumer.assign([self.partition])
        self.consumer.seek(self.partition, start)

    def poll(self, seconds: float, most: int) -> list[Rec]:
        assert self.consumer is not None
        fetch = self.consumer.getmany(
            self.partition, timeout_ms=int(seconds * 1000), max_records=most
        )
        return [_got(r) for r in self._run(fetch).get(self.partition, [])]

    def close(self) -> None:
        try:
            if self.consumer is not None:
                self._run(self.consumer.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(TIMEOUT)
            self.loop.close()


class _KafkaPythonReader(Reader):
    def __init__(self, bootstrap: str, topic: str, start: int, wait_ms: int) -> None:
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, fetch_max_wait_ms=wait_ms, **PYTHON_CONSUMER
        )
        self.partition = KpPartition(topic, 0)
        self.consumer.assign([self.partition])
        self.consumer.seek(self.partition, start)

    def poll(self, seconds: float, most: int) -> list[Rec]:
        polled = self.consumer.poll(int(seconds * 1000), max_records=most)
        return [_got(r) for r in polled.get(self.partition, [])]

    def close(self) -> None:
        self.consumer.close()


_KCAT_FORMAT = "%o %T %K %S %h\\n%k%s"  # meta line, then the key and value bytes raw


def parse_kcat(data: bytes, position: int = 0, most: int = 2**31) -> tuple[list[Rec], int]:
    """Records fully present in kcat -Z -f _KCAT_FORMAT output; -Z prints NULL for empty and
    null alike, the lengths (-1 for null) tell them apart."""
    got: list[Rec] = []
    while len(got) < most and (newline := data.find(b"\n", position)) >= 0:
        offset, ts, key_len, value_len, headers = data[position:newline].split(b" ", 4)
        cursor, fields = newline + 1, []
        for length in (int(key_len), int(value_len)):
            size = length if length > 0 else 4
            fields.append(data[cursor : cursor + size])
            cursor += size
            if length <= 0 and len(fields[-1]) == 4:
                assert fields[-1] == b"NULL", data[position:cursor]
                fields[-1] = None if length < 0 else b""
        if cursor > len(data):
            break
        pairs = [h.split(b"=", 1) for h in headers.split(b",")] if headers else []
        parsed = tuple((n.decode(), None if v == b"NULL" else v) for n, v in pairs)
        got.append(Rec(fields[0], fields[1], parsed, int(ts), int(offset)))
        position = cursor
    return got, position


class _KcatReader(Reader):
    """kcat -C streaming unbuffered (-u) into a buffer a thread fills; poll() parses it."""

    def __init__(self, bootstrap: str, topic: str, start: int, wait_ms: int) -> None:
        command = ["kcat", "-b", bootstrap, "-C", "-t", topic, "-p", "0", "-o", str(start)]
        command += ["-Z", "-u", "-q", "-f", _KCAT_FORMAT, "-X", f"fetch.wait.max.ms={wait_ms}"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.buffer, self.position, self.lock = bytearray(), 0, threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read1(65536):
            with self.lock:
                self.buffer += chunk

    def poll(self, seconds: float, most: int) -> list[Rec]:
        with self.lock:
            parsed, self.position = parse_kcat(bytes(self.buffer), self.position, most)
        if not parsed:
            time.sleep(min(seconds, 0.05))
        return parsed

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(TIMEOUT)
        self.reader.join(TIMEOUT)


_READERS: dict[str, Callable[[str, str, int, int], Any]] = {
    "confluent": _ConfluentReader,
    "aiokafka": _AioReader,
    "kafka-python": _KafkaPythonReader,
    "kcat": _KcatReader,
}


@contextmanager
def open_consumer(
    client: str, bootstrap: str, topic: str, start: int = 0, wait_ms: int = 500
) -> Iterator[Reader]:
    """A consumer assigned to partition 0 at `start`; always closed."""
    reader = _READERS[client](bootstrap, topic, start, wait_ms)
    try:
        yield reader
    finally:
        reader.close()


def consume(client: str, bootstrap: str, topic: str, count: int, start: int = 0) -> list[Rec]:
    with open_consumer(client, bootstrap, topic, start) as reader:
        return reader.take(count)


# -- the broker's side --------------------------------------------------------------------


def stored(broker: EmbeddedBroker, topic: str) -> bytes:
    """Partition 0's batches up to the high watermark, exactly as the broker keeps them."""

    def read() -> bytes:
        log = broker.state.partition_log(topic, 0)
        return log.read(log.log_start_offset, 64 * 1024 * 1024)

    return broker.call(read)


def stored_batches(broker: EmbeddedBroker, topic: str) -> list[BatchHeader]:
    data, headers, position = stored(broker, topic), [], 0
    while position < len(data):
        headers.append(read_header(data, position))
        position += headers[-1].size
    return headers


def stored_records(broker: EmbeddedBroker, topic: str) -> list[Record]:
    return list(iter_records(stored(broker, topic)))


def wait_for_high_watermark(broker: EmbeddedBroker, topic: str, offset: int) -> None:
    """acks=0 gets no answer: wait (bounded) for the appends to show."""
    wait_until(
        lambda: broker.call(lambda: broker.state.partition_log(topic, 0).high_watermark) >= offset,
        f"{topic}-0 to reach high watermark {offset}",
        TIMEOUT,
    )


def content(records: Sequence[Rec | Record]) -> list[tuple]:
    return [(r.key, r.value, tuple(r.headers)) for r in records]


def assert_consumed(got: Sequence[Rec], expected: Sequence[Rec], before: int, after: int) -> None:
    assert [g.offset for g in got] == list(range(len(expected)))
    assert content(got) == content(expected)
    for g, r in zip(got, expected, strict=True):
        if r.timestamp is not None:
            assert g.timestamp == r.timestamp
        else:
            assert g.timestamp is not None and before <= g.timestamp <= after, (g, before)


# -- 1. exact bytes, across clients -------------------------------------------------------

ROUND_TRIPS = [(p, c) for p in CLIENTS for c in dict.fromkeys([p, "confluent", "aiokafka"])]
ROUND_TRIPS += [("confluent", "kcat"), ("confluent", "kafka-python"), ("kcat", "kafka-python")]


@pytest.mark.parametrize(("producer", "consumer"), ROUND_TRIPS)
def test_records_round_trip_byte_for_byte(broker: EmbeddedBroker, producer: str, consumer: str):
    """What one client writes, another reads back unchanged, at offsets 0..n-1."""
    records = expressible(producer, sample_records(base_timestamp()))
    before = now_ms()
    produce(producer, broker.bootstrap, "exact", records)
    after = now_ms()
    assert content(stored_records(broker, "exact")) == content(records)
    got = consume(consumer, broker.bootstrap, "exact", len(records))
    assert_consumed(got, records, before, after)


# -- 2. compression passthrough -----------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("client", CLIENTS)
def test_compressed_batches_are_stored_as_received(broker: EmbeddedBroker, client: str, codec: str):
    """The broker never recompresses: batches keep the producer's codec on disk."""
    records = compressible_records(20)
    produce(client, broker.bootstrap, "packed", records, Opts(compression=codec, linger_ms=100))
    batches = stored_batches(broker, "packed")
    assert {b.compression for b in batches} == {CODECS[codec]}
    assert sum(b.record_count for b in batches) == len(records)
    assert content(stored_records(broker, "packed")) == content(records)
    got = consume(client, broker.bootstrap, "packed", len(records))
    assert [g.offset for g in got] == list(range(len(records)))
    assert content(got) == content(records)


# -- 3. acks and idempotence --------------------------------------------------------------


@pytest.mark.parametrize("acks", ["0", "1", "all"])
@pytest.mark.parametrize("client", CLIENTS)
def test_every_acks_setting_lands_all_records(broker: EmbeddedBroker, client: str, acks: str):
    """acks=0 (no answer at all), 1 and all append the same records in order."""
    records = [Rec(b"k%d" % i, b"value %d" % i) for i in range(12)]
    produce(client, broker.bootstrap, "acked", records, Opts(acks=acks))
    wait_for_high_watermark(broker, "acked", len(records))
    stored_now = stored_records(broker, "acked")
    assert [r.offset for r in stored_now] == list(range(len(records)))
    assert content(stored_now) == content(records)


@pytest.mark.parametrize("client", CLIENTS)
def test_idempotent_producer_writes_each_record_once(broker: EmbeddedBroker, client: str):
    """InitProducerId gives an id; batches carry it with consecutive sequences, no duplicates."""
    records = [Rec(b"k%d" % i, b"value %d" % i) for i in range(30)]
    produce(client, broker.bootstrap, "idem", records, Opts(idempotent=True, linger_ms=1))
    batches = stored_batches(broker, "idem")
    assert {b.producer_id for b in batches} != {-1} and len({b.producer_id for b in batches}) == 1
    assert [b.base_sequence for b in batches] == [b.base_offset for b in batches]
    stored_now = stored_records(broker, "idem")
    assert [r.offset for r in stored_now] == list(range(len(records)))
    assert content(stored_now) == content(records)


# -- 4. ListOffsets through clients -------------------------------------------------------

# Two batches with out-of-order CreateTimes (offsets of t0+): [0, 30, 10] and [20, 40, 25].
TIMESTAMPS = [0, 30, 10, 20, 40, 25]
# (query, offset, timestamp) relative to t0: the first record with timestamp >= query.
LOOKUPS = [(-1000, 0, 0), (0, 0, 0), (5, 1, 30), (30, 1, 30), (31, 4, 40), (40, 4, 40)]
LOOKUPS += [(41, None, None)]
# The same after DeleteRecords moved the log start offset to 2.
LOOKUPS_FROM_2 = [(0, 2, 10), (15, 3, 20), (31, 4, 40), (41, None, None)]


def produce_timestamped(broker: EmbeddedBroker, topic: str, t0: int) -> None:
    records = [Rec(b"k", b"%d" % i, (), t0 + ts) for i, ts in enumerate(TIMESTAMPS)]
    produce("confluent", broker.bootstrap, topic, records[:3], Opts(linger_ms=1000))
    produce("confluent", broker.bootstrap, topic, records[3:], Opts(linger_ms=1000))
    assert [b.record_count for b in stored_batches(broker, topic)] == [3, 3]


def list_offsets(client: str, bootstrap: str, topic: str, times: list[int]) -> tuple:
    """((earliest, latest), [(offset, timestamp) or the client's 'none' per time])."""
    if client == "confluent":
        consumer = Consumer({**CONFLUENT_CONSUMER, "bootstrap.servers": bootstrap})
        try:
            marks = consumer.get_watermark_offsets(TopicPartition(topic, 0), TIMEOUT)
            found = [
                consumer.offsets_for_times([TopicPartition(topic, 0, t)], TIMEOUT)[0].offset
                for t in times
            ]
            return tuple(marks), found
        finally:
            consumer.close()
    if client == "aiokafka":

        async def run() -> tuple:
            consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **PYTHON_CONSUMER)
            await consumer.start()
            try:
                tp = AioPartition(topic, 0)
                low, high = await consumer.beginning_offsets([tp]), await consumer.end_offsets([tp])
                found = [(await consumer.offsets_for_times({tp: t}))[tp] for t in times]
                return (low[tp], high[tp]), [f and (f.offset, f.timestamp) for f in found]
            finally:
                await consumer.stop()

        return asyncio.run(asyncio.wait_for(run(), TIMEOUT))
    if client == "kafka-python":
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, **PYTHON_CONSUMER)
        try:
            tp, ms = KpPartition(topic, 0), int(TIMEOUT * 1000)
            marks = (consumer.beginning_offsets([tp], ms)[tp], consumer.end_offsets([tp], ms)[tp])
            found = [consumer.offsets_for_times({tp: t}, ms)[tp] for t in times]
            return marks, [f and (f.offset, f.timestamp) for f in found]
        finally:
            consumer.close()

    def kcat_query(timestamp: int) -> int:  # kcat -Q: one run per query (one per partition)
        command = ["kcat", "-b", bootstrap, "-Q", "-t", f"{topic}:0:{timestamp}"]
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=True)
        assert done.stdout.startswith(f"{topic} [0] offset ".encode()), done
        return int(done.stdout.split()[-1])

    return (kcat_query(-2), kcat_query(-1)), [kcat_query(t) for t in times]


def expected_lookups(client: str, t0: int, lookups: list[tuple]) -> list:
    """confluent and kcat report only offsets, -1 for no match; the others (offset, timestamp)
    or None."""
    if client in ("confluent", "kcat"):
        return [-1 if offset is None else offset for _, offset, _ in lookups]
    return [None if offset is None else (offset, t0 + ts) for _, offset, ts in lookups]


@pytest.mark.parametrize("client", CLIENTS)
def test_list_offsets_earliest_latest_and_by_timestamp(broker: EmbeddedBroker, client: str):
    t0 = base_timestamp()
    produce_timestamped(broker, "times", t0)
    marks, found = list_offsets(client, broker.bootstrap, "times", [t0 + q for q, *_ in LOOKUPS])
    assert marks == (0, 6)
    assert found == expected_lookups(client, t0, LOOKUPS)

    broker.call(lambda: broker.state.partition_log("times", 0).delete_records_before(2, now_ms()))
    times = [t0 + q for q, *_ in LOOKUPS_FROM_2]
    marks, found = list_offsets(client, broker.bootstrap, "times", times)
    assert marks == (2, 6)
    assert found == expected_lookups(client, t0, LOOKUPS_FROM_2)


def test_admin_list_offsets_max_timestamp(broker: EmbeddedBroker):
    """ListOffsets v7+ MAX_TIMESTAMP: the record with the largest timestamp, not the last."""
    t0 = base_timestamp()
    produce_timestamped(broker, "times", t0)
    admin, tp = AdminClient({"bootstrap.servers": broker.bootstrap}), TopicPartition("times", 0)
    expected = [
        (OffsetSpec.max_timestamp(), (4, t0 + 40)),
        (OffsetSpec.earliest(), (0, -1)),
        (OffsetSpec.latest(), (6, -1)),
        (OffsetSpec.for_timestamp(t0 + 31), (4, t0 + 40)),
        (OffsetSpec.for_timestamp(t0 + 41), (-1, -1)),
    ]
    for spec, answer in expected:
        result = admin.list_offsets({tp: spec}, request_timeout=TIMEOUT)[tp].result(TIMEOUT)
        assert (result.offset, result.timestamp) == answer, spec


# -- 5. fetch positions: mid-batch starts and long polls ----------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_consuming_from_the_middle_of_a_batch(broker: EmbeddedBroker, client: str):
    """The broker serves the whole batch holding offset 4; the client drops offsets 0-3."""
    records = [Rec(b"k%d" % i, b"value %d" % i) for i in range(10)]
    produce("confluent", broker.bootstrap, "middle", records, Opts(linger_ms=1000))
    assert [b.record_count for b in stored_batches(broker, "middle")] == [10]
    got = consume(client, broker.bootstrap, "middle", 6, start=4)
    assert [g.offset for g in got] == [4, 5, 6, 7, 8, 9]
    assert content(got) == content(records[4:])


def fetch_waiting(broker: EmbeddedBroker, topic: str) -> bool:
    """True while a Fetch long poll is parked on the partition (it listens for appends)."""
    return broker.call(lambda: bool(broker.state.partition_log(topic, 0)._listeners))


@pytest.mark.parametrize("client", CLIENTS)
def test_long_poll_is_woken_by_new_records(broker: EmbeddedBroker, client: str):
    """A consumer waiting at the log end gets new records long before its fetch max wait."""
    first = [Rec(b"k%d" % i, b"old %d" % i) for i in range(3)]
    produce("confluent", broker.bootstrap, "tail", first)
    with open_consumer(client, broker.bootstrap, "tail", 3, wait_ms=LONG_POLL_MS) as reader:
        deadline = time.monotonic() + TIMEOUT
        while not fetch_waiting(broker, "tail"):  # kafka-python only sends fetches in poll()
            assert time.monotonic() < deadline, "the consumer never parked a fetch"
            assert reader.take(1, timeout=0.2) == []
        later = [Rec(b"new", b"new 3"), Rec(None, b"new 4")]
        produce("confluent", broker.bootstrap, "tail", later)
        got = reader.take(2, timeout=LONG_POLL_DEADLINE)
    assert [g.offset for g in got] == [3, 4]
    assert content(got) == content(later)


# -- 6. size limits -----------------------------------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
def test_large_record_round_trips(broker: EmbeddedBroker, client: str):
    """A ~900 KB record fits max.message.bytes and comes back whole (KIP-74 first batch)."""
    value = random.Random(900).randbytes(900_000)  # incompressible, holds every byte value
    produce(client, broker.bootstrap, "large", [Rec(None, value)])
    got = consume(client, broker.bootstrap, "large", 1)
    assert [g.offset for g in got] == [0]
    assert got[0].key is None and got[0].value == value


@pytest.mark.parametrize("client", CLIENTS)
def test_batch_over_max_message_bytes_is_refused(broker: EmbeddedBroker, client: str):
    """The client allows 2 MB, so it is the broker that refuses with MESSAGE_TOO_LARGE."""
    value = random.Random(11).randbytes(1_100_000)  # batch > max.message.bytes=1048588
    with pytest.raises(ProduceFailed) as refused:
        produce(client, broker.bootstrap, "huge", [Rec(None, value)], Opts(max_request_bytes=2**21))
    if client == "kcat":
        assert "Broker: Message size too large" in str(refused.value)
    else:
        assert refused.value.code == MESSAGE_TOO_LARGE, refused.value
    if client == "confluent":
        assert str(refused.value) == "Broker: Message size too large"
    assert broker.call(lambda: broker.state.partition_log("huge", 0).log_end_offset) == 0
