"""Kafka's own command-line tools against localbroker: every command line of the seed primer
(../shared/seed/kafka-intro-ko.txt) and the other tools people reach for, run with Apache
Kafka's real tools (the classes behind the .sh scripts, from tests/reference_kafka.py), their
output checked as a user reads it; where output has many fields, against what the same
command prints on Apache Kafka itself.

Each tool is a JVM that takes a second or two to start, so each test runs a scenario from
start to end rather than one command per test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from subprocess import CompletedProcess

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from reference_kafka import KafkaTool, ReferenceKafka
from tool_output import metrics, normalise

from localbroker.public import kafka_uuid_string
from tui.embedded import EmbeddedBroker

TIMEOUT = 30.0
OFFSETS_HEADER = (
    "GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG     "
    "        CONSUMER-ID     HOST            CLIENT-ID"
)
RECORDS_SENT = re.compile(
    r"^1000 records sent, [\d.]+ records/sec \([\d.]+ MB/sec\), [\d.]+ ms avg latency,"
    r" [\d.]+ ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$",
    re.MULTILINE,
)


@pytest.fixture
def localbroker(start_broker: Callable[..., EmbeddedBroker]) -> EmbeddedBroker:
    """localbroker as node 1, the reference's node id, so outputs compare unchanged."""
    return start_broker({"node.id": "1"})


def ok(done: CompletedProcess[str]) -> str:
    """stdout of a run that succeeded without a word on stderr (no warning of the client)."""
    assert (done.returncode, done.stderr) == (0, ""), done.stdout + done.stderr
    return done.stdout


def command(kafka_tool: KafkaTool) -> Callable[..., CompletedProcess[str]]:
    """Run a command line as the primer writes it (`kafka-topics --list ...`, no `.sh`)."""

    def run(line: str, input: str | None = None) -> CompletedProcess[str]:
        script, *args = line.split()
        return kafka_tool(script, args, input=input)

    return run


def end_offsets(
    run: Callable[..., CompletedProcess[str]], bootstrap: str, topic: str
) -> dict[int, int]:
    listed = ok(run(f"kafka-get-offsets --bootstrap-server {bootstrap} --topic {topic}"))
    found = {}
    for line in listed.splitlines():
        name, partition, offset = line.split(":")
        assert name == topic
        found[int(partition)] = int(offset)
    return found


def group_offsets(described: str) -> dict[int, tuple[str, ...]]:
    """kafka-consumer-groups --describe's rows, by partition."""
    lines = described.splitlines()
    assert lines[:2] == ["", OFFSETS_HEADER], described
    return {int(row.split()[2]): tuple(row.split()[3:]) for row in lines[2:]}


def test_the_primers_commands(localbroker: EmbeddedBroker, kafka_tool: KafkaTool) -> None:
    """The primer, line by line, as Apache Kafka 4.1's tools run it. Two of its lines are
    refused by the tools themselves, as on Apache Kafka: kafka-topics --alter --config (since
    4.0 kafka-configs alters configs) and kafka-console-producer --broker-list (removed in 4.0);
    what Kafka 4 offers instead runs after each."""
    b = localbroker.bootstrap
    run = command(kafka_tool)

    created = run(
        f"kafka-topics --create -bootstrap-server {b} --replication-factor 1 --partitions 1"
        " --topic test"
    )
    assert ok(created) == "Created topic test.\n"
    assert ok(run(f"kafka-topics --list --bootstrap-server {b}")) == "test\n"
    topic_id = localbroker.call(
        lambda: kafka_uuid_string(localbroker.state.topics["test"].topic_id)
    )
    described = run(f"kafka-topics --describe --bootstrap-server {b} --topic test")
    assert ok(described) == (
        f"Topic: test\tTopicId: {topic_id}\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n"
        "\tTopic: test\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n"
    )

    refused = run(
        f"kafka-topics --bootstrap-server {b} --alter --topic test --config retention.ms=3600000"
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        'Option combination "[[bootstrap-server], [config]]" can\'t be used with option'
        ' "[alter]" (To alter topic configurations, the kafka-configs tool can be used.)\n'
    )
    altered = run(
        f"kafka-configs --bootstrap-server {b} --alter --entity-type topics --entity-name test"
        " --add-config retention.ms=3600000"
    )
    assert ok(altered) == "Completed updating config for topic test.\n"
    assert ok(run(f"kafka-topics --bootstrap-server {b} --alter --topic test -partitions 2")) == ""
    described = run(f"kafka-topics --describe --bootstrap-server {b} --topic test")
    assert ok(described).splitlines() == [
        f"Topic: test\tTopicId: {topic_id}\tPartitionCount: 2\tReplicationFactor: 1"
        "\tConfigs: retention.ms=3600000",
        "\tTopic: test\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: ",
        "\tTopic: test\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: ",
    ]

    lines = "first\nsecond\nthird\n"
    refused = run(f"kafka-console-producer --broker-list {b} --topic test", input=lines)
    assert refused.returncode == 1
    assert refused.stderr.startswith("broker-list is not a recognized option\n")
    assert ok(run(f"kafka-console-producer --bootstrap-server {b} --topic test", input=lines)) == ""
    consumed = run(
        f"kafka-console-consumer --bootstrap-server {b} --topic test --from-beginning"
        " --group my-group --max-messages 3 --timeout-ms 20000"
    )
    assert consumed.returncode == 0, consumed.stderr
    assert sorted(consumed.stdout.splitlines()) == ["first", "second", "third"]
    assert consumed.stderr == "Processed a total of 3 messages\n"

    ok(run(f"kafka-console-producer --bootstrap-server {b} --topic test", input="4\n5\n"))
    assert ok(run(f"kafka-consumer-groups --bootstrap-server {b} --list")) == "my-group\n"
    described = run(f"kafka-consumer-groups --bootstrap-server {b} --group my-group --describe")
    assert described.stderr == "\nConsumer group 'my-group' has no active members.\n"
    rows = group_offsets(described.stdout)
    assert sorted(rows) == [0, 1]
    assert {row[3:] for row in rows.values()} == {("-", "-", "-")}  # nobody is consuming
    current, end, lag = (sum(int(row[column]) for row in rows.values()) for column in range(3))
    assert (current, end, lag) == (3, 5, 2)
    missing = run(f"kafka-consumer-groups --bootstrap-server {b} --group test-group --describe")
    assert (missing.returncode, missing.stdout) == (
        0,  # Kafka's tool reports the failure and exits 0
        "\nError: Executing consumer group command failed due to"
        " org.apache.kafka.common.errors.GroupIdNotFoundException: Group test-group not found.\n",
    )

    perf = run(
        "kafka-producer-perf-test --num-records 1000 --throughput 100 --record-size 100"
        f" --print-metric --topic test --producer-props bootstrap.servers={b}"
    )
    assert RECORDS_SENT.search(ok(perf)), perf.stdout
    sent = metrics(perf.stdout)
    assert (
        float(sent["producer-metrics:record-send-total:{client-id=perf-producer-client}"]) == 1000
    )
    assert float(sent["producer-metrics:record-error-total:{client-id=perf-producer-client}"]) == 0
    assert sum(end_offsets(run, b, "test").values()) == 1005

    assert ok(run(f"kafka-topics --delete --topic test --bootstrap-server {b}")) == ""
    assert ok(run(f"kafka-topics --list --bootstrap-server {b}")) == "__consumer_offsets\n"


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(TIMEOUT)


DIFFERENT_BROKER_CONFIGS = {
    "advertised.listeners",  # the reference sets it; localbroker advertises where it listens
    "controller.quorum.voters",  # the reference's controller; a single localbroker runs none
    "inter.broker.listener.name",  # the reference names it; a single localbroker has no peers
    "listeners",  # addresses and ports, and the reference's controller listener
    "log.dirs",
    "log.cleaner.backoff.ms",  # the reference's 500 ms (tests/reference_kafka.py), not 15 s
    "max.incremental.fetch.session.cache.slots",  # 0: localbroker keeps no fetch sessions
    "min.insync.replicas",  # the reference's cluster-wide default (KRaft with ELR sets it)
}
"""Broker configs whose values differ: addresses and directories of the two set-ups, and the
reasons README's "Differences from Apache Kafka" gives. Every other config localbroker
describes is described as the reference describes it."""


def test_configs_of_topics_and_brokers(
    localbroker: EmbeddedBroker, reference_kafka: ReferenceKafka, kafka_tool: KafkaTool
) -> None:
    """kafka-configs describes and alters topic and broker configs; what it describes (values,
    sources, synonyms, sensitivity) is what Apache Kafka describes."""
    b = localbroker.bootstrap
    run = command(kafka_tool)
    for bootstrap in (b, reference_kafka.bootstrap):
        create_topic(bootstrap, "configured", 1)
        added = run(
            f"kafka-configs --bootstrap-server {bootstrap} --entity-type topics"
            " --entity-name configured --alter"
            " --add-config retention.ms=3600000,cleanup.policy=[compact,delete]"
            ",segment.bytes=10000000"
        )
        assert ok(added) == "Completed updating config for topic configured.\n"
    described = run(f"kafka-configs --bootstrap-server {b} --describe --topic configured")
    assert ok(described).splitlines() == [
        "Dynamic configs for topic configured are:",
        "  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
        "cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}",
        "  retention.ms=3600000 sensitive=false"
        " synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000}",
        "  segment.bytes=10000000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:"
        "segment.bytes=10000000, DEFAULT_CONFIG:log.segment.bytes=1073741824}",
    ]
    # kafka-topics lists the overrides in the order the broker lists the topic's configs
    # (where two share a bucket of the admin client's HashMap: segment.bytes, retention.ms)
    topic = "kafka-topics --describe --topic configured --bootstrap-server"
    ours = normalise(ok(run(f"{topic} {b}")))
    kafkas = normalise(ok(run(f"{topic} {reference_kafka.bootstrap}")))
    assert ours == kafkas.replace("Configs: min.insync.replicas=1,", "Configs: ")
    every = "--entity-type topics --entity-name configured --describe --all"
    ours = ok(run(f"kafka-configs --bootstrap-server {b} {every}")).splitlines()
    kafkas = ok(run(f"kafka-configs --bootstrap-server {reference_kafka.bootstrap} {every}"))
    local_min_isr = (
        "  min.insync.replicas=1 sensitive=false synonyms={DEFAULT_CONFIG:min.insync.replicas=1}"
    )
    assert ours == [
        local_min_isr if line.startswith("  min.insync.replicas=") else line
        for line in kafkas.splitlines()
    ]
    deleted = run(
        f"kafka-configs --bootstrap-server {b} --entity-type topics --entity-name configured"
        " --alter --delete-config cleanup.policy"
    )
    assert ok(deleted) == "Completed updating config for topic configured.\n"
    described = run(f"kafka-configs --bootstrap-server {b} --describe --topic configured")
    names = [line.split("=")[0] for line in ok(described).splitlines()[1:]]
    assert names == ["  retention.ms", "  segment.bytes"]

    brokers = "--entity-type brokers --entity-name 1 --describe --all"
    ours = ok(run(f"kafka-configs --bootstrap-server {b} {brokers}")).splitlines()
    kafkas = ok(run(f"kafka-configs --bootstrap-server {reference_kafka.bootstrap} {brokers}"))
    by_name = {line.split("=")[0]: line for line in kafkas.splitlines()}
    assert ours[0] == "All configs for broker 1 are:"
    for line in ours[1:]:
        name = line.split("=")[0]
        if name.strip() not in DIFFERENT_BROKER_CONFIGS:
            assert line == by_name.get(name), name
    for alter, done in [
        (
            "--entity-default --add-config log.retention.ms=7200000",
            "default config for brokers in the cluster",
        ),
        ("--entity-name 1 --add-config message.max.bytes=2000000", "config for broker 1"),
    ]:
        altered = run(f"kafka-configs --bootstrap-server {b} --alter --entity-type brokers {alter}")
        assert ok(altered) == f"Completed updating {done}.\n"
    described = run(f"kafka-configs --bootstrap-server {b} --entity-type brokers --describe")
    assert ok(described).splitlines() == [
        "Dynamic configs for broker 1 are:",
        "  message.max.bytes=2000000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:"
        "message.max.bytes=2000000, DEFAULT_CONFIG:message.max.bytes=1048588}",
        "Default configs for brokers in the cluster are:",
        "  log.retention.ms=7200000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:"
        "log.retention.ms=7200000}",
    ]


def newest_records(bootstrap: str, topic: str, ends: dict[int, int]) -> dict[int, int]:
    """Per partition, the offset of the first record with the partition's newest timestamp
    (what ListOffsets answers for MAX_TIMESTAMP, -3), found by reading every record. An empty
    partition has none: ListOffsets answers -1 and kafka-get-offsets prints no line for it
    (the perf test's sticky partitioner leaves one of two partitions empty now and then)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "newest-records"})
    newest = {}
    try:
        for partition, end in ends.items():
            if end == 0:
                continue
            consumer.assign([TopicPartition(topic, partition, 0)])
            stamps: list[tuple[int, int]] = []
            while len(stamps) < end:
                batch = consumer.consume(end - len(stamps), TIMEOUT)
                assert batch, f"no records of {topic}-{partition} within {TIMEOUT} s"
                stamps += [(-m.timestamp()[1], m.offset()) for m in batch]
            newest[partition] = min(stamps)[1]
    finally:
        consumer.close()
    return newest


def test_perf_offsets_deleting_records_and_log_dirs(
    localbroker: EmbeddedBroker, kafka_tool: KafkaTool
) -> None:
    """kafka-consumer-perf-test consumes what kafka-producer-perf-test produced;
    kafka-get-offsets, kafka-delete-records and kafka-log-dirs see what localbroker holds."""
    b = localbroker.bootstrap
    run = command(kafka_tool)
    create_topic(b, "perf", 2)
    produced = run(
        "kafka-producer-perf-test --topic perf --num-records 1000 --throughput -1"
        f" --record-size 100 --producer-props bootstrap.servers={b} acks=all"
    )
    assert RECORDS_SENT.search(ok(produced)), produced.stdout
    consumed = run(f"kafka-consumer-perf-test --bootstrap-server {b} --topic perf --messages 1000")
    header, summary = normalise(ok(consumed)).splitlines()
    assert header == (
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,"
        " rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
    )
    # 1000 records of 100 bytes: 0.0954 MB
    assert summary == "DATE, DATE, 0.0954, N.dddd, 1000, N.dddd, N, N, N.dddd, N.dddd"

    ends = end_offsets(run, b, "perf")
    assert sorted(ends) == [0, 1] and sum(ends.values()) == 1000
    earliest = ok(run(f"kafka-get-offsets --bootstrap-server {b} --topic perf --time -2"))
    assert earliest == "perf:0:0\nperf:1:0\n"
    newest = ok(run(f"kafka-get-offsets --bootstrap-server {b} --topic perf --time -3"))
    assert newest == "".join(f"perf:{p}:{o}\n" for p, o in newest_records(b, "perf", ends).items())

    plan = localbroker.data_dir.parent / "delete.json"
    cut = {0: ends[0] // 2, 1: ends[1]}
    plan.write_text(
        json.dumps(
            {
                "version": 1,
                "partitions": [
                    {"topic": "perf", "partition": p, "offset": offset} for p, offset in cut.items()
                ],
            }
        )
    )
    deleted = run(f"kafka-delete-records --bootstrap-server {b} --offset-json-file {plan}")
    lines = ok(deleted).splitlines()
    assert lines[:2] == [
        "Executing records delete operation",
        "Records delete operation completed:",
    ]
    assert sorted(lines[2:]) == [f"partition: perf-{p}\tlow_watermark: {o}" for p, o in cut.items()]
    earliest = ok(run(f"kafka-get-offsets --bootstrap-server {b} --topic perf --time -2"))
    assert earliest == "".join(f"perf:{p}:{o}\n" for p, o in cut.items())

    described = run(f"kafka-log-dirs --bootstrap-server {b} --describe --topic-list perf")
    first, second, document = ok(described).splitlines()
    assert first == "Querying brokers for log directories information"
    assert second == "Received log directory information from brokers 1"
    (log_dir,) = json.loads(document)["brokers"][0]["logDirs"]
    assert (log_dir["logDir"], log_dir["error"]) == (str(localbroker.data_dir), None)
    on_disk = {
        f"perf-{p}": sum(
            f.stat().st_size for f in (localbroker.data_dir / f"perf-{p}").glob("*.log")
        )
        for p in (0, 1)
    }
    sizes = {p["partition"]: p["size"] for p in log_dir["partitions"]}
    assert sizes == on_disk
    assert {(p["offsetLag"], p["isFuture"]) for p in log_dir["partitions"]} == {(0, False)}
