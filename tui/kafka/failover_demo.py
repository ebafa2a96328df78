"""The engine of `kwb demo failover`: a replicated topic on a local cluster, a producer and a
consumer running, the partition's leader killed and restarted, and what clients can see of it.

What the cluster does is read the way any client reads it: from the workbench's snapshots
(Metadata: brokers, each partition's leader and ISR), handed in through `observe`, whose
differences (cluster_events.cluster_changes) become the timeline. What the clients do is in the
ledger (failover_ledger.py), counted by record id. The nodes are the workbench's own processes
(`Nodes`: tui/local_cluster.LocalCluster), killed with SIGKILL and started again on their data.

No Textual here: the story's conditions read this engine, and tests drive it without a screen.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from localbroker.public import ErrorCode

from .admin import KafkaAdmin
from .cluster import ClusterSnapshot, PartitionStats
from .cluster_events import ChangeKind, cluster_changes, timeline_kind
from .connection import Connection
from .demo_events import TimelineEntry, wall_ms
from .elections import elect_preferred_leaders
from .errors import KafkaToolError
from .failover_ledger import FailoverLedger, Tally, by_error
from .failover_traffic import FailoverTraffic

PARTITION = 0
TOPIC_TIMEOUT_S = 30.0
"""How long the cluster may take to accept the topic (every broker registered)."""
SETTLE_IDLE_S = 10.0
"""Once the producer has stopped: seconds without a new record after which the consumer is
taken to have read all it will, and what it has not read counts as lost."""
RETRY_NOTE_S = 2.0
"""At most one timeline line of the producer's retries this often."""


class Nodes(Protocol):
    """What the demo needs of the cluster's processes (tui/local_cluster.LocalCluster)."""

    @property
    def node_ids(self) -> tuple[int, ...]: ...

    def node_state(self, node_id: int) -> enum.Enum: ...

    def kill_node(self, node_id: int) -> None: ...

    async def start_node(self, node_id: int) -> None:
        """Start the node on its data; OSError if it cannot."""
        ...


@dataclass(frozen=True, slots=True)
class FailoverSettings:
    topic: str = "demo-payments"
    group_id: str = "demo-failover"
    rate: float = 20.0
    """Records a second the producer sends."""
    replication_factor: int = 3
    min_insync_replicas: int = 2
    broker_session_timeout_ms: int = 9000
    """What the cluster's nodes were started with (Kafka's default: 9000): how long the
    controller waits for a killed broker's heartbeat before it fences the broker."""
    broker_heartbeat_interval_ms: int = 2000
    """How often each broker heartbeats to the controller (Kafka's default: 2000)."""

    @property
    def broker_config(self) -> dict[str, str]:
        """The nodes' settings these stand for."""
        return {
            "broker.session.timeout.ms": str(self.broker_session_timeout_ms),
            "broker.heartbeat.interval.ms": str(self.broker_heartbeat_interval_ms),
        }


@dataclass(frozen=True, slots=True)
class NodeRow:
    node_id: int
    state: str
    """The process: running, killed, starting ... (tui/local_cluster.NodeState)."""
    registered: bool
    """Listed in Metadata (a fenced or stopped broker is not)."""
    role: str
    """The node's replica of the demo partition: leader, follower, or out of sync."""


@dataclass(frozen=True, slots=True)
class FailoverView:
    """Everything the demo's screen shows, at one moment (fixed data in snapshot tests)."""

    settings: FailoverSettings
    nodes: tuple[NodeRow, ...]
    leader: int | None
    """The partition's leader (-1: none), None before the first snapshot with the topic."""
    isr: tuple[int, ...]
    log_end: int
    tally: Tally
    retried: tuple[tuple[str, int], ...]
    """The producer's retries by error, most first."""
    timeline: tuple[TimelineEntry, ...]
    started_ms: int


class FailoverDemo:
    def __init__(
        self, connection: Connection, nodes: Nodes, settings: FailoverSettings | None = None
    ) -> None:
        self.settings = settings or FailoverSettings()
        self.nodes = nodes
        self.ledger = FailoverLedger()
        self.timeline: list[TimelineEntry] = []
        self.started_ms = wall_ms()
        self.snapshot: ClusterSnapshot | None = None
        self.killed: int | None = None
        """The node the demo killed (until it is back in the ISR)."""
        self.first_after_kill: int | None = None
        """The id of the first record sent after the kill."""
        self.moved = False
        """The partition's leader moved after the kill, to a replica that was in sync."""
        self._connection = connection
        self._noted_retries: Counter[str] = Counter()
        self._retries_noted_at = float("-inf")
        self.traffic = FailoverTraffic(
            connection,
            self.settings.topic,
            self.settings.group_id,
            self.settings.rate,
            self.ledger,
            self.note,
        )

    # -- what the story does ------------------------------------------------------------------

    async def start(self) -> None:
        """Create the topic (once the cluster accepts it) and start the clients."""
        s = self.settings
        self.note(
            "action",
            f"demo starts: topic {s.topic} (1 partition, replication factor"
            f" {s.replication_factor}, min.insync.replicas {s.min_insync_replicas}), a producer"
            f" with acks=all sending {s.rate:g} records/s, a consumer in group {s.group_id}",
        )
        await self._create_topic()
        await self.traffic.start()

    async def _create_topic(self) -> None:
        """Create the topic, asking again (with a new client: one that met the cluster before
        its brokers registered keeps a metadata with none) until the cluster can place
        `replication_factor` replicas or TOPIC_TIMEOUT_S has passed."""
        s = self.settings
        deadline = time.monotonic() + TOPIC_TIMEOUT_S
        configs = {"min.insync.replicas": str(s.min_insync_replicas)}
        while True:
            try:
                async with KafkaAdmin(self._connection) as admin:
                    await admin.create_topic(s.topic, 1, s.replication_factor, configs)
                return
            except KafkaToolError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def kill_leader(self) -> None:
        leader = self.partition_leader
        if leader is None or leader < 0:
            self.note("error", "the partition has no leader to kill")
            return
        self.nodes.kill_node(leader)
        self.killed = leader
        self.moved = False
        self.first_after_kill = self.ledger.sent
        self.note(
            "action",
            f"node {leader}, the partition's leader, killed with SIGKILL: no goodbye to the"
            f" controller, which notices after broker.session.timeout.ms"
            f" ({self.settings.broker_session_timeout_ms} ms) without a heartbeat",
        )

    async def restart_killed(self) -> None:
        if self.killed is None:
            return
        self.note("action", f"node {self.killed} starts again on its data")
        try:
            await self.nodes.start_node(self.killed)
        except OSError as exc:  # LocalCluster's ClusterFailed: the story goes on without it
            self.note("error", f"node {self.killed} did not start again: {exc}")

    async def elect_preferred(self) -> None:
        """ElectLeaders PREFERRED for the demo's partition: its first replica leads again
        (the killed node, when it was that replica), or no election is needed."""
        partition = self.partition
        if partition is None or not partition.replicas:
            self.note("error", "the partition is not known: no election asked for")
            return
        preferred, where = partition.replicas[0], f"{self.settings.topic}-{PARTITION}"
        self.note(
            "action", f"ElectLeaders PREFERRED for {where}: node {preferred} is its first replica"
        )
        try:
            async with KafkaAdmin(self._connection) as admin:
                results = await elect_preferred_leaders(admin, {self.settings.topic: [PARTITION]})
        except KafkaToolError as exc:
            self.note("error", f"preferred leader election failed: {exc}")
            return
        for result in results:
            if result.error == ErrorCode.election_not_needed:
                self.note("settled", f"no election needed: node {preferred} leads {where} already")
            elif result.elected:
                self.note("action", f"node {preferred} elected leader of {where} again")
            else:
                self.note("error", result.text)

    async def finish(self) -> None:
        """Stop the producer, let the consumer read what is left (bounded), then settle the
        ledger: what was acknowledged and not read is lost."""
        await self.traffic.stop_producing()
        stopped = time.monotonic()
        self.note("action", f"the producer stops: {len(self.ledger.acknowledged)} acknowledged")
        while self.ledger.unconsumed:
            if time.monotonic() - max(self.traffic.last_read_at, stopped) > SETTLE_IDLE_S:
                break
            await asyncio.sleep(0.1)
        self.ledger.settle()
        lost = len(self.ledger.unconsumed)
        self.note(
            "lost" if lost else "settled",
            f"{len(self.ledger.acknowledged)} acknowledged, {len(self.ledger.offsets)} consumed:"
            f" {lost} lost",
        )

    async def close(self) -> None:
        await self.traffic.close()

    # -- what the cluster shows ---------------------------------------------------------------

    def observe(self, snapshot: ClusterSnapshot) -> None:
        """A new snapshot of the cluster: its changes onto the timeline."""
        previous, self.snapshot = self.snapshot, snapshot
        if previous is None:
            return
        for change in cluster_changes(previous, snapshot):
            if change.topic not in (None, self.settings.topic):
                continue  # __consumer_offsets' partitions move too: not this story
            self.note(timeline_kind(change), change.text)
            if (
                change.kind is ChangeKind.LEADER_MOVED
                and self.killed is not None
                and change.after not in (None, -1, self.killed)
            ):
                self.moved = True

    def note_retries(self, now: float | None = None) -> None:
        """The producer's retries since the last such line onto the timeline, a line every
        RETRY_NOTE_S at most: called often (the screen's refresh), while the cluster cannot
        be snapshotted (its leader dead, not yet fenced) as much as after."""
        now = time.monotonic() if now is None else now
        new = self.ledger.retried - self._noted_retries
        if not new or now - self._retries_noted_at < RETRY_NOTE_S:
            return
        self._noted_retries = Counter(self.ledger.retried)
        self._retries_noted_at = now
        self.note(
            "retry",
            f"the producer retried {new.total()} produce requests ({by_error(new.most_common())})",
        )

    def note(self, kind: str, text: str) -> None:
        self.timeline.append(TimelineEntry(wall_ms(), kind, text))

    @property
    def partition(self) -> PartitionStats | None:
        topic = self.snapshot.topic(self.settings.topic) if self.snapshot is not None else None
        if topic is None or not topic.partitions:
            return None
        return topic.partitions[PARTITION]

    @property
    def partition_leader(self) -> int | None:
        partition = self.partition
        return None if partition is None else partition.leader

    # -- the story's conditions ---------------------------------------------------------------

    def fully_replicated(self) -> bool:
        partition = self.partition
        return (
            partition is not None
            and partition.leader >= 0
            and len(partition.isr) == self.settings.replication_factor
        )

    def flowing(self, records: int = 20) -> bool:
        """The producer has records acknowledged and the consumer has read some."""
        tally = self.ledger.tally()
        return tally.acknowledged >= records and tally.consumed >= records

    def failed_over(self) -> bool:
        """A new leader from the ISR, the killed node out of it, and a record sent after the
        kill acknowledged."""
        partition = self.partition
        return (
            self.moved
            and partition is not None
            and self.killed not in partition.isr
            and self._after_kill(self.ledger.acknowledged)
        )

    def consumed_after_kill(self) -> bool:
        return self._after_kill(self.ledger.offsets.keys())

    def rejoined(self) -> bool:
        partition = self.partition
        return partition is not None and self.killed in partition.isr

    def preferred_leads(self) -> bool:
        """The partition's first replica (its preferred leader) leads it."""
        partition = self.partition
        return (
            partition is not None
            and bool(partition.replicas)
            and partition.leader == partition.replicas[0]
        )

    def _after_kill(self, ids: Iterable[int]) -> bool:
        first = self.first_after_kill
        return first is not None and any(i >= first for i in ids)

    # -- the screen ---------------------------------------------------------------------------

    def view(self) -> FailoverView:
        partition = self.partition
        registered = {b.node_id for b in self.snapshot.cluster.brokers} if self.snapshot else set()
        rows = []
        for node_id in self.nodes.node_ids:
            if partition is None:
                role = "-"
            elif partition.leader == node_id:
                role = "leader"
            elif node_id in partition.isr:
                role = "follower"
            else:
                role = "out of sync"
            state = str(self.nodes.node_state(node_id).value)
            rows.append(NodeRow(node_id, state, node_id in registered, role))
        return FailoverView(
            self.settings,
            tuple(rows),
            None if partition is None else partition.leader,
            () if partition is None else partition.isr,
            0 if partition is None else partition.latest,
            self.ledger.tally(),
            tuple(self.ledger.retried.most_common()),
            tuple(self.timeline),
            self.started_ms,
        )
