"""Where the transaction coordinator keeps its state: `__transaction_state`, in Kafka's record
format, in the partition Kafka's hash of the transactional id picks. Kafka's own
DumpLogSegments decodes it, and a data directory of earlier localbroker versions (a JSON file
of the state) starts and has its state moved into the topic."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brokers import BrokerProcess
from confluent_kafka import Producer
from reference_kafka import KafkaTool
from restarts import Launch, create_topic, restart
from transaction_state import read_values, stored_transactions, transaction_log
from wire import RawClient

from localbroker.groups.records import offsets_partition
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.protocol.names import TRANSACTION_STATE_TOPIC, ApiKey, TransactionState
from localbroker.transactions.store import LEGACY_FILE_NAME
from tui.embedded import EmbeddedBroker

TIMEOUT = 20.0
PARTITIONS = 50
"""transaction.state.log.num.partitions: Kafka's default, kept."""


def commit_one(bootstrap: str, transactional_id: str, topic: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(TIMEOUT)
    producer.begin_transaction()
    producer.produce(topic, value=b"v", partition=0)
    producer.commit_transaction(TIMEOUT)


def test_kafkas_dump_log_decodes_the_transaction_log(
    start_broker: Callable[..., EmbeddedBroker], kafka_tool: KafkaTool, tmp_path: Path
) -> None:
    """Each change of the transaction is one record in the id's partition (Kafka's
    `abs(hashCode) % 50`), which kafka-dump-log.sh --transaction-log-decoder reads as Kafka's
    own: Empty (no partitions: null) after InitProducerId, Ongoing and PrepareCommit with the
    partition, CompleteCommit with none."""
    data_dir = tmp_path / "data"
    broker = start_broker(data_dir=data_dir)
    broker.call(lambda: broker.state.create_topic("out", 1))
    commit_one(broker.bootstrap, "dumped", "out")
    broker.stop()
    partition = offsets_partition("dumped", PARTITIONS)
    assert len(list(data_dir.glob(f"{TRANSACTION_STATE_TOPIC}-*"))) == PARTITIONS
    segments = sorted((data_dir / f"{TRANSACTION_STATE_TOPIC}-{partition}").glob("*.log"))
    dumped = kafka_tool(
        "kafka.tools.DumpLogSegments",
        ["--transaction-log-decoder", "--files", ",".join(map(str, segments))],
    )
    assert dumped.returncode == 0 and "Exception" not in dumped.stderr, dumped.stderr
    decoded = [
        [json.loads(part) for part in line.split(" key: ", 1)[1].split(" payload: ")]
        for line in dumped.stdout.splitlines()
        if line.startswith("| offset:")
    ]
    assert all(key == {"type": "0", "data": {"transactionalId": "dumped"}} for key, _ in decoded)
    values = [value["data"] for _, value in decoded]
    assert [v["transactionStatus"] for v in values] == [0, 1, 2, 4], dumped.stdout  # Kafka's ids
    assert [v["transactionPartitions"] for v in values] == [
        None,
        [{"topic": "out", "partitionIds": [0]}],
        [{"topic": "out", "partitionIds": [0]}],
        [],
    ]
    assert {(v["producerEpoch"], v["transactionTimeoutMs"]) for v in values} == {(0, 60000)}


def killed_with_a_transaction_open(
    launch: Launch, tmp_path: Path, topic: str, transactional_id: str
) -> BrokerProcess:
    """A broker killed (-9) while `transactional_id` has a record in each of the two
    partitions of `topic` (`{topic}-0` and `{topic}-1` as values) and has not ended."""
    broker = launch(tmp_path / "data")
    create_topic(broker.bootstrap, topic, 2)
    producer = Producer(
        {"bootstrap.servers": broker.bootstrap, "transactional.id": transactional_id}
    )
    producer.init_transactions(TIMEOUT)
    producer.begin_transaction()
    for partition in (0, 1):
        producer.produce(topic, value=f"{topic}-{partition}".encode(), partition=partition)
    producer.flush(TIMEOUT)
    broker.kill()
    return broker


def describe(bootstrap: str, transactional_id: str) -> Any:
    with RawClient(bootstrap) as client:
        response = client.call(
            ApiKey.DESCRIBE_TRANSACTIONS, 0, {"transactional_ids": [transactional_id]}
        )
    return response.transaction_states[0]


def test_a_data_dir_with_the_json_state_starts_and_moves_it_to_the_topic(
    launch: Launch, tmp_path: Path
) -> None:
    """A data directory written by earlier localbroker versions: the JSON file is read once,
    its state written to `__transaction_state` and the file removed; the state (here a
    commit decided before a crash, so the restart finishes it) survives later restarts."""
    broker = killed_with_a_transaction_open(launch, tmp_path, "legacy-out", "legacy")
    # What the earlier version's file held at this moment, had it decided to commit:
    ongoing = stored_transactions(broker.data_dir)["legacy"]
    for directory in broker.data_dir.glob(f"{TRANSACTION_STATE_TOPIC}-*"):
        for segment in directory.iterdir():
            segment.unlink()  # the earlier version had no records here
    legacy = {
        "transactional_id": "legacy",
        "producer_id": ongoing.producer_id,
        "producer_epoch": ongoing.producer_epoch,
        "last_producer_epoch": -1,
        "previous_producer_id": -1,
        "timeout_ms": ongoing.timeout_ms,
        "state": "PrepareCommit",
        "partitions": [["legacy-out", 0], ["legacy-out", 1]],
        "offsets": {},
        "start_ms": ongoing.start_ms,
        "last_update_ms": ongoing.last_update_ms,
    }
    legacy_file = broker.data_dir / LEGACY_FILE_NAME
    legacy_file.write_text(json.dumps({"version": 1, "transactions": [legacy]}))
    broker = restart(launch, broker)
    assert not legacy_file.exists()
    assert describe(broker.bootstrap, "legacy").transaction_state == "CompleteCommit"
    broker.kill()
    broker = restart(launch, broker)
    described = describe(broker.bootstrap, "legacy")
    assert (described.transaction_state, described.producer_id) == (
        "CompleteCommit",
        ongoing.producer_id,
    )
    assert stored_transactions(broker.data_dir)["legacy"].state == TransactionState.COMPLETE_COMMIT


def test_aborted_transactions_are_indexed_and_survive_a_restart(
    start_broker: Callable[..., EmbeddedBroker], kafka_tool: KafkaTool, tmp_path: Path
) -> None:
    """An abort is written to the segment's .txnindex, and the open transaction to the
    producer state snapshot, which kafka-dump-log.sh reads as Kafka's; after a clean restart
    (the broker then reads the indexes and the snapshot, not the batches) read_committed
    consumers still skip the aborted records and stop at the transaction left open."""
    data_dir = tmp_path / "data"
    broker = start_broker(data_dir=data_dir)
    broker.call(lambda: broker.state.create_topic("aborts", 1))
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "aborter"})
    producer.init_transactions(TIMEOUT)
    for values, commit in ((["c0"], True), (["a0", "a1"], False), (["c1"], True), (["o0"], None)):
        producer.begin_transaction()
        for value in values:
            producer.produce("aborts", value=value.encode(), partition=0)
        producer.flush(TIMEOUT)
        if commit is not None:
            (producer.commit_transaction if commit else producer.abort_transaction)(TIMEOUT)
    broker.stop()
    # c0 at 0, its marker at 1; a0, a1 at 2-3, the ABORT marker at 4; c1 at 5, marker at 6
    [index] = (data_dir / "aborts-0").glob("*.txnindex")
    dumped = kafka_tool("kafka.tools.DumpLogSegments", ["--files", str(index)])
    assert dumped.returncode == 0 and "Exception" not in dumped.stderr, dumped.stderr
    entries = [line for line in dumped.stdout.splitlines() if "producerId" in line]
    assert len(entries) == 1, dumped.stdout
    assert all(f" {field}" in entries[0] for field in ("firstOffset: 2", "lastOffset: 4")), entries
    assert "lastStableOffset: 5" in entries[0] and "version: 0" in entries[0], entries
    # o0 at 7, left open: the snapshot of the clean stop (at the log end, 8) says so
    snapshot = data_dir / "aborts-0" / "00000000000000000008.snapshot"
    dumped = kafka_tool("kafka.tools.DumpLogSegments", ["--files", str(snapshot)])
    assert "currentTxnFirstOffset: OptionalLong[7]" in dumped.stdout, dumped.stdout + dumped.stderr

    broker = start_broker(data_dir=data_dir)
    assert read_values(broker.bootstrap, "read_committed", "aborts", 1) == ["c0", "c1"]
    uncommitted = read_values(broker.bootstrap, "read_uncommitted", "aborts", 1)
    assert uncommitted == ["c0", "a0", "a1", "c1", "o0"]


def test_a_commit_killed_between_its_markers_ends_committed_everywhere(
    launch: Launch, tmp_path: Path
) -> None:
    """kill -9 after PrepareCommit was stored and the COMMIT marker reached one partition of
    two (both made by hand while the broker is down): the restart writes the missing marker,
    so read_committed consumers see the whole transaction, never half of it."""
    broker = killed_with_a_transaction_open(launch, tmp_path, "halves", "halves")
    with transaction_log(broker.data_dir) as stored:
        decided = {m.transactional_id: m for m in stored.replay()}["halves"]
        decided.state = TransactionState.PREPARE_COMMIT
        stored.write(decided)
    first = PartitionLog(
        broker.data_dir / "halves-0", "halves", 0, LogConfig(), clean_shutdown=False
    )
    first.append_marker(decided.producer_id, decided.producer_epoch, True, decided.start_ms)
    first.close()
    broker = restart(launch, broker)
    assert read_values(broker.bootstrap, "read_committed", "halves", 2) == ["halves-0", "halves-1"]
    broker.kill()
    assert stored_transactions(broker.data_dir)["halves"].state == TransactionState.COMPLETE_COMMIT
