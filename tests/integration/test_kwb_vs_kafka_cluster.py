"""`kwb topics --describe` beside Kafka's `kafka-topics.sh --describe` on three-node clusters:
a topic with three replicas, described by both tools on the same cluster, must print the
same (Leader, Replicas and Isr of every partition, its Configs), after tests/tool_output.py
normalised ids and addresses. Once on `localbroker --cluster 3`, once on Apache Kafka's
three KRaft nodes, so that what both print is what Kafka's tool prints of Kafka.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from launched import Launched, agreed, metadata, partitions
from reference_cluster import ReferenceCluster
from tool_output import normalise
from waiting import wait_until

TOPIC = "described"
PARTITIONS = 3


def in_sync(addresses: list[str], topic: str) -> bool:
    """Every node answers Metadata with every partition led and all three replicas in its ISR.

    Each node asked itself (a raw request to its address): the nodes apply the metadata log
    each at its own pace, as Kafka's brokers update their metadata caches, and Kafka's tool
    asks whichever node it likes. Asking one node left kafka-topics --describe finding no
    such topic on another 1 run in 8."""
    for address in addresses:
        answer = metadata(address, [topic])
        layout = None if answer is None else partitions(answer)
        if layout is None or len(layout) != PARTITIONS:
            return False
        if any(leader < 0 or len(isr) != 3 for leader, isr in layout.values()):
            return False
    return True


def describe_the_same(bootstrap: str, kafka_tool: Any, kwb: Any) -> str:
    """Create the topic (3 replicas, one override) with kafka-topics, wait until it is in
    sync, and require kwb's description to be Kafka's; returns Kafka's."""
    server = ["--bootstrap-server", bootstrap]
    layout = ["--partitions", str(PARTITIONS), "--replication-factor", "3"]
    created = kafka_tool(
        "kafka-topics",
        [*server, "--create", "--topic", TOPIC, *layout, "--config", "retention.ms=3600000"],
    )
    assert created.returncode == 0, created.stderr
    wait_until(lambda: in_sync(bootstrap.split(","), TOPIC), "the topic in sync on every node")
    describe = [*server, "--describe", "--topic", TOPIC]
    kafka = kafka_tool("kafka-topics", describe)
    ours = kwb("topics", *describe)
    shown = f"--- Kafka:\n{kafka.stdout}{kafka.stderr}\n--- kwb:\n{ours.stdout}{ours.stderr}"
    assert (ours.returncode, kafka.returncode) == (0, 0), shown
    addresses = bootstrap.split(",")
    assert normalise(ours.stdout, addresses) == normalise(kafka.stdout, addresses), shown
    return str(kafka.stdout)


def assert_replicated(described: str) -> None:
    """Each partition line names three replicas, all in sync, led by one of them."""
    lines = [line for line in described.splitlines() if "Partition: " in line]
    assert len(lines) == PARTITIONS, described
    for line in lines:
        fields = dict(field.split(": ", 1) for field in line.lstrip("\t").split("\t"))
        replicas = fields["Replicas"].split(",")
        assert sorted(replicas) == ["0", "1", "2"], line
        assert sorted(fields["Isr"].split(",")) == ["0", "1", "2"], line
        assert fields["Leader"] in replicas, line
        assert (fields["Elr"], fields["LastKnownElr"]) == ("", ""), line


def test_describe_on_three_localbroker_nodes(
    launcher: Callable[[], Launched], kafka_tool: Any, kwb: Any
) -> None:
    addresses = launcher().addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    assert_replicated(describe_the_same(",".join(addresses), kafka_tool, kwb))


def test_describe_on_three_kafka_nodes(
    reference_cluster: ReferenceCluster, kafka_tool: Any, kwb: Any
) -> None:
    assert_replicated(describe_the_same(reference_cluster.bootstrap, kafka_tool, kwb))
