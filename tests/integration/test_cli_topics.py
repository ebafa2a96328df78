"""`kwb topics` runs the primer's kafka-topics.sh lines against a real localbroker."""

from __future__ import annotations

import json
import re


def test_primer_topic_commands(broker, kwb) -> None:
    b = broker.bootstrap
    created = kwb(
        "topics",
        "--create",
        "-bootstrap-server",
        b,
        "--replication-factor",
        "1",
        "--partitions",
        "1",
        "--topic",
        "test",
    )
    assert (created.returncode, created.stdout) == (0, "Created topic test.\n"), created.stderr
    listed = kwb("topics", "--list", "--bootstrap-server", b)
    assert listed.stdout.splitlines() == ["test"]
    described = kwb("topics", "--describe", "--bootstrap-server", b, "--topic", "test")
    lines = described.stdout.splitlines()
    assert re.fullmatch(
        r"Topic: test\tTopicId: [\w-]{22}\tPartitionCount: 1\t"
        r"ReplicationFactor: 1\tConfigs: ",
        lines[0],
    )
    assert lines[1:] == [
        "\tTopic: test\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: "
    ]
    altered = kwb(
        "topics",
        "--bootstrap-server",
        b,
        "--alter",
        "--topic",
        "test",
        "--config",
        "retention.ms=3600000",
    )
    assert altered.stdout == "Completed updating config for topic test.\n", altered.stderr
    grown = kwb("topics", "--bootstrap-server", b, "--alter", "--topic", "test", "-partitions", "2")
    assert (grown.returncode, grown.stdout, grown.stderr) == (0, "", "")
    described = kwb("topics", "--describe", "--bootstrap-server", b, "--topic", "test")
    assert "PartitionCount: 2" in described.stdout
    assert "Configs: retention.ms=3600000" in described.stdout
    deleted = kwb("topics", "--delete", "--topic", "test", "--bootstrap-server", b)
    assert (deleted.returncode, deleted.stderr) == (0, "")
    assert kwb("topics", "--list", "--bootstrap-server", b).stdout == "\n"  # Kafka's println


def test_refusals_as_kafka_prints_them_and_non_zero(broker, kwb) -> None:
    """A request the broker refuses is reported as kafka-topics.sh reports it; what kwb
    itself cannot do (connect, parse a flag) is one line on stderr."""
    b = broker.bootstrap
    kwb("topics", "--create", "--bootstrap-server", b, "--topic", "t", "--partitions", "2")
    shrink = kwb("topics", "--alter", "--bootstrap-server", b, "--topic", "t", "--partitions", "1")
    message = "The topic t currently has 2 partition(s); 1 would not be an increase."
    assert (shrink.returncode, shrink.stdout, shrink.stderr) == (
        1,
        f"Error while executing topic command : {message}\n",
        f"ERROR {message}\n",
    )
    unreachable = kwb("topics", "--list", "--bootstrap-server", "127.0.0.1:1")
    assert unreachable.returncode == 1
    assert len(unreachable.stderr.splitlines()) == 1
    assert "cannot connect to 127.0.0.1:1" in unreachable.stderr
    bad_flag = kwb("topics", "--frobnicate")
    assert bad_flag.returncode == 2 and len(bad_flag.stderr.splitlines()) == 1
    assert "Traceback" not in shrink.stderr + unreachable.stderr + bad_flag.stderr


def test_json_output(broker, kwb) -> None:
    b = broker.bootstrap
    kwb(
        "topics",
        "--create",
        "--bootstrap-server",
        b,
        "--topic",
        "j",
        "--partitions",
        "3",
        "--config",
        "cleanup.policy=compact",
    )
    described = kwb(
        "topics", "--describe", "--bootstrap-server", b, "--topic", "j", "--output", "json"
    )
    (topic,) = json.loads(described.stdout)
    assert topic["partition_count"] == 3
    assert topic["configs"] == {"cleanup.policy": "compact"}
    assert [p["partition"] for p in topic["partitions"]] == [0, 1, 2]
