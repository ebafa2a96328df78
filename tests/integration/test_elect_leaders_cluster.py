"""ElectLeaders on three-node clusters: after the preferred leader of a partition is killed
and restarted, Kafka's `kafka-leader-election.sh --election-type preferred
--all-topic-partitions` moves the leadership back and prints what it prints on Apache Kafka
(once on `localbroker --cluster 3`, once on Kafka's three KRaft nodes); confluent-kafka's
elect_leaders sees Kafka's error for each partition (PREFERRED_LEADER_NOT_AVAILABLE while the
preferred replica is down) on both; a localbroker node answers once its own Metadata shows
the new leader; and with a short leader.imbalance.check.interval.seconds localbroker's
controller moves it back by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import ElectionType, TopicPartition
from confluent_kafka.admin import AdminClient
from failover import Nodes
from kio.schema.errors import ErrorCode
from launched import OVERRIDES, Launched, launched_cluster, metadata
from reference_cluster import ReferenceCluster
from tool_output import normalise
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import ApiKey

PARTITIONS = 3
NOT_NEEDED = ErrorCode.election_not_needed
Layout = dict[int, tuple[int, tuple[int, ...], tuple[int, ...]]]
"""Each partition's (leader, replicas, isr)."""


def layout(address: str, topic: str) -> Layout | None:
    """The topic's partitions as the node at `address` shows them; None while it shows no
    such topic."""
    answer = metadata(address, [topic])
    if answer is None or answer.topics[0].error_code != ErrorCode.none:
        return None
    return {
        p.partition_index: (p.leader_id, tuple(p.replica_nodes), tuple(p.isr_nodes))
        for p in answer.topics[0].partitions
    }


def everywhere(addresses: list[str], topic: str, holds: Callable[[Layout], bool]) -> bool:
    """Whether every node's view of the topic holds (each node applies metadata at its own
    pace, and a tool asks whichever node it likes)."""
    for address in addresses:
        seen = layout(address, topic)
        if seen is None or len(seen) != PARTITIONS or not holds(seen):
            return False
    return True


def in_sync(seen: Layout) -> bool:
    return all(leader >= 0 and len(isr) == 3 for leader, _, isr in seen.values())


def preferred_lead(seen: Layout) -> bool:
    return all(leader == replicas[0] for leader, replicas, _ in seen.values())


def create(bootstrap: str, topic: str) -> None:
    from confluent_kafka.admin import NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 3)])[topic].result(30)


def elected_partitions(stdout: str, topic: str) -> str:
    """The tool's output about this topic's partitions alone, each list sorted: the tool
    prints them from a HashSet, and --all-topic-partitions elects other topics' partitions
    too (the internal topics on a cluster other tests used)."""
    lines = []
    for line in stdout.splitlines():
        head, sep, partitions = line.partition(" for partitions ")
        if sep:
            mine = sorted(p for p in partitions.split(", ") if p.rpartition("-")[0] == topic)
            if mine:
                lines.append(f"{head}{sep}{', '.join(mine)}")
        elif topic in line:
            lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class Restarted:
    topic: str
    victim: int
    """The node killed and restarted: partition 0's preferred replica."""
    while_down: str | None
    """confluent-kafka's error for a preferred election of partition 0 while it was down."""


def kill_and_restart(bootstrap: str, nodes: Nodes) -> Restarted:
    """Create a topic, kill partition 0's preferred leader (and ask for a preferred election
    while it is down) and restart it: once back, the node is in every ISR again but leads
    nothing."""
    addresses = bootstrap.split(",")
    topic = f"elect-{uuid.uuid4().hex[:8]}"
    create(bootstrap, topic)
    wait_until(lambda: everywhere(addresses, topic, in_sync), "the topic in sync")
    seen = layout(addresses[0], topic)
    assert seen is not None and preferred_lead(seen), seen
    victim = seen[0][1][0]
    others = [a for n, a in enumerate(addresses) if n != victim]
    nodes.kill(victim)
    try:
        wait_until(
            lambda: everywhere(others, topic, lambda s: s[0][0] not in (-1, victim)),
            "partition 0 led by another node",
        )
        while_down = election_error(",".join(others), ElectionType.PREFERRED, topic, 0)
    finally:
        nodes.restart(victim)
    wait_until(lambda: everywhere(addresses, topic, in_sync), "the restarted node in every ISR")
    return Restarted(topic, victim, while_down)


def election_error(bootstrap: str, kind: ElectionType, topic: str, partition: int) -> str | None:
    """confluent-kafka's elect_leaders for one partition: its error's name, None if elected."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    results = admin.elect_leaders(kind, [TopicPartition(topic, partition)]).result(30)
    (error,) = results.values()
    return None if error is None else str(error.name())


def kill_restart_and_elect(
    bootstrap: str, nodes: Nodes, kafka_tool: Any
) -> tuple[list[str], Restarted]:
    """After `kill_and_restart`, elect preferred leaders with Kafka's tool, twice: both
    outputs, normalised."""
    addresses = bootstrap.split(",")
    restarted = kill_and_restart(bootstrap, nodes)
    topic = restarted.topic
    assert not preferred_lead(layout(addresses[0], topic) or {})
    command = ["--bootstrap-server", bootstrap, "--election-type", "preferred"]
    outputs = []
    for _ in range(2):
        run = kafka_tool("kafka-leader-election", [*command, "--all-topic-partitions"])
        assert run.returncode == 0, run.stdout + run.stderr
        wait_until(lambda: everywhere(addresses, topic, preferred_lead), "preferred leaders")
        output = normalise(elected_partitions(run.stdout, topic), addresses)
        outputs.append(output.replace(topic, "TOPIC"))
    return outputs, restarted


def per_partition_errors(bootstrap: str, restarted: Restarted) -> dict[str, str | None]:
    """confluent-kafka's elect_leaders on partitions that need no election, do not exist, or
    belong to no topic, and on partition 0 while its preferred replica was down: each one's
    error name."""
    topic, preferred = restarted.topic, ElectionType.PREFERRED
    return {
        "down": restarted.while_down,
        "led": election_error(bootstrap, preferred, topic, 0),
        "no partition": election_error(bootstrap, preferred, topic, 9),
        "no topic": election_error(bootstrap, preferred, "no-such", 0),
        "unclean, led": election_error(bootstrap, ElectionType.UNCLEAN, topic, 1),
    }


EXPECTED_ERRORS = {
    "down": "PREFERRED_LEADER_NOT_AVAILABLE",
    "led": "ELECTION_NOT_NEEDED",
    "no partition": "UNKNOWN_TOPIC_OR_PART",  # (librdkafka's name)
    "no topic": "UNKNOWN_TOPIC_OR_PART",
    "unclean, led": "ELECTION_NOT_NEEDED",
}


ELECTED = ["Successfully completed leader election (PREFERRED) for partitions TOPIC-0", ""]
"""What Kafka's tool prints of the topic: partition 0 elected, then nothing left to do."""


def test_preferred_election_on_three_localbroker_nodes(
    launcher: Callable[[], Launched], kafka_tool: Any
) -> None:
    launched = launcher()
    launched.wait_registered()
    outputs, restarted = kill_restart_and_elect(launched.bootstrap, launched, kafka_tool)
    assert outputs == ELECTED
    assert per_partition_errors(launched.bootstrap, restarted) == EXPECTED_ERRORS


def test_preferred_election_on_three_kafka_nodes(
    reference_cluster: ReferenceCluster, kafka_tool: Any
) -> None:
    bootstrap = reference_cluster.bootstrap
    outputs, restarted = kill_restart_and_elect(bootstrap, reference_cluster, kafka_tool)
    assert outputs == ELECTED
    assert per_partition_errors(bootstrap, restarted) == EXPECTED_ERRORS


def test_the_node_asked_shows_the_new_leader_in_its_answer_to_metadata(
    launcher: Callable[[], Launched],
) -> None:
    """ElectLeaders to a node that forwards it (not the active controller): once answered,
    that node's Metadata already shows the preferred leader."""
    launched = launcher()
    launched.wait_registered()
    restarted = kill_and_restart(launched.bootstrap, launched)
    controller = metadata(launched.addresses[0]).controller_id
    node = next(n for n in range(3) if n not in (controller, restarted.victim))
    address = launched.addresses[node]
    request = {
        "election_type": 0,
        "topic_partitions": [{"topic": restarted.topic, "partitions": [0, 1, 2]}],
        "timeout": 30_000,
    }
    with RawClient(address, timeout=40) as client:
        answer = client.call(ApiKey.ELECT_LEADERS, 2, request)
    (result,) = answer.replica_election_results
    codes = {p.partition_id: p.error_code for p in result.partition_result}
    assert codes == {0: ErrorCode.none, 1: NOT_NEEDED, 2: NOT_NEEDED}
    assert preferred_lead(layout(address, restarted.topic) or {})


def test_the_controller_moves_leaders_back_by_itself(tmp_path: Path) -> None:
    """auto.leader.rebalance.enable (on by default) with a one-second
    leader.imbalance.check.interval.seconds: the restarted node leads its partition again
    without anyone asking."""
    overrides = {**OVERRIDES, "leader.imbalance.check.interval.seconds": 1}
    with launched_cluster(tmp_path, overrides) as launched:
        launched.wait_registered()
        topic = kill_and_restart(launched.bootstrap, launched).topic
        wait_until(
            lambda: everywhere(launched.addresses, topic, preferred_lead),
            "the preferred leaders back",
        )
