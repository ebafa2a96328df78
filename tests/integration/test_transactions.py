"""Transactions with real clients: confluent-kafka's transactional producer against localbroker,
read back by read_committed and read_uncommitted consumers that must see exactly the
committed records, or every record, in log order; fencing, consume-transform-produce with
offsets committed in the transaction, and a broker killed mid-transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition as AioPartition
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from differential.scenario import Peer
from differential.transactions import (
    add_partitions,
    produce_in,
    readable,
    settled,
    started,
    transactional_batch,
)
from restarts import Launch, create_topic, restart
from transaction_state import read_values, stored_transactions, transaction_log
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import ApiKey, TransactionState
from tui.embedded import EmbeddedBroker

TIMEOUT = 20.0
TOPIC = "txn"
PARTITIONS = 2


def transactional_producer(bootstrap: str, transactional_id: str, **config: Any) -> Producer:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "transactional.id": transactional_id, **config}
    )
    producer.init_transactions(TIMEOUT)
    return producer


def send(producer: Producer, values: list[str], topic: str = TOPIC) -> None:
    """Produce `values` round-robin over the partitions (value i to partition i % 2)."""
    for index, value in enumerate(values):
        producer.produce(topic, value=value.encode(), partition=index % PARTITIONS)
    producer.flush(TIMEOUT)


def read_all(bootstrap: str, isolation: str, topic: str = TOPIC) -> list[str]:
    return read_values(bootstrap, isolation, topic, PARTITIONS)


def in_log_order(values: list[str]) -> list[str]:
    """`values` as `read_all` returns them when `send` wrote them: partition 0's first."""
    return values[0::2] + values[1::2]


@pytest.fixture
def topic(broker: EmbeddedBroker) -> str:
    create_topic(broker.bootstrap, TOPIC, PARTITIONS)
    return TOPIC


@pytest.fixture
def producers(broker: EmbeddedBroker) -> Iterator[list[Producer]]:
    """Producers a test opens; flushed (not left sending) when it ends."""
    opened: list[Producer] = []
    yield opened
    for producer in opened:
        producer.flush(1)


def test_read_committed_sees_commits_only_and_read_uncommitted_sees_all(
    broker: EmbeddedBroker, topic: str, producers: list[Producer]
) -> None:
    """Aborted records sit between committed ones of another transactional producer and a
    plain producer in the same partitions, so a consumer told the wrong aborted ranges (or
    none) reads aborted records, and one stopped at the wrong offset misses committed ones."""
    first = transactional_producer(broker.bootstrap, "first")
    second = transactional_producer(broker.bootstrap, "second")
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    producers.extend([first, second, plain])
    first.begin_transaction()
    second.begin_transaction()
    send(first, ["a0", "a1", "a2", "a3"])
    send(second, ["c0", "c1"])
    send(plain, ["p0", "p1"])
    send(first, ["a4", "a5"])
    first.abort_transaction(TIMEOUT)
    send(second, ["c2", "c3"])
    second.commit_transaction(TIMEOUT)
    first.begin_transaction()
    send(first, ["b0", "b1"])
    first.commit_transaction(TIMEOUT)

    written = ["a0", "a1", "a2", "a3", "c0", "c1", "p0", "p1", "a4", "a5", "c2", "c3", "b0", "b1"]
    assert read_all(broker.bootstrap, "read_uncommitted") == in_log_order(written)
    committed = [v for v in written if not v.startswith("a")]
    assert read_all(broker.bootstrap, "read_committed") == in_log_order(committed)


def test_an_open_transaction_holds_read_committed_consumers_back(
    broker: EmbeddedBroker, topic: str, producers: list[Producer]
) -> None:
    """Records after an open transaction's first one wait for its end (the last stable offset),
    also those of other producers; read_uncommitted consumers see them at once."""
    before = Producer({"bootstrap.servers": broker.bootstrap})
    producer = transactional_producer(broker.bootstrap, "slow")
    producers.extend([before, producer])
    send(before, ["p0", "p1"])
    producer.begin_transaction()
    send(producer, ["t0", "t1"])
    send(before, ["p2", "p3"])
    assert read_all(broker.bootstrap, "read_committed") == ["p0", "p1"]
    assert read_all(broker.bootstrap, "read_uncommitted") == ["p0", "t0", "p2", "p1", "t1", "p3"]
    producer.commit_transaction(TIMEOUT)
    assert read_all(broker.bootstrap, "read_committed") == ["p0", "t0", "p2", "p1", "t1", "p3"]


def test_a_second_producer_fences_the_first(
    broker: EmbeddedBroker, topic: str, producers: list[Producer]
) -> None:
    """The zombie's open transaction is aborted when the new producer initialises, and the
    zombie can neither write nor commit any more."""
    zombie = transactional_producer(broker.bootstrap, "shared")
    producers.append(zombie)
    zombie.begin_transaction()
    send(zombie, ["z0", "z1"])
    successor = transactional_producer(broker.bootstrap, "shared")
    producers.append(successor)
    with pytest.raises(KafkaException) as refused:
        zombie.produce(TOPIC, value=b"z2", partition=0)
        zombie.commit_transaction(TIMEOUT)
    assert refused.value.args[0].fatal() or refused.value.args[0].code() in (
        KafkaError._FENCED,
        KafkaError.PRODUCER_FENCED,
        KafkaError.INVALID_PRODUCER_EPOCH,
    )
    successor.begin_transaction()
    send(successor, ["s0", "s1"])
    successor.commit_transaction(TIMEOUT)
    assert read_all(broker.bootstrap, "read_committed") == ["s0", "s1"]


def _committed_offset_of(bootstrap: str, group: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        (committed,) = consumer.committed([TopicPartition(topic, 0)], timeout=TIMEOUT)
        return int(committed.offset)
    finally:
        consumer.close()


def test_consume_transform_produce_commits_offsets_with_the_output(
    broker: EmbeddedBroker, topic: str, producers: list[Producer]
) -> None:
    """send_offsets_to_transaction: the group's offset moves when the transaction commits, and
    stays where it was when it aborts."""
    create_topic(broker.bootstrap, "in", 1)
    source = Producer({"bootstrap.servers": broker.bootstrap})
    producers.append(source)
    for n in range(6):
        source.produce("in", value=f"in{n}".encode(), partition=0)
    source.flush(TIMEOUT)
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": "pipeline",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    producer = transactional_producer(broker.bootstrap, "pipeline-tx")
    producers.append(producer)
    try:
        consumer.subscribe(["in"])
        consumed: list[Any] = []
        wait_until(
            lambda: (
                consumed.extend(m for m in [consumer.poll(0.2)] if m and not m.error())
                or len(consumed) >= 3
            ),
            "the pipeline's first three input records",
            TIMEOUT,
        )
        for keep, commit in ((3, True), (len(consumed), False)):
            producer.begin_transaction()
            for message in consumed[:keep]:
                producer.produce(TOPIC, value=b"out-" + message.value(), partition=0)
            position = [TopicPartition("in", 0, consumed[keep - 1].offset() + 1)]
            producer.send_offsets_to_transaction(
                position, consumer.consumer_group_metadata(), TIMEOUT
            )
            if commit:
                producer.commit_transaction(TIMEOUT)
                assert _committed_offset_of(broker.bootstrap, "pipeline", "in") == 3
            else:
                producer.abort_transaction(TIMEOUT)
                assert _committed_offset_of(broker.bootstrap, "pipeline", "in") == 3
    finally:
        consumer.close()
    assert read_all(broker.bootstrap, "read_committed") == ["out-in0", "out-in1", "out-in2"]


def _offset_fetch_stable(bootstrap: str, group: str, topic: str) -> Any:
    with RawClient(bootstrap) as client:
        response = client.call(
            ApiKey.OFFSET_FETCH,
            7,
            {
                "group_id": group,
                "topics": [{"name": topic, "partition_indexes": [0]}],
                "require_stable": True,
            },
        )
    return response.topics[0].partitions[0]


def test_offsets_pending_in_a_transaction_are_unstable(
    broker: EmbeddedBroker, topic: str, producers: list[Producer]
) -> None:
    producer = transactional_producer(broker.bootstrap, "offsets-tx")
    producers.append(producer)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "stable"})
    try:
        producer.begin_transaction()
        producer.send_offsets_to_transaction(
            [TopicPartition(TOPIC, 0, 7)], consumer.consumer_group_metadata(), TIMEOUT
        )
        pending = _offset_fetch_stable(broker.bootstrap, "stable", TOPIC)
        assert (pending.error_code, pending.committed_offset) == (
            KafkaError.UNSTABLE_OFFSET_COMMIT,
            -1,
        )
        producer.commit_transaction(TIMEOUT)
        stable = _offset_fetch_stable(broker.bootstrap, "stable", TOPIC)
        assert (stable.error_code, stable.committed_offset) == (0, 7)
    finally:
        consumer.close()


def test_a_transaction_survives_a_broker_killed_in_its_middle(
    launch: Launch, tmp_path: Path
) -> None:
    """kill -9 with a transaction open: after the restart its records are still held back
    from read_committed consumers, and the same producer commits it."""
    broker = launch(tmp_path / "data")
    create_topic(broker.bootstrap, TOPIC, PARTITIONS)
    producer = transactional_producer(broker.bootstrap, "survivor")
    try:
        producer.begin_transaction()
        send(producer, ["t0", "t1"])
        broker.kill()
        broker = restart(launch, broker)
        assert read_all(broker.bootstrap, "read_committed") == []
        assert read_all(broker.bootstrap, "read_uncommitted") == ["t0", "t1"]
        producer.commit_transaction(TIMEOUT)
        assert read_all(broker.bootstrap, "read_committed") == ["t0", "t1"]
    finally:
        producer.flush(1)


def test_a_decided_end_is_finished_after_a_crash(launch: Launch, tmp_path: Path) -> None:
    """A crash after the coordinator stored PrepareCommit and before any marker was written
    (made here by storing the decision by hand while the broker is down): the restarted
    broker writes the markers, so the transaction is committed in every partition."""
    broker = launch(tmp_path / "data")
    create_topic(broker.bootstrap, TOPIC, PARTITIONS)
    producer = transactional_producer(broker.bootstrap, "decided")
    producer.begin_transaction()
    send(producer, ["d0", "d1"])
    broker.kill()
    with transaction_log(broker.data_dir) as stored:
        decided = {m.transactional_id: m for m in stored.replay()}["decided"]
        assert decided.state == TransactionState.ONGOING
        decided.state = TransactionState.PREPARE_COMMIT
        stored.write(decided)
    broker = restart(launch, broker)
    assert read_all(broker.bootstrap, "read_committed") == ["d0", "d1"]
    broker.kill()
    assert stored_transactions(broker.data_dir)["decided"].state == TransactionState.COMPLETE_COMMIT


async def _aiokafka_transactions(bootstrap: str) -> None:
    """aiokafka's transactional producer: a committed transaction with offsets sent along,
    then an aborted one, then a fencing producer on the same id."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(TOPIC, b"k0", partition=0)
            await producer.send_and_wait(TOPIC, b"k1", partition=1)
            await producer.send_offsets_to_transaction({AioPartition(TOPIC, 0): 1}, "aio-group")
        await producer.begin_transaction()
        await producer.send_and_wait(TOPIC, b"x0", partition=0)
        await producer.abort_transaction()
        await producer.begin_transaction()
        await producer.send_and_wait(TOPIC, b"x1", partition=1)
        successor = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio")
        await successor.start()  # fences the first and aborts its open transaction
        try:
            async with successor.transaction():
                await successor.send_and_wait(TOPIC, b"k2", partition=0)
        finally:
            await successor.stop()
    finally:
        await producer.stop()


def test_aiokafka_transactional_producer(broker: EmbeddedBroker, topic: str) -> None:
    asyncio.run(asyncio.wait_for(_aiokafka_transactions(broker.bootstrap), TIMEOUT))
    assert read_all(broker.bootstrap, "read_committed") == ["k0", "k2", "k1"]
    assert read_all(broker.bootstrap, "read_uncommitted") == ["k0", "x0", "k2", "k1", "x1"]
    assert _committed_offset_of(broker.bootstrap, "aio-group", TOPIC) == 1


def test_a_transaction_past_its_timeout_is_aborted(start_broker: Any) -> None:
    """A producer that never ends its transaction does not hold consumers back for longer
    than transaction.timeout.ms: the coordinator aborts it and fences the producer."""
    broker = start_broker({"transaction.abort.timed.out.transaction.cleanup.interval.ms": "100"})
    create_topic(broker.bootstrap, TOPIC, PARTITIONS)
    stuck = transactional_producer(broker.bootstrap, "stuck", **{"transaction.timeout.ms": 1000})
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    try:
        stuck.begin_transaction()
        send(stuck, ["t0"])
        send(plain, ["p0"])
        wait_until(
            lambda: read_all(broker.bootstrap, "read_committed") == ["p0"],
            "the timed-out transaction's abort",
        )
        with pytest.raises(KafkaException):
            stuck.commit_transaction(TIMEOUT)
    finally:
        plain.flush(1)


def test_an_end_that_could_not_be_written_is_finished_later(start_broker: Any) -> None:
    """The log directory goes offline between the decision and the markers: EndTxn is
    answered (the decision is stored, as Kafka answers), the producer waits with
    CONCURRENT_TRANSACTIONS, and once the directory is back the housekeeping writes them."""
    broker = start_broker({"transaction.abort.timed.out.transaction.cleanup.interval.ms": "100"})
    peer = Peer(broker.bootstrap, "offline-")
    try:
        topic, tid, pid, epoch = started(peer)
        add_partitions(peer, 3, tid, pid, epoch, {topic: [0]})
        produce_in(peer, tid, topic, transactional_batch(pid, epoch, 0))
        status = broker.state.logs.status
        end_txn = {"transactional_id": tid, "producer_id": pid, "producer_epoch": epoch}
        broker.call(lambda: _fail_next_marker(broker, topic))
        assert peer.call(ApiKey.END_TXN, 3, {**end_txn, "committed": True})["error_code"] == (
            "none"
        )
        assert peer.call(ApiKey.END_TXN, 3, {**end_txn, "committed": True})["error_code"] == (
            "concurrent_transactions"
        )
        wait_until(lambda: broker.call(status.probe), "the log directory back online")
        wait_until(
            lambda: (
                peer.call(ApiKey.END_TXN, 3, {**end_txn, "committed": True})["error_code"] == "none"
            ),
            "the markers written by the housekeeping",
        )
        assert readable(settled(peer, topic))["last_stable_offset"] == 3
    finally:
        peer.close()


def _fail_next_marker(broker: EmbeddedBroker, topic: str) -> None:
    """Fault injection: the directory fails (as on a full disk) just as the next marker is
    appended, after the coordinator stored its decision; the append itself is the real one."""
    partition_log = broker.state.logs.get(topic, 0)
    assert partition_log is not None
    original = partition_log.append_marker

    def failing(*args: Any, **kwargs: Any) -> Any:
        partition_log.append_marker = original  # type: ignore[method-assign]
        broker.state.logs.status.failed("a simulated full disk", OSError(28, "No space left"))
        return original(*args, **kwargs)

    partition_log.append_marker = failing  # type: ignore[method-assign]
