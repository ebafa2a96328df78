"""Crash safety and restart persistence of localbroker, with `python -m localbroker` processes.

These tests SIGKILL or SIGTERM a real broker process and start a new one on the same data
directory and port, then read back through real clients (confluent-kafka) what survived:
acknowledged records at their acknowledged offsets, topics, topic ids, configs, log start
offsets and segments; torn tails and broken index files are recovered from.
"""

from __future__ import annotations

import struct
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from brokers import BrokerProcess, localbroker_command
from confluent_kafka import KafkaError, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, ResourceType
from restarts import (
    CLIENT_TIMEOUT,
    READ_TIMEOUT,
    Deliveries,
    Launch,
    batch_bounds,
    consumer_for,
    create_topic,
    first_message_at,
    produce_and_flush,
    read_partitions,
    restart,
    segment_files,
    watermarks,
)

from localbroker.log.manager import CLEAN_SHUTDOWN_FILE

# -- 1 and 2: kill -9 while producing ---------------------------------------------------------

KILL_AFTER_ACKED = 2000
KILL_PARTITIONS = 4
MAX_OUTSTANDING = 1000


class BackgroundProducer:
    """Produces uniquely numbered values round-robin from a thread until stopped.

    The thread also serves delivery reports, so `deliveries` follows the broker's answers
    closely while the test decides when to kill or restart the broker.
    """

    def __init__(self, producer: Producer, topic: str, partitions: int) -> None:
        self.producer = producer
        self.topic = topic
        self.partitions = partitions
        self.deliveries = Deliveries()
        self.produced = 0
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="producer", daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if len(self.producer) >= MAX_OUTSTANDING:
                    self.producer.poll(0.002)
                    continue
                try:
                    self.producer.produce(
                        self.topic,
                        value=value_of(self.produced),
                        partition=self.produced % self.partitions,
                        on_delivery=self.deliveries.report,
                    )
                except BufferError:
                    self.producer.poll(0.01)
                    continue
                self.produced += 1
                self.producer.poll(0)
        except BaseException as exc:
            self._failure = exc

    def start(self) -> BackgroundProducer:
        self._thread.start()
        return self

    def wait_acked(self, count: int) -> None:
        deadline = time.monotonic() + READ_TIMEOUT
        while len(self.deliveries.acked) < count:
            assert self._failure is None, f"producer thread failed: {self._failure!r}"
            assert time.monotonic() < deadline, (
                f"only {len(self.deliveries.acked)} of {count} records acknowledged"
            )
            time.sleep(0.001)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(READ_TIMEOUT)
        assert not self._thread.is_alive(), "producer thread did not stop"
        if self._failure is not None:
            raise self._failure


def value_of(number: int) -> bytes:
    return f"{number:08d}".encode()


def kill_while_producing_and_verify(
    launch: Launch, data_dir: Path, acks: str, overrides: Mapping[str, str]
) -> None:
    """Produce numbered values, SIGKILL after enough acks, restart and read everything back."""
    topic = "crash"
    process = launch(data_dir, overrides)
    create_topic(process.bootstrap, topic, KILL_PARTITIONS)
    producer = Producer(
        {
            "bootstrap.servers": process.bootstrap,
            "acks": acks,
            "linger.ms": 2,
            "batch.num.messages": 20,  # many small requests, so the kill lands mid-stream
            "enable.idempotence": False,
            "message.timeout.ms": 20000,
            "retry.backoff.ms": 50,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 200,
        }
    )
    background = BackgroundProducer(producer, topic, KILL_PARTITIONS).start()
    deliveries = background.deliveries
    try:
        background.wait_acked(KILL_AFTER_ACKED)
        failed_before_kill = list(deliveries.failed)
        process.kill()
        time.sleep(0.2)  # the producer keeps going against the dead broker
    finally:
        background.stop()
        # Bounded close: drop whatever the dead broker never answered, then serve the reports.
        producer.purge()
        remaining = producer.flush(CLIENT_TIMEOUT)
    assert failed_before_kill == [], f"delivery failures before the kill: {failed_before_kill}"
    assert remaining == 0, f"{remaining} messages still queued after purge"
    acked = list(deliveries.acked)
    assert len(acked) >= KILL_AFTER_ACKED
    acked_positions = [(p, o) for p, o, _ in acked]
    assert len(set(acked_positions)) == len(acked_positions), "one offset acknowledged twice"

    again = restart(launch, process)
    log = read_partitions(again.bootstrap, topic, KILL_PARTITIONS)

    stored: dict[tuple[int, int], bytes | None] = {}
    for partition, records in log.items():
        offsets = [offset for offset, _ in records]
        assert offsets == list(range(len(offsets))), f"partition {partition} offsets broken"
        for offset, value in records:
            assert value is not None and int(value) % KILL_PARTITIONS == partition, (
                f"{partition}@{offset} holds {value!r}, which was produced to another partition"
            )
            stored[(partition, offset)] = value
    lost = [(p, o, v) for p, o, v in acked if stored.get((p, o)) != v]
    assert lost == [], f"{len(lost)} acknowledged records lost or moved, first: {lost[:5]}"
    values = list(stored.values())
    assert len(set(values)) == len(values), "a produced value was stored twice"
    highs = watermarks(again.bootstrap, topic, KILL_PARTITIONS)
    assert {p: high for p, (_, high) in highs.items()} == {p: len(r) for p, r in log.items()}


@pytest.mark.parametrize("acks", ["1", "all"])
def test_kill_9_while_producing_keeps_every_acknowledged_record(
    launch: Launch, tmp_path: Path, acks: str
) -> None:
    """Acked records live in the page cache before the answer, so they survive SIGKILL."""
    kill_while_producing_and_verify(launch, tmp_path / "data", acks, {})


def test_kill_9_with_fsync_before_ack_keeps_every_acknowledged_record(
    launch: Launch, tmp_path: Path
) -> None:
    """log.flush.interval.messages=1: every produce is fsynced before acks=all is answered."""
    kill_while_producing_and_verify(
        launch, tmp_path / "data", "all", {"log.flush.interval.messages": "1"}
    )


# -- 3: clean restart ------------------------------------------------------------------------

ALPHA_CONFIGS = {"segment.bytes": "1500", "retention.ms": "123456789", "cleanup.policy": "delete"}
BETA_CONFIGS = {"max.message.bytes": "65536", "retention.ms": "86400000"}


def topic_ids(admin: AdminClient, names: list[str]) -> dict[str, str]:
    futures = admin.describe_topics(TopicCollection(names), request_timeout=CLIENT_TIMEOUT)
    return {name: str(future.result(CLIENT_TIMEOUT).topic_id) for name, future in futures.items()}


def topic_overrides(admin: AdminClient, name: str) -> dict[str, str]:
    """The topic's own config overrides (source DYNAMIC_TOPIC_CONFIG) from DescribeConfigs."""
    resource = ConfigResource(ResourceType.TOPIC, name)
    entries = admin.describe_configs([resource], request_timeout=CLIENT_TIMEOUT)[resource].result(
        CLIENT_TIMEOUT
    )
    return {
        entry.name: entry.value
        for entry in entries.values()
        if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    }


def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    metadata = admin.list_topics(timeout=CLIENT_TIMEOUT)
    return {name: len(metadata.topics[name].partitions) for name in names}


def test_clean_restart_keeps_topics_configs_records_and_segments(
    broker_process: BrokerProcess, launch: Launch
) -> None:
    """SIGTERM exits 0 with the clean-shutdown marker; a new process serves the same log."""
    bootstrap = broker_process.bootstrap
    data_dir = broker_process.data_dir
    create_topic(bootstrap, "alpha", 3, ALPHA_CONFIGS)
    create_topic(bootstrap, "beta", 2, BETA_CONFIGS)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    ids_before = topic_ids(admin, ["alpha", "beta"])
    alpha_items = [(p, f"alpha-{p}-{i:04d}".encode(), None) for i in range(60) for p in range(3)]
    beta_items = [(1, f"beta-1-{i:04d}".encode(), None) for i in range(5)]
    produce_and_flush(bootstrap, "alpha", alpha_items)
    produce_and_flush(bootstrap, "beta", beta_items)
    deleted = admin.delete_records([TopicPartition("alpha", 0, 30)], request_timeout=CLIENT_TIMEOUT)
    (future,) = deleted.values()
    assert future.result(CLIENT_TIMEOUT).low_watermark == 30
    assert not (data_dir / CLEAN_SHUTDOWN_FILE).exists()
    segments_before = {
        p: [(path.name, path.stat().st_size) for path in segment_files(data_dir / f"alpha-{p}")]
        for p in range(3)
    }
    assert all(len(segments) >= 3 for segments in segments_before.values()), segments_before
    assert segments_before[0][0][0] != "00000000000000000000.log", "DeleteRecords kept segment 0"

    assert broker_process.terminate() == 0
    assert (data_dir / CLEAN_SHUTDOWN_FILE).exists()

    again = restart(launch, broker_process)
    bootstrap = again.bootstrap
    assert not (data_dir / CLEAN_SHUTDOWN_FILE).exists(), "marker must go while running"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    assert partition_counts(bootstrap, ["alpha", "beta"]) == {"alpha": 3, "beta": 2}
    assert topic_ids(admin, ["alpha", "beta"]) == ids_before
    assert topic_overrides(admin, "alpha") == ALPHA_CONFIGS
    assert topic_overrides(admin, "beta") == BETA_CONFIGS
    segments_after = {
        p: [(path.name, path.stat().st_size) for path in segment_files(data_dir / f"alpha-{p}")]
        for p in range(3)
    }
    assert segments_after == segments_before

    assert watermarks(bootstrap, "alpha", 3) == {0: (30, 60), 1: (0, 60), 2: (0, 60)}
    assert watermarks(bootstrap, "beta", 2) == {0: (0, 0), 1: (0, 5)}
    alpha = read_partitions(bootstrap, "alpha", 3)
    first = {0: 30, 1: 0, 2: 0}
    assert alpha == {
        p: [(i, f"alpha-{p}-{i:04d}".encode()) for i in range(first[p], 60)] for p in range(3)
    }
    beta = read_partitions(bootstrap, "beta", 2)
    assert beta == {0: [], 1: [(i, f"beta-1-{i:04d}".encode()) for i in range(5)]}

    acked = produce_and_flush(bootstrap, "alpha", [(p, b"after", None) for p in range(3)])
    assert sorted(acked) == [(0, 60, b"after"), (1, 60, b"after"), (2, 60, b"after")]
    acked = produce_and_flush(bootstrap, "beta", [(p, b"after", None) for p in range(2)])
    assert sorted(acked) == [(0, 0, b"after"), (1, 5, b"after")]


# -- 4: torn tails and broken indexes --------------------------------------------------------

RECORDS = 40
SMALL_SEGMENTS = {"segment.bytes": "1000", "index.interval.bytes": "150"}


def numbered_items(base_timestamp: int) -> list[tuple[int, bytes, int | None]]:
    """Records 0..39 with values rec-NNN and timestamps one second apart."""
    return [(0, f"rec-{i:03d}".encode(), base_timestamp + i * 1000) for i in range(RECORDS)]


def tear(segment: Path, kind: str) -> None:
    """Append a torn write to the end of a segment file, as a crash mid-append leaves it."""
    data = segment.read_bytes()
    position, size, last_offset = batch_bounds(segment)[-1]
    copy = bytearray(data[position : position + size])
    struct.pack_into(">q", copy, 0, last_offset + 1)  # the next batch, as the broker stamps it
    if kind == "garbage":
        tail = b"torn tail " * 30
    elif kind == "truncated_batch":
        tail = bytes(copy[: size // 2])
    else:  # "bad_crc": a whole batch whose contents no longer match its CRC
        copy[-2] ^= 0xFF
        tail = bytes(copy)
    with open(segment, "ab") as file:
        file.write(tail)


@pytest.mark.parametrize("kind", ["garbage", "truncated_batch", "bad_crc"])
def test_torn_tail_is_truncated_on_restart_after_kill_9(
    launch: Launch, tmp_path: Path, kind: str
) -> None:
    """Recovery cuts the newest segment back to its last whole, valid batch and appends there."""
    topic = "torn"
    process = launch(tmp_path / "data")
    create_topic(process.bootstrap, topic, 1, SMALL_SEGMENTS)
    base_timestamp = int(time.time() * 1000) - 3_600_000
    acked = produce_and_flush(process.bootstrap, topic, numbered_items(base_timestamp))
    assert [offset for _, offset, _ in acked] == list(range(RECORDS))
    process.kill()

    partition_dir = process.data_dir / f"{topic}-0"
    segments = segment_files(partition_dir)
    assert len(segments) >= 3, segments
    newest = segments[-1]
    good_size = newest.stat().st_size
    assert sum(size for _, size, _ in batch_bounds(newest)) == good_size
    tear(newest, kind)
    assert newest.stat().st_size > good_size

    again = restart(launch, process)
    assert newest.stat().st_size == good_size, "the torn tail was not truncated"
    assert read_partitions(again.bootstrap, topic, 1) == {
        0: [(i, f"rec-{i:03d}".encode()) for i in range(RECORDS)]
    }
    assert watermarks(again.bootstrap, topic, 1) == {0: (0, RECORDS)}
    acked = produce_and_flush(again.bootstrap, topic, [(0, b"after-recovery", None)])
    assert acked == [(0, RECORDS, b"after-recovery")]
    consumer = consumer_for(again.bootstrap)
    try:
        message = first_message_at(consumer, topic, RECORDS)
        assert (message.offset(), message.value()) == (RECORDS, b"after-recovery")
    finally:
        consumer.close()
    bounds = batch_bounds(newest)
    assert sum(size for _, size, _ in bounds) == newest.stat().st_size
    assert bounds[-1][2] == RECORDS


def break_indexes(segment: Path, how: str) -> None:
    index = segment.with_suffix(".index")
    time_index = segment.with_suffix(".timeindex")
    assert index.stat().st_size > 0 and time_index.stat().st_size > 0
    if how == "deleted":
        index.unlink()
        time_index.unlink()
    else:  # "corrupt": a torn offset index and a time index that goes backwards
        index.write_bytes(index.read_bytes()[:-3])
        time_index.write_bytes(b"\xff" * 24)


def check_index_files(segment: Path, base_offset: int, base_timestamp: int) -> None:
    """Index files as Kafka defines them: entries strictly increasing, each offset index entry
    (last offset of a batch, its position) and each time index entry true of the segment."""
    batches = {position: last_offset for position, _, last_offset in batch_bounds(segment)}
    data = segment.with_suffix(".index").read_bytes()
    assert data and len(data) % 8 == 0, f"offset index of {len(data)} bytes"
    entries = list(struct.iter_unpack(">ii", data))
    assert entries == sorted(set(entries)), f"offset index not strictly increasing: {entries}"
    for relative, position in entries:
        assert batches.get(position) == base_offset + relative, (
            f"offset index entry ({base_offset + relative}, {position}) is wrong"
        )
    data = segment.with_suffix(".timeindex").read_bytes()
    assert data and len(data) % 12 == 0, f"time index of {len(data)} bytes"
    time_entries = list(struct.iter_unpack(">qi", data))
    assert time_entries == sorted(set(time_entries)), (
        f"time index not strictly increasing: {time_entries}"
    )
    for timestamp, relative in time_entries:
        assert timestamp == base_timestamp + (base_offset + relative) * 1000, (
            f"time index entry ({timestamp}, {base_offset + relative}) is wrong"
        )


@pytest.mark.parametrize("how", ["deleted", "corrupt"])
def test_lost_or_corrupt_indexes_of_an_old_segment_are_rebuilt(
    launch: Launch, tmp_path: Path, how: str
) -> None:
    """Offset and timestamp lookups in a segment whose index files are gone or broken."""
    topic = "indexed"
    process = launch(tmp_path / "data")
    create_topic(process.bootstrap, topic, 1, SMALL_SEGMENTS)
    base_timestamp = int(time.time() * 1000) - 3_600_000
    produce_and_flush(process.bootstrap, topic, numbered_items(base_timestamp))
    assert process.terminate() == 0

    segments = segment_files(process.data_dir / f"{topic}-0")
    assert len(segments) >= 3, segments
    middle = segments[1]
    first, after = int(segments[1].stem), int(segments[2].stem)
    assert after - first >= 3
    break_indexes(middle, how)

    again = restart(launch, process)
    consumer = consumer_for(again.bootstrap)
    try:
        for offset in (first, (first + after) // 2, after - 1, after, RECORDS - 1):
            message = first_message_at(consumer, topic, offset)
            assert (message.offset(), message.value()) == (offset, f"rec-{offset:03d}".encode())
        for offset in (first, (first + after) // 2, after - 1):
            timestamp = base_timestamp + offset * 1000
            for asked in (timestamp, timestamp - 500):
                (found,) = consumer.offsets_for_times(
                    [TopicPartition(topic, 0, asked)], timeout=CLIENT_TIMEOUT
                )
                assert found.error is None
                assert found.offset == offset, f"offsets_for_times({asked}) -> {found.offset}"
    finally:
        consumer.close()
    check_index_files(middle, first, base_timestamp)


def test_recovery_after_kill_9_leaves_valid_index_files(launch: Launch, tmp_path: Path) -> None:
    """Recovery rebuilds the indexes of unflushed segments; the files it writes must be whole
    and stay the same across a later clean restart (which trusts them)."""
    topic = "reindexed"
    process = launch(tmp_path / "data")
    create_topic(process.bootstrap, topic, 1, SMALL_SEGMENTS)
    base_timestamp = int(time.time() * 1000) - 3_600_000
    produce_and_flush(process.bootstrap, topic, numbered_items(base_timestamp))
    process.kill()
    rolled = segment_files(process.data_dir / f"{topic}-0")[:-1]
    assert len(rolled) >= 2, rolled

    again = restart(launch, process)
    for segment in rolled:
        check_index_files(segment, int(segment.stem), base_timestamp)
    sizes = {
        path.name: path.stat().st_size
        for segment in rolled
        for path in (segment.with_suffix(".index"), segment.with_suffix(".timeindex"))
    }
    assert again.terminate() == 0

    third = restart(launch, again)
    assert {
        path.name: path.stat().st_size
        for segment in rolled
        for path in (segment.with_suffix(".index"), segment.with_suffix(".timeindex"))
    } == sizes
    assert read_partitions(third.bootstrap, topic, 1) == {
        0: [(i, f"rec-{i:03d}".encode()) for i in range(RECORDS)]
    }


# -- 5: idempotent producer across a restart -------------------------------------------------

IDEMPOTENT_PARTITIONS = 3
PER_PHASE = 1000


def test_idempotent_producer_survives_broker_restart_without_duplicates(
    broker_process: BrokerProcess, launch: Launch
) -> None:
    """The producer keeps its id and sequences; the restarted broker must accept them as
    continuing (producer state snapshot) and drop resent duplicates, with no fatal error."""
    topic = "idempotent"
    create_topic(broker_process.bootstrap, topic, IDEMPOTENT_PARTITIONS)
    errors: list[KafkaError] = []
    producer = Producer(
        {
            "bootstrap.servers": broker_process.bootstrap,
            "enable.idempotence": True,
            "linger.ms": 5,
            "message.timeout.ms": 60000,
            "retry.backoff.ms": 50,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500,
            "error_cb": errors.append,
        }
    )
    background = BackgroundProducer(producer, topic, IDEMPOTENT_PARTITIONS).start()
    deliveries = background.deliveries
    try:
        background.wait_acked(PER_PHASE)
        # SIGTERM while the producer is mid-stream: requests are in flight or queued.
        assert broker_process.terminate() == 0
        acked_before_restart = len(deliveries.acked)
        again = restart(launch, broker_process)
        background.wait_acked(acked_before_restart + PER_PHASE)
        background.stop()
        remaining = producer.flush(READ_TIMEOUT)
    finally:
        background.stop()
        producer.purge()
        producer.flush(CLIENT_TIMEOUT)
    assert remaining == 0, "producer did not drain after the restart"
    fatal = [error for error in errors if error.fatal()]
    assert fatal == []
    assert deliveries.failed == []
    produced = background.produced
    assert len(deliveries.acked) == produced

    log = read_partitions(again.bootstrap, topic, IDEMPOTENT_PARTITIONS)
    for partition, records in log.items():
        expected = [value_of(n) for n in range(produced) if n % IDEMPOTENT_PARTITIONS == partition]
        values = [value for _, value in records]
        assert len(values) == len(expected), (
            f"partition {partition}: {len(values)} records stored for {len(expected)} produced"
        )
        assert values == expected, f"partition {partition} differs from what was produced"
        assert [offset for offset, _ in records] == list(range(len(expected)))
    stored = {(p, o): v for p, records in log.items() for o, v in records}
    assert all(stored.get((p, o)) == v for p, o, v in deliveries.acked)


# -- 6: one broker per data directory --------------------------------------------------------


def test_second_broker_on_the_same_data_dir_is_refused(broker_process: BrokerProcess) -> None:
    """The data directory's lock keeps a second broker out with a one-line error."""
    data_dir = broker_process.data_dir
    second = subprocess.run(
        localbroker_command(data_dir, 0),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert second.stdout == ""
    assert second.stderr == (
        f"localbroker: {data_dir} is in use by another broker;"
        " stop it or choose another --data-dir\n"
    )
    # The first broker is untouched and still serves.
    assert not (data_dir / CLEAN_SHUTDOWN_FILE).exists()
    create_topic(broker_process.bootstrap, "still-serving", 1)
    assert partition_counts(broker_process.bootstrap, ["still-serving"]) == {"still-serving": 1}
    assert broker_process.terminate() == 0
    assert (data_dir / CLEAN_SHUTDOWN_FILE).exists()
