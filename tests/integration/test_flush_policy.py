"""log.flush.interval.messages=1: nothing is visible or acknowledged before it is fsynced.

Every fsync of the broker goes through `localbroker.files.fsync`. In-process, a gate on it
holds a produced record in the log but not durable: no client may see it, through
ListOffsets, a Fetch's high watermark or a consumer. Out of process, a journal of the fsyncs
(LOCALBROKER_FSYNC_JOURNAL) tells a power-loss simulation what a machine would keep.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from brokers import BrokerProcess
from confluent_kafka import Consumer, TopicPartition
from crash_history import CRASH_BROKER, Workload, check, wait_for_progress
from file_damage import lose_power, sizes_of
from kio.schema.errors import ErrorCode
from restarts import (
    CLIENT_TIMEOUT,
    PRODUCE,
    PRODUCE_VERSION,
    READ_TIMEOUT,
    Launch,
    create_topic,
    fetch_at,
    produce_and_flush,
    produce_raw,
    restart,
)
from waiting import wait_until
from wire import RawClient, request_body

from localbroker.files import FSYNC_JOURNAL_ENV, observe_fsyncs
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records
from tui.embedded import EmbeddedBroker

FLUSH_EVERY_RECORD = {"log.flush.interval.messages": "1"}
TOPIC, PARTITIONS = "powered", 3
SEED = int(os.environ.get("KWB_CRASH_SEED", "12"))
LIST_OFFSETS, LIST_OFFSETS_VERSION, LATEST = 2, 7, -1


class FsyncGate:
    """Holds every fsync of a `.log` file under `directory` while closed."""

    def __init__(self, directory: Path) -> None:
        self.directory = str(directory)
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()

    def __call__(self, fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if path.startswith(self.directory) and path.endswith(".log"):
            if not self.open.is_set():
                self.waiting.set()
            assert self.open.wait(30), "the fsync gate was never opened"


@pytest.fixture
def gate() -> Iterator[Callable[[Path], FsyncGate]]:
    stops: list[Callable[[], None]] = []
    gates: list[FsyncGate] = []

    def install(directory: Path) -> FsyncGate:
        gates.append(gated := FsyncGate(directory))
        stops.append(observe_fsyncs(gated))
        return gated

    try:
        yield install
    finally:
        for gated in gates:
            gated.open.set()
        for stop in stops:
            stop()


def latest(client: RawClient, topic: str) -> int:
    response = client.call(
        LIST_OFFSETS,
        LIST_OFFSETS_VERSION,
        {
            "replica_id": -1,
            "isolation_level": 0,
            "topics": [
                {"name": topic, "partitions": [{"partition_index": 0, "timestamp": LATEST}]}
            ],
        },
    )
    return int(response.topics[0].partitions[0].offset)


def test_an_unflushed_record_is_invisible_until_its_fsync_completes(
    start_broker: Callable[..., EmbeddedBroker], gate: Callable[[Path], FsyncGate]
) -> None:
    broker = start_broker(FLUSH_EVERY_RECORD)
    create_topic(broker.bootstrap, "gated", 1)
    assert produce_and_flush(broker.bootstrap, "gated", [(0, b"durable", None)]) == [
        (0, 0, b"durable")
    ]
    consumer = Consumer(
        {"bootstrap.servers": broker.bootstrap, "group.id": "gated", "fetch.wait.max.ms": 50}
    )
    consumer.assign([TopicPartition("gated", 0, 0)])
    try:
        first = wait_until(lambda: consumer.poll(0.1), "the durable record consumed")
        assert (first.offset(), first.value()) == (0, b"durable")

        held = gate(broker.data_dir / "gated-0")
        held.open.clear()
        answers: list[dict[int, tuple[int, int]]] = []
        with RawClient(broker.bootstrap) as producing:
            batch = build_batch([NewRecord(b"pending")], now_ms=0)
            sender = threading.Thread(
                target=lambda: answers.append(produce_raw(producing, "gated", {0: batch}))
            )
            sender.start()
            try:
                assert held.waiting.wait(CLIENT_TIMEOUT), "the append never reached its fsync"
                with RawClient(broker.bootstrap) as client:
                    assert latest(client, "gated") == 1
                    pending = fetch_at(client, "gated", 0, 1)
                    assert (pending.error_code, pending.high_watermark) == (ErrorCode.none, 1)
                    assert not pending.records
                    durable = fetch_at(client, "gated", 0, 0)
                    assert durable.high_watermark == 1
                    records = iter_records(bytes(durable.records))
                    assert [r.value for r in records] == [b"durable"]
                # What the consumer learnt from its own fetches meanwhile.
                _, high = consumer.get_watermark_offsets(TopicPartition("gated", 0), cached=True)
                assert high == 1
                assert answers == [], "acknowledged before the fsync"
            finally:
                held.open.set()
                sender.join(CLIENT_TIMEOUT)
        assert answers == [{0: (ErrorCode.none, 1)}]
        second = wait_until(lambda: consumer.poll(0.1), "the flushed record consumed")
        assert (second.offset(), second.value()) == (1, b"pending")
        with RawClient(broker.bootstrap) as client:
            assert latest(client, "gated") == 2
    finally:
        consumer.close()


def test_pipelined_produces_share_an_fsync_round_and_are_answered_in_order(
    start_broker: Callable[..., EmbeddedBroker], gate: Callable[[Path], FsyncGate]
) -> None:
    """A client keeps several produce requests in flight on one connection (librdkafka at
    linger.ms=0): while the first waits for its fsync, the ones behind it are appended, so
    they share the next fsync round instead of waiting one round each; the answers still go
    back in request order."""
    broker = start_broker(FLUSH_EVERY_RECORD)
    create_topic(broker.bootstrap, "pipelined", 1)
    held = gate(broker.data_dir / "pipelined-0")
    held.open.clear()
    batches = [build_batch([NewRecord(b"%d" % i)], now_ms=0) for i in range(5)]
    segment = broker.data_dir / "pipelined-0" / "00000000000000000000.log"
    with RawClient(broker.bootstrap) as producing:
        sent = [
            producing.send(
                request_body(
                    PRODUCE,
                    PRODUCE_VERSION,
                    {
                        "acks": -1,
                        "timeout": 5000,
                        "topic_data": [
                            {"name": "pipelined", "partition_data": [{"index": 0, "records": b}]}
                        ],
                    },
                )
            )
            for b in batches
        ]
        try:
            assert held.waiting.wait(CLIENT_TIMEOUT), "the first append never reached its fsync"
            total = sum(len(b) for b in batches)
            wait_until(lambda: segment.stat().st_size == total, "all five appended", 5)
        finally:
            held.open.set()
        answers = [producing.recv(PRODUCE, PRODUCE_VERSION, i) for i in sent]
    partitions = [answer.responses[0].partition_responses[0] for answer in answers]
    assert [(p.error_code, p.base_offset) for p in partitions] == [
        (ErrorCode.none, i) for i in range(5)
    ]


POWER_CYCLES = 4


def test_a_power_loss_keeps_every_acknowledged_record(launch: Launch, tmp_path: Path) -> None:
    """Producers and a committing group work against a broker that fsyncs every record;
    the broker is killed at random points and its files cut back to what its fsyncs made
    durable (LOCALBROKER_FSYNC_JOURNAL records every fsync), as a machine losing power would
    leave them. Everything acknowledged or consumed must be there after each restart."""
    rng = random.Random(SEED)
    journal = tmp_path / "fsyncs"
    data_dir = tmp_path / "data"
    process = launch(
        data_dir, {**CRASH_BROKER, **FLUSH_EVERY_RECORD}, env={FSYNC_JOURNAL_ENV: str(journal)}
    )
    create_topic(process.bootstrap, TOPIC, PARTITIONS, {"segment.bytes": "20000"})
    workload = Workload(process.bootstrap, TOPIC, PARTITIONS).start()
    durable: dict[Path, int] = {}
    dropped = []

    def lose_power_and_restart(process: BrokerProcess) -> BrokerProcess:
        nonlocal durable
        process.kill()
        dropped.append(lose_power(data_dir, journal, durable))
        journal.unlink(missing_ok=True)
        durable = sizes_of(data_dir)
        return restart(launch, process)

    try:
        for _ in range(POWER_CYCLES):
            wait_for_progress(workload.history, rng.randint(50, 400), READ_TIMEOUT, process)
            process = lose_power_and_restart(process)
        wait_for_progress(workload.history, 50, READ_TIMEOUT, process)
    finally:
        unanswered = workload.stop(READ_TIMEOUT)
    assert unanswered == 0
    process = lose_power_and_restart(process)
    found = check(process.bootstrap, TOPIC, PARTITIONS, workload.history)
    assert found == [], f"seed {SEED}, bytes dropped by each power loss {dropped}: {found}"
