"""The failover demo's engine fed fixed snapshots and fake nodes (no cluster): which node it
kills, what reaches the timeline, when the story may say the partition failed over, and what
the screen is told of each node."""

from __future__ import annotations

import asyncio
import enum

from tui.kafka.cluster import ClusterSnapshot, PartitionStats, TopicStats
from tui.kafka.connection import from_properties
from tui.kafka.failover_demo import FailoverDemo
from tui.kafka.models import BrokerNode, ClusterInfo

TOPIC = "demo-payments"


class State(enum.Enum):
    RUNNING = "running"
    KILLED = "killed"


class FakeNodes:
    def __init__(self) -> None:
        self.states = {n: State.RUNNING for n in self.node_ids}

    @property
    def node_ids(self) -> tuple[int, ...]:
        return (0, 1, 2)

    def node_state(self, node_id: int) -> enum.Enum:
        return self.states[node_id]

    def kill_node(self, node_id: int) -> None:
        self.states[node_id] = State.KILLED

    async def start_node(self, node_id: int) -> None:
        self.states[node_id] = State.RUNNING


def snapshot(
    leader: int, isr: tuple[int, ...], brokers: tuple[int, ...], offsets_leader: int = 0
) -> ClusterSnapshot:
    def topic(name: str, partition_leader: int, partition_isr: tuple[int, ...]) -> TopicStats:
        stats = PartitionStats(0, partition_leader, (1, 2, 0), partition_isr, 0, 10, None)
        return TopicStats(name, "A" * 22, name.startswith("__"), 3, (stats,))

    info = ClusterInfo("c", 0, tuple(BrokerNode(n, "127.0.0.1", 9092 + n) for n in brokers))
    topics = (topic("__consumer_offsets", offsets_leader, isr), topic(TOPIC, leader, isr))
    return ClusterSnapshot(0.0, info, topics)


def demo_with(nodes: FakeNodes) -> FailoverDemo:
    return FailoverDemo(from_properties("127.0.0.1:9", {}), nodes)


def test_the_leader_is_killed_and_its_move_and_the_shrunk_isr_reach_the_timeline() -> None:
    nodes = FakeNodes()
    demo = demo_with(nodes)
    demo.observe(snapshot(1, (1, 2, 0), (0, 1, 2), offsets_leader=1))
    assert demo.fully_replicated()
    for _ in range(3):
        demo.ledger.acknowledge(demo.ledger.next_id())
    asyncio.run(demo.kill_leader())
    assert nodes.states[1] is State.KILLED and demo.killed == 1
    demo.observe(snapshot(2, (2, 0), (0, 2), offsets_leader=2))
    texts = [entry.text for entry in demo.timeline]
    assert "broker 1 left the cluster" in texts
    assert f"{TOPIC}-0 leader 1 → 2" in texts
    assert f"{TOPIC}-0 ISR [1,2,0] → [2,0]" in texts
    assert not any("__consumer_offsets" in text for text in texts)
    assert not demo.failed_over(), "no record sent after the kill was acknowledged yet"
    demo.ledger.acknowledge(demo.ledger.next_id())
    assert demo.failed_over()

    rows = {row.node_id: (row.state, row.registered, row.role) for row in demo.view().nodes}
    assert rows == {
        0: ("running", True, "follower"),
        1: ("killed", False, "out of sync"),
        2: ("running", True, "leader"),
    }


def test_a_leader_that_goes_nowhere_is_not_a_failover() -> None:
    """A partition whose leader drops to none (no replica in sync can lead) has not failed
    over: the story must not say a follower took over."""
    demo = demo_with(FakeNodes())
    demo.observe(snapshot(1, (1, 2, 0), (0, 1, 2)))
    asyncio.run(demo.kill_leader())
    demo.ledger.acknowledge(demo.ledger.next_id())
    demo.observe(snapshot(-1, (1,), (0, 2)))
    assert f"{TOPIC}-0 leader 1 → none" in [entry.text for entry in demo.timeline]
    assert not demo.moved and not demo.failed_over()


def test_a_node_that_does_not_start_again_is_told_and_the_story_goes_on() -> None:
    class Failing(FakeNodes):
        async def start_node(self, node_id: int) -> None:
            raise OSError(f"node {node_id} was not up after 30 s")

    demo = demo_with(Failing())
    demo.observe(snapshot(1, (1, 2, 0), (0, 1, 2)))
    asyncio.run(demo.kill_leader())
    asyncio.run(demo.restart_killed())
    assert demo.timeline[-1].kind == "error"
    assert demo.timeline[-1].text == "node 1 did not start again: node 1 was not up after 30 s"


def test_the_producers_retries_reach_the_timeline_a_line_every_few_seconds() -> None:
    """Retries go on for as long as the dead leader is not fenced, when no snapshot can be
    taken: they are told as they come, summed, not one line per retry nor only once the
    cluster answers again."""
    demo = demo_with(FakeNodes())
    demo.note_retries(now=100.0)
    assert demo.timeline == []
    demo.ledger.retry("NodeNotReadyError")
    demo.note_retries(now=100.0)
    demo.ledger.retry("NodeNotReadyError")
    demo.ledger.retry("NOT_LEADER_OR_FOLLOWER")
    demo.note_retries(now=101.0)  # too soon after the last line: kept for the next
    demo.ledger.retry("NOT_LEADER_OR_FOLLOWER")
    demo.note_retries(now=102.5)
    assert [entry.text for entry in demo.timeline] == [
        "the producer retried 1 produce requests (NodeNotReadyError: 1)",
        "the producer retried 3 produce requests (NOT_LEADER_OR_FOLLOWER: 2, NodeNotReadyError: 1)",
    ]
