"""The workbench's own cluster (`kwb --brokers N`, issue 18 deliverable 4): N localbroker
nodes as child processes, each stopped, killed and started again by the workbench, which
tells which it did; never left behind by a `kwb` killed with -9."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from waiting import gone, wait_until_async

from tui.broker_process import RUNNING_FILE
from tui.embedded import RunningBroker
from tui.local_cluster import ClusterFailed, LocalCluster, NodeState, open_cluster

pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("cluster")]


async def test_nodes_are_stopped_killed_and_started_again(local_cluster: LocalCluster) -> None:
    """Mutation check: with kill_node sending SIGTERM, or node_state not telling a kill from
    a stop or an exit nobody asked for, this fails."""
    assert [local_cluster.node_state(n) for n in local_cluster.node_ids] == [NodeState.RUNNING] * 3
    notices: list[str] = []
    local_cluster.follow_notices(notices.append)

    killed = local_cluster.pids[1]
    local_cluster.kill_node(1)
    assert local_cluster.node_state(1) is NodeState.KILLED
    await wait_until_async(lambda: gone(killed), f"node 1 (pid {killed}) to end")
    await local_cluster.start_node(1)
    assert local_cluster.node_state(1) is NodeState.RUNNING and local_cluster.pids[1] != killed

    await local_cluster.stop_node(2)
    assert local_cluster.node_state(2) is NodeState.STOPPED
    await local_cluster.start_node(2)
    assert local_cluster.node_state(2) is NodeState.RUNNING

    os.kill(local_cluster.pids[0], signal.SIGKILL)  # a crash the workbench did not ask for
    await wait_until_async(lambda: local_cluster.node_state(0) is NodeState.EXITED, "node 0 exited")
    await wait_until_async(lambda: notices, "a notice that node 0 ended")
    assert notices == ["node 0 was killed by SIGKILL"]
    assert not any("node 1" in notice or "node 2" in notice for notice in notices)


async def test_a_second_workbench_joins_the_cluster(local_cluster: LocalCluster) -> None:
    """Mutation check: without the record written (or read back with its broker count), the
    second would start nodes of its own on the same directory: this fails."""
    record = json.loads((local_cluster.data_dir / RUNNING_FILE).read_text())
    assert record["brokers"] == 3 and record["bootstrap"] == local_cluster.bootstrap
    joined = await open_cluster(local_cluster.data_dir, 3)
    assert joined == RunningBroker(os.getpid(), local_cluster.bootstrap, None, 3)
    pids = local_cluster.pids.values()
    await local_cluster.close()
    assert all(gone(pid) for pid in pids)
    assert not (local_cluster.data_dir / RUNNING_FILE).exists()
    assert [local_cluster.node_state(n) for n in local_cluster.node_ids] == [NodeState.STOPPED] * 3


async def test_a_node_that_cannot_start_says_why(local_cluster: LocalCluster) -> None:
    """Mutation check: without the node's last log line in ClusterFailed, this fails."""
    await local_cluster.stop_node(2)
    meta = local_cluster.data_dir / "node-2" / "meta.properties"
    meta.write_text(meta.read_text().replace("node.id=2", "node.id=7"))
    with pytest.raises(ClusterFailed) as failed:
        await local_cluster.start_node(2)
    assert str(failed.value).startswith("node 2 exited with status 1: localbroker: ")
    assert "belongs to node.id=7" in str(failed.value)
    assert local_cluster.node_state(2) is NodeState.EXITED


async def test_a_cluster_that_fails_to_start_leaves_anothers_record(tmp_path: Path) -> None:
    """Node 2's directory names another node: the start fails, the nodes started are
    stopped, and the record another workbench wrote stays. Mutation check: with close()
    removing the record whoever wrote it, this fails."""
    data_dir = tmp_path / "cluster"
    (data_dir / "node-2").mkdir(parents=True)
    (data_dir / "node-2" / "meta.properties").write_text("node.id=7\nversion=1\n")
    record = data_dir / RUNNING_FILE
    record.write_text('{"pid": 1, "bootstrap": "127.0.0.1:1", "brokers": 3}')
    with pytest.raises(ClusterFailed, match="node 2 exited"):
        await LocalCluster.start(data_dir, brokers=3)
    assert record.exists()
