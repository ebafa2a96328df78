"""Which broker the workbench names the controller on Apache Kafka's three KRaft nodes: the
metadata quorum's leader, as `kafka-metadata-quorum.sh describe --status` does. Metadata's
controller_id names a random live broker in KRaft, so the Brokers pane's timeline would tell
a "controller moved" at nearly every snapshot."""

from __future__ import annotations

import pytest
from reference_cluster import ReferenceCluster

from tui.kafka.admin import KafkaAdmin
from tui.kafka.cluster import ClusterSnapshot, active_controller, take_snapshot
from tui.kafka.connection import from_properties

pytestmark = [pytest.mark.timeout(180)]
SNAPSHOTS = 8


async def test_the_controller_is_the_quorum_leader(reference_cluster: ReferenceCluster) -> None:
    """Mutation check: with take_snapshot keeping Metadata's controller_id, the snapshots
    name another broker (chance (1/3)^8 of all naming the leader): this fails."""
    async with KafkaAdmin(from_properties(reference_cluster.bootstrap, {})) as admin:
        leader = await active_controller(admin)
        snapshot: ClusterSnapshot | None = None
        named = set()
        for _ in range(SNAPSHOTS):
            snapshot = await take_snapshot(admin, snapshot)
            named.add(snapshot.cluster.controller_id)
    assert leader in {node.node_id for node in snapshot.cluster.brokers}
    assert named == {leader}
