"""Partition reassignment (AlterPartitionReassignments, ListPartitionReassignments) with
Kafka's own `kafka-reassign-partitions.sh`, on `localbroker --cluster 3` and on Apache
Kafka's three KRaft nodes.

The same steps run on both clusters, and what the tool prints for them (`--execute`,
`--verify`, `--cancel`, `--generate`) and what the brokers answer to refused requests must
be the text and errors below: the run on Apache Kafka shows that they are Kafka's. A
partition with records moves from node 0 to node 2 (RF 1), another grows from two replicas
to three, and the records are read back from their new leaders. On localbroker, the log the
move took away is deleted too, and a move to a broker that is down waits for it:
`kafka-topics --describe` shows Adding Replicas meanwhile, and a cancellation puts the
replicas back. A single localbroker answers as a single Kafka node does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from launched import Launched, agreed, metadata
from reference_cluster import ReferenceCluster
from reference_kafka import ReferenceKafka
from tool_output import normalise
from waiting import wait_until
from wire import RawClient

from localbroker.protocol.names import ApiKey, ErrorCode

RECORDS = 50
EXECUTED = """Current partition replica assignment

{{"version":1,"partitions":[{current}]}}

Save this to use as the --reassignment-json-file option during rollback
Successfully started partition reassignment for {partition}
"""
VERIFIED = """Status of partition reassignment:
Reassignment of partition {partition} is completed.

Clearing broker-level throttles on brokers 0,1,2
Clearing topic-level throttles on topic {topic}
"""
CANCELLED_NOTHING = (
    "None of the specified partition reassignments are active.\n"
    "None of the specified partition moves are active."
    "Clearing broker-level throttles on brokers 0,1,2\n"
    "Clearing topic-level throttles on topic moved\n"
)
GENERATED_CURRENT = (
    'Current partition replica assignment\n{"version":1,"partitions":'
    '[{"topic":"moved","partition":0,"replicas":[2],"log_dirs":["any"]}]}'
)
GENERATED_PROPOSAL = (
    'Proposed partition reassignment configuration\n{"version":1,"partitions":'
    r'\[\{"topic":"moved","partition":0,"replicas":\[[01]\],"log_dirs":\["any"\]\}\]\}\n'
)
"""--generate for moved (on node 2) onto brokers 0 and 1: its current assignment, and one
that Kafka's placement picks (a random first broker)."""
REFUSED: list[tuple[str, int, list[int] | None, ErrorCode, str | None]] = [
    (
        "moved",
        0,
        [],
        ErrorCode.invalid_replica_assignment,
        "The manual partition assignment includes an empty replica list.",
    ),
    (
        "moved",
        0,
        [2, 2],
        ErrorCode.invalid_replica_assignment,
        "The manual partition assignment includes the broker 2 more than once.",
    ),
    (
        "moved",
        0,
        [1, 7],
        ErrorCode.invalid_replica_assignment,
        "The manual partition assignment includes broker 7, but no such broker is registered.",
    ),
    ("moved", 4, [1], ErrorCode.unknown_topic_or_partition, "Unable to find partition moved:4."),
    (
        "absent",
        0,
        [1],
        ErrorCode.unknown_topic_or_partition,
        "Unable to find a topic named absent.",
    ),
    ("moved", 0, None, ErrorCode.no_reassignment_in_progress, None),
]
"""(topic, partition, replicas, error, message) of AlterPartitionReassignments that Kafka
refuses, each in a request of its own."""


def _plan(topic: str, replicas: list[int], directory: Path) -> Path:
    path = directory / f"{topic}.json"
    plan = {"version": 1, "partitions": [{"topic": topic, "partition": 0, "replicas": replicas}]}
    path.write_text(json.dumps(plan))
    return path


def _partition_json(topic: str, replicas: list[int]) -> str:
    return json.dumps(
        {"topic": topic, "partition": 0, "replicas": replicas, "log_dirs": ["any"] * len(replicas)},
        separators=(",", ":"),
    )


def _produce(bootstrap: str, topic: str, partition: int = 0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for n in range(RECORDS):
        producer.produce(topic, str(n).encode(), partition=partition)
    assert producer.flush(30) == 0


def _read(bootstrap: str, topic: str, partition: int = 0) -> list[tuple[int, bytes]]:
    """Every record of the partition, from offset 0, as (offset, value)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"{topic}-reader", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        read: list[tuple[int, bytes]] = []

        def caught_up() -> bool:
            for message in consumer.consume(RECORDS, timeout=1):
                assert message.error() is None, message.error()
                read.append((message.offset(), message.value()))
            return len(read) >= RECORDS

        wait_until(caught_up, f"the records of {topic}")
        return read
    finally:
        consumer.close()


def _replicas(
    address: str, topic: str, partition: int = 0
) -> tuple[int, tuple[int, ...], tuple[int, ...]] | None:
    """The node's (leader, replicas, isr) of the topic's partition, as its Metadata says."""
    answer = metadata(address, [topic])
    found = None if answer is None else answer.topics[0]
    if found is None or found.error_code != ErrorCode.none:
        return None
    shown = {p.partition_index: p for p in found.partitions}.get(partition)
    if shown is None:
        return None
    return shown.leader_id, tuple(shown.replica_nodes), tuple(shown.isr_nodes)


def _moved(addresses: list[str], topic: str, replicas: list[int]) -> bool:
    """Every node shows the move done: the target replicas, all in sync, one leading; and
    the controller lists no reassignment under way."""
    for address in addresses:
        shown = _replicas(address, topic)
        if shown is None or shown[1] != tuple(replicas) or set(shown[2]) != set(replicas):
            return False
    return _listed(addresses[0]) == []


def _wait_moved(addresses: list[str], topic: str, replicas: list[int]) -> None:
    wait_until(lambda: _moved(addresses, topic, replicas), f"{topic} on {replicas}")


def _listed(address: str) -> list[tuple[str, int, tuple[int, ...], tuple[int, ...]]]:
    """ListPartitionReassignments of everything: (topic, partition, adding, removing)."""
    with RawClient(address, timeout=10) as client:
        answer = client.call(
            ApiKey.LIST_PARTITION_REASSIGNMENTS, 0, {"timeout": 10_000, "topics": None}
        )
    assert answer.error_code == ErrorCode.none, answer
    return [
        (t.name, p.partition_index, tuple(p.adding_replicas), tuple(p.removing_replicas))
        for t in answer.topics
        for p in t.partitions
    ]


def _alter(
    address: str, topic: str, partition: int, replicas: list[int] | None, timeout_ms: int = 10_000
) -> Any:
    """One partition's answer to AlterPartitionReassignments."""
    target = {"partition_index": partition, "replicas": replicas}
    data = {"timeout": timeout_ms, "topics": [{"name": topic, "partitions": [target]}]}
    with RawClient(address, timeout=timeout_ms / 1000 + 5) as client:
        answer = client.call(ApiKey.ALTER_PARTITION_REASSIGNMENTS, 0, data)
    assert answer.error_code == ErrorCode.none, answer
    ((result,),) = [t.partitions for t in answer.responses]
    return result


def reassign_as_kafka_does(bootstrap: str, kafka_tool: Any, directory: Path) -> None:
    """The steps and what Kafka's tool prints for them (see the module docstring)."""
    addresses = bootstrap.split(",")
    server = ["--bootstrap-server", bootstrap]

    def tool(action: str, plan: Path) -> str:
        done = kafka_tool(
            "kafka-reassign-partitions", [*server, "--reassignment-json-file", str(plan), action]
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return normalise(done.stdout, addresses)

    for topic, before, after in (("moved", [0], [2]), ("grown", [0, 1], [0, 1, 2])):
        assignment = ":".join(map(str, before))
        created = kafka_tool(
            "kafka-topics",
            [*server, "--create", "--topic", topic, "--replica-assignment", assignment],
        )
        assert created.returncode == 0, created.stderr
        _produce(bootstrap, topic)
        plan = _plan(topic, after, directory)
        current = _partition_json(topic, before)
        assert tool("--execute", plan) == EXECUTED.format(current=current, partition=f"{topic}-0")
        _wait_moved(addresses, topic, after)
        assert tool("--verify", plan) == VERIFIED.format(topic=topic, partition=f"{topic}-0")
        expected = [(offset, str(offset).encode()) for offset in range(RECORDS)]
        assert _read(bootstrap, topic) == expected
    assert tool("--cancel", _plan("moved", [1], directory)) == CANCELLED_NOTHING
    moving = directory / "topics.json"
    moving.write_text(json.dumps({"version": 1, "topics": [{"topic": "moved"}]}))
    generated = kafka_tool(
        "kafka-reassign-partitions",
        [*server, "--topics-to-move-json-file", str(moving), "--broker-list", "0,1", "--generate"],
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    current, proposed = generated.stdout.split("\n\n")
    assert current == GENERATED_CURRENT
    assert re.fullmatch(GENERATED_PROPOSAL, proposed), proposed
    for topic, partition, replicas, error, message in REFUSED:
        refused = _alter(addresses[1], topic, partition, replicas)
        assert (refused.error_code, refused.error_message) == (error, message)


def test_reassignment_on_localbroker(
    launcher: Callable[[], Launched], kafka_tool: Any, tmp_path: Path
) -> None:
    launched = launcher()
    addresses = launched.addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    reassign_as_kafka_does(launched.bootstrap, kafka_tool, tmp_path)
    data = tmp_path / "data"

    def deleted() -> bool:
        return not any(p.name.startswith("moved-0") for p in (data / "node-0").iterdir())

    wait_until(deleted, "node 0's moved-0 deleted, renamed copy and all")
    assert (data / "node-2" / "moved-0").is_dir()
    throttled = kafka_tool(
        "kafka-reassign-partitions",
        [
            *("--bootstrap-server", launched.bootstrap, "--execute", "--throttle", "1000000"),
            *("--reassignment-json-file", str(_plan("moved", [1], tmp_path))),
        ],
    )
    # README's differences: no replication throttles yet, so the tool's --throttle is refused
    refusal = "Cannot update these configs dynamically: Set(follower.replication.throttled.rate"
    assert throttled.returncode == 1 and refusal in throttled.stdout, throttled.stdout


def test_reassignment_on_kafka(
    reference_cluster: ReferenceCluster, kafka_tool: Any, tmp_path: Path
) -> None:
    reassign_as_kafka_does(reference_cluster.bootstrap, kafka_tool, tmp_path)


def single_node_answers(bootstrap: str) -> None:
    """A node alone is the only registered broker: a move to itself is accepted (nothing
    changes), any other broker refused, and nothing is ever listed."""
    answer = metadata(bootstrap)
    assert answer is not None
    (node,) = [broker.node_id for broker in answer.brokers]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("alone", 1, 1)])["alone"].result(30)
    wait_until(lambda: _replicas(bootstrap, "alone"), "the topic alone")
    cases: list[tuple[str, int, list[int] | None, ErrorCode, str | None]] = [
        ("alone", 0, [node], ErrorCode.none, None),
        (
            "alone",
            0,
            [node, node + 1],
            ErrorCode.invalid_replica_assignment,
            f"The manual partition assignment includes broker {node + 1}, but no such broker is"
            " registered.",
        ),
        ("alone", 0, None, ErrorCode.no_reassignment_in_progress, None),
        (
            "alone",
            1,
            [node],
            ErrorCode.unknown_topic_or_partition,
            "Unable to find partition alone:1.",
        ),
    ]
    for topic, partition, replicas, error, message in cases:
        refused = _alter(bootstrap, topic, partition, replicas)
        assert (refused.error_code, refused.error_message) == (error, message)
    assert _replicas(bootstrap, "alone") == (node, (node,), (node,))
    assert _listed(bootstrap) == []


def test_a_single_localbroker(broker: Any) -> None:
    single_node_answers(broker.bootstrap)


def test_a_single_kafka_node(reference_kafka: ReferenceKafka) -> None:
    single_node_answers(reference_kafka.bootstrap)


def _shown_everywhere(
    addresses: list[str], topic: str, partition: int, shown: tuple[int, tuple[int, ...], Any]
) -> bool:
    """Every node's Metadata shows (leader, replicas, isr) for the partition; isr None: any."""
    for address in addresses:
        found = _replicas(address, topic, partition)
        if found is None or found[:2] != shown[:2] or shown[2] not in (None, found[2]):
            return False
    return True


def test_a_move_to_a_broker_that_is_down_waits_for_it(
    launcher: Callable[[], Launched], kafka_tool: Any, kwb: Any
) -> None:
    """Node 1 is killed (and fenced); moves onto it are accepted, as Kafka accepts any
    registered broker, and wait: kafka-topics (and kwb) --describe show the replicas being
    added and removed. Partition 0's move is cancelled; partition 1's completes once node
    1 is back, which copies the records from the leader, leads, and node 0 drops its log.
    With two nodes gone no controller answers: REQUEST_TIMED_OUT after the request's timeout."""
    launched = launcher()
    addresses = launched.addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    server = ["--bootstrap-server", addresses[0]]
    created = kafka_tool(
        "kafka-topics", [*server, "--create", "--topic", "waiting", "--replica-assignment", "0,0"]
    )
    assert created.returncode == 0, created.stderr
    for partition in (0, 1):
        _produce(launched.bootstrap, "waiting", partition)
    launched.kill(1)
    live = [addresses[0], addresses[2]]
    wait_until(lambda: agreed(live, {0, 2}), "node 1 fenced")
    assert _alter(addresses[2], "waiting", 0, [0, 1]).error_code == ErrorCode.none
    assert _alter(addresses[2], "waiting", 1, [1]).error_code == ErrorCode.none
    assert _listed(addresses[0]) == [("waiting", 0, (1,), ()), ("waiting", 1, (1,), (0,))]
    wait_until(lambda: _shown_everywhere(live, "waiting", 1, (0, (1, 0), (0,))), "moving")
    describe = [*server, "--describe", "--topic", "waiting"]
    kafka = kafka_tool("kafka-topics", describe)
    ours = kwb("topics", *describe)
    assert (kafka.returncode, ours.returncode) == (0, 0), kafka.stderr + ours.stderr
    assert normalise(kafka.stdout, addresses) == (
        "Topic: waiting\tTopicId: TOPIC-ID\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: \n"
        "\tTopic: waiting\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0\t"
        "Adding Replicas: 1\tRemoving Replicas: \tElr: \tLastKnownElr: \n"
        "\tTopic: waiting\tPartition: 1\tLeader: 0\tReplicas: 1,0\tIsr: 0\t"
        "Adding Replicas: 1\tRemoving Replicas: 0\tElr: \tLastKnownElr: \n"
    )
    assert normalise(ours.stdout, addresses) == normalise(kafka.stdout, addresses)
    assert _alter(addresses[2], "waiting", 0, None).error_code == ErrorCode.none
    assert _listed(addresses[0]) == [("waiting", 1, (1,), (0,))]
    wait_until(lambda: _shown_everywhere(live, "waiting", 0, (0, (0,), (0,))), "cancelled")
    launched.restart(1)
    wait_until(lambda: _shown_everywhere(addresses, "waiting", 1, (1, (1,), (1,))), "moved")
    expected = [(offset, str(offset).encode()) for offset in range(RECORDS)]
    assert _read(launched.bootstrap, "waiting", 1) == expected
    assert _listed(addresses[0]) == []
    node_0 = launched.output.parent / "data" / "node-0"
    wait_until(lambda: not (node_0 / "waiting-1").exists(), "node 0's waiting-1 deleted")
    for node in (1, 2):  # no quorum: no controller answers
        launched.kill(node)
    alone = _alter(addresses[0], "waiting", 0, [2], timeout_ms=2000)
    assert alone.error_code == ErrorCode.request_timed_out
