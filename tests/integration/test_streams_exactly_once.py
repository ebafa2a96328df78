"""Kafka Streams with processing.guarantee=exactly_once_v2 across a crash of the Streams
process, on localbroker and on Apache Kafka.

tests/java's `workbench.RunningCount` writes, for each input record, the running count of its
key and the record's value to an output topic. The test feeds keyed records, lets the
application commit part of the output, freezes its JVM while a transaction is open (records
past the last stable offset of an output partition), kills it with SIGKILL, starts it again and
reads the output read_committed: each key's counts must be 1, 2, ... n with the key's input
values in order, each exactly once. A lost or doubled record, or an aborted one reaching the
consumer, breaks the sequence; the records the killed transaction wrote must still be in the
log (read_uncommitted sees them), or the kill did not test what it is meant to. "Open" is
asked of the broker: the transaction Ongoing (ListTransactions) with output past the LSO.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from java_programs import TEST_TIMEOUT, JavaPrograms
from restarts import create_topic
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import ApiKey, ListOffsetsTimestamp

pytestmark = pytest.mark.timeout(TEST_TIMEOUT)

KEYS = 6
RECORDS = 300
PARTITIONS = 3
DELAY_MS = 15
"""Milliseconds each record takes: about 5 s for the input, so the test catches the
application mid-stream with a transaction open (it commits every second)."""
TIMEOUT = 90.0
"""Seconds for Streams to start (twice on a loaded machine) and process the input."""

INPUT = "streams-eos-input"
OUTPUT = "streams-eos-output"
APPLICATION = "streams-eos-count"
"""Names of their own: the reference broker is shared by the whole session."""


@pytest.fixture(params=["localbroker", "kafka"])
def bootstrap(request: pytest.FixtureRequest) -> str:
    if request.param == "kafka":
        return str(request.getfixturevalue("reference_kafka").bootstrap)
    return str(request.getfixturevalue("broker").bootstrap)


def inputs() -> list[tuple[str, str]]:
    """(key, value) pairs: values numbered in the order they are written."""
    return [(f"key-{i % KEYS}", f"value-{i}") for i in range(RECORDS)]


def feed(bootstrap: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for key, value in inputs():
        producer.produce(topic, key=key.encode(), value=value.encode())
    assert producer.flush(TIMEOUT) == 0


def reader(bootstrap: str, isolation: str) -> Consumer:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "isolation.level": isolation,
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.wait.max.ms": 50,
        }
    )
    consumer.assign([TopicPartition(OUTPUT, p, 0) for p in range(PARTITIONS)])
    return consumer


class Progress:
    """The committed output read so far, while the application runs."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = reader(bootstrap, "read_committed")
        self.count = 0

    def read(self) -> int:
        """Reads what is there now; how many records were read in all."""
        for message in self.consumer.consume(1000, 0.2):
            self.count += message.error() is None
        return self.count


@pytest.fixture
def progress(bootstrap: str) -> Iterator[Progress]:
    create_topic(bootstrap, INPUT, PARTITIONS)
    create_topic(bootstrap, OUTPUT, PARTITIONS)
    seen = Progress(bootstrap)
    try:
        yield seen
    finally:
        seen.consumer.close()


def read_all(bootstrap: str, isolation: str) -> list[tuple[str, str]]:
    """Every (key, value) of the output a fresh consumer of `isolation` reads to the end of
    each partition (the last stable offset for read_committed)."""
    consumer = reader(bootstrap, isolation)
    records: list[tuple[str, str]] = []
    at_end: set[int] = set()

    def all_read() -> bool:
        for message in consumer.consume(1000, 0.2):
            if message.error() is None:
                records.append((message.key().decode(), message.value().decode()))
            else:
                assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                at_end.add(message.partition())
        return len(at_end) == PARTITIONS

    try:
        wait_until(all_read, f"the output read {isolation} to its end", TIMEOUT)
        return records
    finally:
        consumer.close()


def ends(bootstrap: str, isolation: int) -> list[int]:
    """The output partitions' ends for `isolation` (ListOffsets: the last stable offset for
    read_committed, the high watermark for read_uncommitted)."""
    partitions = [
        {"partition_index": p, "current_leader_epoch": -1, "timestamp": ListOffsetsTimestamp.LATEST}
        for p in range(PARTITIONS)
    ]
    request = {
        "replica_id": -1,
        "isolation_level": isolation,
        "topics": [{"name": OUTPUT, "partitions": partitions}],
    }
    with RawClient(bootstrap) as client:
        answer = client.call(ApiKey.LIST_OFFSETS, 5, request)
    return [partition.offset for partition in answer.topics[0].partitions]


def unstable(bootstrap: str) -> bool:
    """An output partition holds records past its last stable offset."""
    return any(
        stable < high for stable, high in zip(ends(bootstrap, 1), ends(bootstrap, 0), strict=True)
    )


def transaction_open(bootstrap: str) -> bool:
    """The application's transaction is Ongoing (no EndTxn yet) and has output in the log. (A
    committed transaction also leaves records past the LSO until its markers are written, but
    a new one cannot add partitions before they are: Ongoing and unstable is the open one.)"""
    request = {"state_filters": ["Ongoing"], "producer_id_filters": [], "duration_filter": -1}
    with RawClient(bootstrap) as client:
        ongoing = client.call(ApiKey.LIST_TRANSACTIONS, 1, request).transaction_states
    return bool(ongoing) and unstable(bootstrap)


def kill_mid_transaction(process: subprocess.Popen[str], bootstrap: str, output: Progress) -> None:
    """SIGKILL once part of the output is committed and a transaction is open: the JVM is
    stopped (SIGSTOP) before looking, so the transaction cannot end between look and kill;
    when none is open it is let go on (SIGCONT) and looked at again."""

    def killed() -> bool:
        assert process.poll() is None, "RunningCount exited"
        if output.read() < RECORDS // 4:
            return False
        os.killpg(process.pid, signal.SIGSTOP)
        if transaction_open(bootstrap):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(TIMEOUT)
            return True
        os.killpg(process.pid, signal.SIGCONT)
        return False

    wait_until(killed, "a committed part of the output and a transaction open", TIMEOUT)


def test_streams_exactly_once_v2_survives_a_killed_application(
    java: JavaPrograms, bootstrap: str, progress: Progress, tmp_path: Path
) -> None:
    feed(bootstrap, INPUT)
    arguments = (APPLICATION, INPUT, OUTPUT, str(tmp_path / "state"), str(DELAY_MS))
    program = "workbench.RunningCount"
    with java.started(program, bootstrap, *arguments, log=tmp_path / "first.log") as first:
        kill_mid_transaction(first, bootstrap, progress)
    with java.started(program, bootstrap, *arguments, log=tmp_path / "second.log"):
        wait_until(lambda: progress.read() >= RECORDS, "the whole output, read_committed", TIMEOUT)
        wait_until(lambda: not unstable(bootstrap), "the last transaction's markers", TIMEOUT)

    per_key: dict[str, list[str]] = defaultdict(list)
    for key, value in read_all(bootstrap, "read_committed"):
        per_key[key].append(value)
    expected: dict[str, list[str]] = defaultdict(list)
    for key, value in inputs():
        expected[key].append(f"{len(expected[key]) + 1} {value}")
    assert per_key == expected
    assert len(read_all(bootstrap, "read_uncommitted")) > RECORDS, "no aborted output records"
