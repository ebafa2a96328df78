"""`kwb transactions` (kafka-transactions.sh) and Apache Kafka's own TransactionsCommand, run
with the same arguments against the same localbroker holding an open transaction, print the
same: tables exactly (a transaction's duration, which moves between the two runs, aside) and
failures word for word. (A partition that does not exist is left out: Kafka's admin retries
it for a minute before failing, where kwb says so at once.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from subprocess import CompletedProcess
from typing import Any

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from reference_kafka import KafkaTool, ReferenceKafka

from tui.embedded import EmbeddedBroker

TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand"
TOPIC = "payments"


@pytest.fixture
def open_transaction(broker: EmbeddedBroker) -> Iterator[Producer]:
    """A transaction of producer `payer` left open on partitions 0 and 1 of TOPIC."""
    broker.call(lambda: broker.state.create_topic(TOPIC, 2))
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "payer"})
    producer.init_transactions(15)
    producer.begin_transaction()
    for partition in (0, 1, 1):
        producer.produce(TOPIC, b"v", partition=partition)
    assert producer.flush(15) == 0
    yield producer
    with contextlib.suppress(KafkaException):  # abort may have ended it (or timed out)
        producer.abort_transaction(15)


def without_duration(text: str) -> str:
    """describe's TransactionDurationMs (now minus the start) as DURATION."""
    lines = text.split("\n")
    if len(lines) > 1 and lines[0].startswith("CoordinatorId"):
        cells = lines[1].split("\t")
        cells[7] = "DURATION".ljust(len(cells[7]))
        lines[1] = "\t".join(cells)
    return "\n".join(lines)


def side_by_side(
    kwb: Any, kafka_tool: KafkaTool, bootstrap: list[str], commands: list[list[str]]
) -> dict[str, str]:
    """Each command with kwb and with Kafka's tool: the same exit code, stdout and stderr.
    Returns what kwb printed, by command line."""
    seen: dict[str, str] = {}
    for command in commands:
        mine: CompletedProcess[str] = kwb("transactions", *bootstrap, *command)
        kafka: CompletedProcess[str] = kafka_tool(TRANSACTIONS, [*bootstrap, *command])
        assert mine.returncode == kafka.returncode, (command, mine.stderr, kafka.stderr)
        assert without_duration(mine.stdout) == without_duration(kafka.stdout), command
        assert mine.stderr == kafka.stderr, command
        seen[" ".join(command)] = mine.stdout or mine.stderr
    return seen


def test_kwb_prints_what_kafkas_transactions_command_prints(
    broker: EmbeddedBroker, open_transaction: Producer, kwb: Any, kafka_tool: KafkaTool
) -> None:
    b = ["--bootstrap-server", broker.bootstrap]
    commands = [
        ["list"],
        ["list", "--duration-filter", "3600000"],
        ["describe", "--transactional-id", "payer"],
        ["describe", "--transactional-id", "nobody"],
        ["describe-producers", "--topic", TOPIC, "--partition", "1"],
        ["find-hanging", "--topic", TOPIC, "--max-transaction-timeout", "0"],
        ["find-hanging", "--broker-id", "0"],
        ["find-hanging", "--partition", "0"],
        ["abort", "--topic", TOPIC, "--partition", "0"],
        ["abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "5"],
    ]
    seen = side_by_side(kwb, kafka_tool, b, commands)
    listed = seen["list"].splitlines()
    assert listed[1].split("\t")[0].strip() == "payer" and "Ongoing" in listed[1]
    described = seen["describe --transactional-id payer"]
    assert f"{TOPIC}-0,{TOPIC}-1" in described
    producers = seen[f"describe-producers --topic {TOPIC} --partition 1"].splitlines()
    assert [c.strip() for c in producers[1].split("\t")][3] == "1"  # last sequence: 2 records
    assert producers[1].split("\t")[5].strip() == "0"  # the transaction starts at offset 0
    assert "could not be found" in seen["describe --transactional-id nobody"]


def hanging_transaction(bootstrap: str, topic: str) -> Producer:
    """`topic` (one partition) with a transaction of producer `{topic}-txn` open from offset 0."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"{topic}-txn"})
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic, b"v", partition=0)
    assert producer.flush(30) == 0
    return producer


@pytest.fixture(params=["localbroker", "kafka"])
def either_broker(request: pytest.FixtureRequest) -> str:
    """The bootstrap address of localbroker, then of Apache Kafka."""
    if request.param == "kafka":
        reference: ReferenceKafka = request.getfixturevalue("reference_kafka")
        return reference.bootstrap
    embedded: EmbeddedBroker = request.getfixturevalue("broker")
    return embedded.bootstrap


def test_abort_a_hanging_transaction(either_broker: str, kwb: Any, kafka_tool: KafkaTool) -> None:
    """Abort writes the ABORT marker (WriteTxnMarkers) where Kafka's tool writes it: after it,
    the partition has no open transaction, whichever tool aborted, on either broker."""
    b = ["--bootstrap-server", either_broker]
    for tool, topic in ((kafka_tool, "txn-abort-by-kafka"), (kwb, "txn-abort-by-kwb")):
        producer = hanging_transaction(either_broker, topic)
        where = ["--topic", topic, "--partition", "0"]
        if tool is kwb:
            done = kwb("transactions", *b, "abort", *where, "--start-offset", "0")
            after = kwb("transactions", *b, "describe-producers", *where)
        else:
            done = kafka_tool(TRANSACTIONS, [*b, "abort", *where, "--start-offset", "0"])
            after = kafka_tool(TRANSACTIONS, [*b, "describe-producers", *where])
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), done.stderr
        (row,) = after.stdout.splitlines()[1:]
        assert row.split("\t")[5].strip() == "None", row
        with contextlib.suppress(KafkaException):  # its transaction was aborted under it
            producer.abort_transaction(10)


def test_describe_on_apache_kafka(
    reference_kafka: ReferenceKafka, kwb: Any, kafka_tool: KafkaTool
) -> None:
    """What Apache Kafka answers, read as Kafka's tool reads it: an id with no transaction yet
    (Empty, its start time -1, which kio cannot read as a timestamp) and an open one."""
    bootstrap = reference_kafka.bootstrap
    empty = Producer({"bootstrap.servers": bootstrap, "transactional.id": "txn-empty"})
    empty.init_transactions(30)
    producer = hanging_transaction(bootstrap, "txn-describe")
    seen = side_by_side(
        kwb,
        kafka_tool,
        ["--bootstrap-server", bootstrap],
        [
            ["describe", "--transactional-id", "txn-empty"],
            ["describe", "--transactional-id", "txn-describe-txn"],
            ["describe-producers", "--topic", "txn-describe", "--partition", "0"],
        ],
    )
    assert "\tEmpty " in seen["describe --transactional-id txn-empty"]
    assert "\tOngoing " in seen["describe --transactional-id txn-describe-txn"]
    producer.abort_transaction(30)
