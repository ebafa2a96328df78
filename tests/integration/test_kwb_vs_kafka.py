"""`kwb` beside Kafka's own tools on Apache Kafka: each command of the primer (and the failures
people meet with it) runs with the same arguments as Kafka's tool and as `kwb`, against the
reference broker, and the two must print the same: stdout and exit code exactly, stderr as a
user reads it, after tests/tool_output.py normalised ids, addresses and timings.

Both runs go at once, each on topics and groups of its own (`ka-...` for Kafka's tool,
`kw-...` for kwb, names of equal length, so that column widths match), so a scenario takes
about as long as Kafka's tools alone. The differences README lists (`--broker-list`,
`topics --alter --config`, the metrics kwb can measure) are checked as differences."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from reference_kafka import ReferenceKafka
from tool_output import metrics, normalise, rows_sorted, stderr_messages

KAFKA, KWB = "ka-", "kw-"
"""Name prefixes of what each side creates; `{p}` in a command line stands for its side's."""
KWB_COMMANDS = {
    "kafka-topics": "topics",
    "kafka-configs": "configs",
    "kafka-console-producer": "produce",
    "kafka-console-consumer": "consume",
    "kafka-consumer-groups": "groups",
    "kafka-producer-perf-test": "perf",
    "kafka-consumer-perf-test": "consumer-perf",
}

Run = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Both:
    kafka: subprocess.CompletedProcess[str]
    kwb: subprocess.CompletedProcess[str]


class SideBySide:
    """Runs a command line with Kafka's tool and with kwb, and compares what they print."""

    def __init__(self, bootstrap: str, kafka_tool: Run, kwb: Run) -> None:
        self.bootstrap = bootstrap
        self.kafka_tool = kafka_tool
        self.kwb = kwb
        self.pool = ThreadPoolExecutor(2)

    def run(self, line: str, input: str | None = None) -> Both:
        """`line` is a Kafka command line without `.sh`; `{b}` is the broker, `{p}` the prefix
        of the side's names."""
        script, *_ = line.split()

        def args(prefix: str) -> list[str]:
            return line.format(b=self.bootstrap, p=prefix).split()[1:]

        kafka = self.pool.submit(self.kafka_tool, script, args(KAFKA), input=input)
        kwb = self.pool.submit(self.kwb, KWB_COMMANDS[script], *args(KWB), input=input)
        return Both(kafka.result(), kwb.result())

    def comparable(self, text: str, unordered: bool) -> str:
        text = normalise(text.replace(KAFKA, "xx-").replace(KWB, "xx-"), [self.bootstrap])
        return rows_sorted(text) if unordered else text

    def same(self, line: str, input: str | None = None, unordered: bool = False) -> Both:
        """Run `line` both ways and require the same exit code, stdout and stderr messages;
        `unordered` for outputs Kafka prints in hash-map order."""
        both = self.run(line, input)
        kafka, kwb = both.kafka, both.kwb
        shown = (
            f"{line}\n--- Kafka:\n{kafka.stdout}{kafka.stderr}\n--- kwb:\n{kwb.stdout}{kwb.stderr}"
        )
        assert kwb.returncode == kafka.returncode, shown
        assert self.comparable(kwb.stdout, unordered) == self.comparable(kafka.stdout, unordered), (
            shown
        )
        assert self.comparable(stderr_messages(kwb.stderr), unordered) == self.comparable(
            stderr_messages(kafka.stderr), unordered
        ), shown
        return both


@pytest.fixture
def side_by_side(
    reference_kafka: ReferenceKafka, kafka_tool: Run, kwb: Run
) -> Iterator[SideBySide]:
    both = SideBySide(reference_kafka.bootstrap, kafka_tool, kwb)
    try:
        yield both
    finally:
        both.pool.shutdown()


def test_topics(side_by_side: SideBySide) -> None:
    """The primer's kafka-topics lines, and the refusals people meet with them."""
    same = side_by_side.same
    same(
        "kafka-topics --create -bootstrap-server {b} --replication-factor 1 --partitions 1"
        " --topic {p}topics"
    )
    same("kafka-topics --create --bootstrap-server {b} --topic {p}topics")  # exists already
    same("kafka-topics --create --bootstrap-server {b} --topic {p}odd --replication-factor 3")
    same("kafka-topics --create --bootstrap-server {b} --topic {p}odd --config retention.ms=x")
    same("kafka-topics --create --bootstrap-server {b} --topic {p}odd --config nope=1")
    same("kafka-topics --list --bootstrap-server {b} --topic {p}.*")  # not others' topics
    same("kafka-topics --describe --bootstrap-server {b} --topic {p}topics")
    same("kafka-topics --describe --bootstrap-server {b} --topic {p}missing")
    same("kafka-topics --bootstrap-server {b} --alter --topic {p}topics -partitions 2")
    same("kafka-topics --bootstrap-server {b} --alter --topic {p}topics --partitions 1")
    same("kafka-topics --describe --bootstrap-server {b} --topic {p}topics")
    same("kafka-topics --delete --topic {p}topics --bootstrap-server {b}")
    same("kafka-topics --delete --topic {p}topics --bootstrap-server {b}")

    # README's difference: Kafka 4 refuses the primer's --alter --config, kwb applies it
    same("kafka-topics --create --bootstrap-server {b} --topic {p}configured")
    both = side_by_side.run(
        "kafka-topics --bootstrap-server {b} --alter --topic {p}configured"
        " --config retention.ms=3600000"
    )
    assert both.kafka.returncode == 1 and "can't be used with option" in both.kafka.stderr
    assert (both.kwb.returncode, both.kwb.stdout) == (
        0,
        f"Completed updating config for topic {KWB}configured.\n",
    )
    same("kafka-topics --describe --bootstrap-server {b} --topic " + KWB + "configured")


def test_configs(side_by_side: SideBySide) -> None:
    """kafka-configs on topics and brokers: alter, describe (dynamic and --all), refusals."""
    same = side_by_side.same
    same("kafka-topics --create --bootstrap-server {b} --topic {p}configs")
    same(
        "kafka-configs --bootstrap-server {b} --entity-type topics --entity-name {p}configs"
        " --alter --add-config retention.ms=3600000,cleanup.policy=[compact,delete]"
    )
    same("kafka-configs --bootstrap-server {b} --describe --entity-type topics --topic {p}configs")
    same(
        "kafka-configs --bootstrap-server {b} --describe --entity-type topics"
        " --entity-name {p}configs"
    )
    same("kafka-configs --bootstrap-server {b} --describe --all --topic {p}configs")
    same("kafka-topics --describe --bootstrap-server {b} --topic {p}configs")
    same("kafka-configs --bootstrap-server {b} --alter --topic {p}configs --delete-config nope")
    same("kafka-configs --bootstrap-server {b} --alter --topic {p}configs --add-config nope=1")
    same(
        "kafka-configs --bootstrap-server {b} --alter --topic {p}configs --add-config segment.ms=x"
    )
    same("kafka-configs --bootstrap-server {b} --describe --topic {p}missing")
    same("kafka-configs --bootstrap-server {b} --entity-type brokers --describe")
    same("kafka-configs --bootstrap-server {b} --entity-type brokers --broker 1 --describe --all")
    same("kafka-configs --bootstrap-server {b} --entity-type brokers --entity-name 7 --describe")


def test_produce_consume_and_groups(side_by_side: SideBySide) -> None:
    """The primer's producer and consumer, then kafka-consumer-groups on what they left."""
    same = side_by_side.same
    same("kafka-topics --create --bootstrap-server {b} --topic {p}records --partitions 2")
    # keyed, so that both producers put each record in the same partition (murmur2 of the key)
    produce = "kafka-console-producer --bootstrap-server {b} --topic {p}records"
    keyed = " --property parse.key=true --property key.separator=:"
    same(produce + keyed, input="".join(f"key-{i}:record {i}\n" for i in range(10)))
    same(
        "kafka-console-consumer --bootstrap-server {b} --topic {p}records --from-beginning"
        " --group {p}group --max-messages 10 --timeout-ms 20000 --property print.key=true",
        unordered=True,
    )
    same(produce + keyed, input="".join(f"key-{i}:later {i}\n" for i in range(10, 15)))
    same("kafka-consumer-groups --bootstrap-server {b} --list", unordered=True)
    for view in ("", "--members", "--state", "--members --verbose"):
        same(
            "kafka-consumer-groups --bootstrap-server {b} --group {p}group --describe " + view,
            unordered=True,
        )
    # README's difference: kwb consume commits no leader epoch, so both describe the group
    # Kafka's consumer committed in
    same(
        "kafka-consumer-groups --bootstrap-server {b} --describe --offsets --verbose --group "
        + KAFKA
        + "group",
        unordered=True,
    )
    same("kafka-consumer-groups --bootstrap-server {b} --group {p}missing --describe")
    same("kafka-consumer-groups --bootstrap-server {b} --group {p}missing --describe --members")
    same(
        "kafka-consumer-groups --bootstrap-server {b} --group {p}group --reset-offsets"
        " --to-earliest --all-topics",
        unordered=True,
    )
    same(
        "kafka-consumer-groups --bootstrap-server {b} --group {p}group --reset-offsets"
        " --to-offset 1 --topic {p}records:0 --execute",
    )
    same("kafka-consumer-groups --bootstrap-server {b} --group {p}group --describe", unordered=True)
    same("kafka-consumer-groups --bootstrap-server {b} --group {p}missing --delete")
    same("kafka-consumer-groups --bootstrap-server {b} --group {p}group --delete")

    # a topic that the broker creates when a producer asks for it (auto.create.topics.enable)
    same("kafka-console-producer --bootstrap-server {b} --topic {p}created", input="first\n")
    same("kafka-topics --describe --bootstrap-server {b} --topic {p}created")
    # --timeout-ms runs out
    same("kafka-console-consumer --bootstrap-server {b} --topic {p}created --timeout-ms 1000")

    # README's difference: Kafka 4 removed the primer's --broker-list, kwb keeps it
    both = side_by_side.run(produce.replace("--bootstrap-server", "--broker-list"), input="x\n")
    assert both.kafka.returncode == 1
    assert both.kafka.stderr.startswith("broker-list is not a recognized option")
    assert (both.kwb.returncode, both.kwb.stdout, both.kwb.stderr) == (0, "", "")


def test_perf(side_by_side: SideBySide) -> None:
    """The primer's perf test line, then kafka-consumer-perf-test reading it back."""
    same = side_by_side.same
    same("kafka-topics --create --bootstrap-server {b} --topic {p}perf")
    both = side_by_side.run(
        "kafka-producer-perf-test --num-records 1000 --throughput 100 --record-size 100"
        " --print-metric --topic {p}perf --producer-props bootstrap.servers={b}"
    )
    kafka, kwb = both.kafka, both.kwb
    assert (kwb.returncode, kwb.stderr) == (kafka.returncode, kafka.stderr) == (0, "")
    # README's difference: kwb measures 16 of the producer's metrics, under Kafka's names
    table = "\nMetric Name Value\n"
    kafkas, kafka_metrics = normalise(kafka.stdout).split(table)
    ours, our_metrics = normalise(kwb.stdout).split(table)
    assert ours.replace(KWB, KAFKA) == kafkas
    assert len(metrics(kwb.stdout)) == 16
    assert set(our_metrics.replace(KWB, KAFKA).splitlines()) <= set(kafka_metrics.splitlines())
    same("kafka-consumer-perf-test --bootstrap-server {b} --topic {p}perf --messages 1000")
    same(
        "kafka-consumer-perf-test --bootstrap-server {b} --topic {p}perf --messages 1000"
        " --hide-header --group {p}perf-group"
    )
