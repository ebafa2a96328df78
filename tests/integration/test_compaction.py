"""Log compaction with real clients, beside Apache Kafka's log cleaner.

The same writes go to localbroker and to the reference Kafka: one batch per segment (Kafka
rolls on segment.ms by record timestamps, localbroker on a tiny segment.bytes), keys written
again and again, a tombstone, an aborted transaction. Once both cleaners ran, a consumer
reads both logs from the start, and they must hold the same records at the same offsets
(what a compacted log must hold: the latest record of each key below the active segment,
everything in it); Kafka's DumpLogSegments must read localbroker's cleaned segments and see
the same batches as in Kafka's own. A keyless record is refused with Kafka's error.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from reference_kafka import KafkaTool, ReferenceKafka
from restarts import Launch
from waiting import wait_until

from tui.embedded import EmbeddedBroker

Record = tuple[int, bytes | None, bytes | None]
TIMEOUT = 60.0
"""Seconds: Kafka's cleaner looks for work every log.cleaner.backoff.ms (15 s by default, 0.5 s
on the tests' Kafka: tests/reference_kafka.py)."""
KEYS = 4
ROUNDS = 6


def create(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic].result(timeout=30)


def write(bootstrap: str, topic: str) -> None:
    """One batch per message (flushed one by one), timestamps a second apart, so Kafka's
    segment.ms rolls at every batch (it compares record timestamps); a tombstone; an aborted
    transaction."""
    start = int(time.time() * 1000) - 3_600_000
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    stamp = iter(range(start, start + 10_000_000, 1000))
    writes = [(b"gone", b"x")]
    writes += [(b"k%d" % k, b"v%d-%d" % (i, k)) for i in range(ROUNDS) for k in range(KEYS)]
    writes += [(b"gone", None)]  # a tombstone
    for key, value in writes:
        producer.produce(topic, value, key, timestamp=next(stamp))
        producer.flush(10)
    txn = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": f"compaction-{uuid.uuid4()}"}
    )
    txn.init_transactions(30)
    txn.begin_transaction()
    txn.produce(topic, b"aborted", b"k0", timestamp=next(stamp))
    txn.flush(10)
    txn.abort_transaction(30)
    # Kafka writes the ABORT marker after answering EndTxn: wait for it, so that the next
    # records get the same offsets on both brokers.
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-probe"})
    try:
        wait_until(
            lambda: probe.get_watermark_offsets(TopicPartition(topic, 0), 10)[1] == len(writes) + 2,
            "the ABORT marker is written",
        )
    finally:
        probe.close()
    # The last round, after the marker (stamped with the broker's clock): the active
    # segment holds the last of them.
    stamp = iter(range(int(time.time() * 1000) + 1000, 2**62, 1000))
    for k in range(KEYS):
        producer.produce(topic, b"last-%d" % k, b"k%d" % k, timestamp=next(stamp))
        producer.flush(10)


def read(bootstrap: str, topic: str) -> list[Record]:
    """Every record of the topic's partition: until the one before its log end offset (the
    logs here end with a data record, which compaction keeps), or three idle polls. A read
    that has the last record ends there, not after seconds of silence."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"compaction-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_uncommitted",
        }
    )
    try:
        consumer.subscribe([topic])
        end = consumer.get_watermark_offsets(TopicPartition(topic, 0), 10)[1]
        records: list[Record] = []
        idle = 0
        while idle < 3 and not (records and records[-1][0] >= end - 1):
            message = consumer.poll(1.0)
            if message is None:
                idle += 1
                continue
            assert message.error() is None, message.error()  # no CORRUPT_MESSAGE in a gap
            records.append((message.offset(), message.key(), message.value()))
        return records
    finally:
        consumer.close()


def compacted(records: list[Record]) -> bool:
    """Whether no key repeats below the last (active) segment's batch, nor any aborted record
    is left: the state both cleaners reach."""
    below = records[:-1]
    keys = [key for _, key, _ in below]
    return len(keys) == len(set(keys)) and all(v != b"aborted" for _, _, v in records)


TOPIC_CONFIGS = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01"}


@pytest.fixture
def localbroker(start_broker: Callable[..., EmbeddedBroker], tmp_path: Path) -> EmbeddedBroker:
    return start_broker({"log.cleaner.backoff.ms": "50"}, tmp_path / "local")


def test_compacted_logs_match_apache_kafkas(
    localbroker: EmbeddedBroker,
    reference_kafka: ReferenceKafka,
    kafka_tool: KafkaTool,
    tmp_path: Path,
) -> None:
    topic = f"compacted-{uuid.uuid4().hex[:8]}"
    create(localbroker.bootstrap, topic, {**TOPIC_CONFIGS, "segment.bytes": "14"})
    create(reference_kafka.bootstrap, topic, {**TOPIC_CONFIGS, "segment.ms": "100"})
    write(localbroker.bootstrap, topic)
    write(reference_kafka.bootstrap, topic)
    theirs = wait_until(
        lambda: (r := read(reference_kafka.bootstrap, topic)) and compacted(r) and r,
        "Apache Kafka's cleaner compacts the topic",
        TIMEOUT,
    )
    ours = wait_until(
        lambda: (r := read(localbroker.bootstrap, topic)) and compacted(r) and r,
        "localbroker's cleaner compacts the topic",
        TIMEOUT,
    )
    assert ours == theirs, (ours, theirs)
    assert (ROUNDS * KEYS + 1, b"gone", None) in ours  # kept for delete.retention.ms
    assert [offset for offset, _, _ in ours] != list(range(len(ours)))  # gaps, no renumbering

    def batches(directory: Path) -> list[str]:
        """The dump's batches and records; producer ids named by first appearance (each
        broker numbers its own, and the session's Kafka has served other tests)."""
        files = sorted(str(p) for p in directory.glob("*.log"))
        done = kafka_tool("kafka-dump-log", ["--files", ",".join(files), "--print-data-log"])
        assert done.returncode == 0, done.stderr
        assert "isvalid: false" not in done.stdout
        names: dict[str, str] = {}

        def named(match: re.Match[str]) -> str:
            return f"producerId: {names.setdefault(match[1], f'<pid {len(names)}>')}"

        return [
            re.sub(
                r"producerId: (\d+)",
                named,
                re.sub(r" (deleteHorizonMs|position|CreateTime|size|crc): \S+", "", line),
            )
            for line in done.stdout.splitlines()
            if line.startswith(("baseOffset", "| offset"))
        ]

    kafka_dir = next((reference_kafka.directory / "logs").glob(f"{topic}-0"))
    dumped = batches(tmp_path / "local" / f"{topic}-0")
    assert dumped == batches(kafka_dir)
    assert "count: 0" in " ".join(dumped)  # an emptied batch kept (the round's last)


def test_a_record_without_a_key_is_refused_as_kafka_refuses_it(
    localbroker: EmbeddedBroker, reference_kafka: ReferenceKafka
) -> None:
    topic = f"keyed-{uuid.uuid4().hex[:8]}"
    errors = []
    for bootstrap in (localbroker.bootstrap, reference_kafka.bootstrap):
        create(bootstrap, topic, TOPIC_CONFIGS)
        producer = Producer({"bootstrap.servers": bootstrap, "retries": 0})
        reports: list[KafkaError | None] = []
        producer.produce(topic, b"no key", on_delivery=lambda err, _msg, r=reports: r.append(err))
        producer.flush(10)
        assert len(reports) == 1 and reports[0] is not None
        errors.append((reports[0].code(), reports[0].str()))
    assert errors[0] == errors[1]
    assert errors[0][0] == KafkaError.INVALID_RECORD


def test_a_broker_killed_while_it_cleans_restarts_with_a_consistent_log(
    launch: Launch, tmp_path: Path
) -> None:
    """SIGKILL while the cleaner swaps segments in and out (a round every 10 ms over small
    segments); each step of a swap is covered one by one in the unit tests."""
    data = tmp_path / "data"
    broker = launch(data, {"log.cleaner.backoff.ms": "10"})
    topic = "killed-while-cleaning"
    create(broker.bootstrap, topic, {**TOPIC_CONFIGS, "segment.bytes": "2000"})
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1})
    latest: dict[bytes, bytes] = {}
    for i in range(400):
        key, value = b"k%d" % (i % 20), b"v%d" % i
        producer.produce(topic, value, key)
        latest[key] = value
        if i % 20 == 19:
            producer.flush(10)
    wait_until(
        lambda: (
            topic in (data / "cleaner-offset-checkpoint").read_text()
            if (data / "cleaner-offset-checkpoint").exists()
            else False
        ),
        "a cleaning round",
    )
    for i in range(400, 600):  # the cleaner keeps working while the records arrive
        key, value = b"k%d" % (i % 20), b"v%d" % i
        producer.produce(topic, value, key)
        latest[key] = value
    producer.flush(10)
    broker.kill()
    restarted = launch(data, log_path=tmp_path / "restarted.log")
    records = read(restarted.bootstrap, topic)
    offsets = [offset for offset, _, _ in records]
    assert offsets == sorted(set(offsets)) and offsets[-1] == 599
    assert {key: value for _, key, value in records} == latest
    leftovers = [p.name for p in (data / f"{topic}-0").iterdir()]
    assert not [n for n in leftovers if n.endswith((".cleaned", ".swap", ".deleted"))]
    assert "CORRUPT_MESSAGE" not in restarted.log_text()  # compacted offsets are no damage
