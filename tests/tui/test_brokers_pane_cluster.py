"""The Brokers pane on the workbench's own cluster (issue 18, deliverable 4): a broker killed
with its key, seen killed, its leadership moved and the ISRs shrunk; restarted with its key,
seen back and the ISRs grown again; all of it in the timeline. On another cluster the keys
say why they cannot."""

from __future__ import annotations

import pytest
from brokers import listening
from textual.pilot import Pilot
from textual.widgets import DataTable
from workbench_pilot import SIZE, external_app, wait_connected, wait_until, workbench_app

from tui.app import WorkbenchApp
from tui.kafka.admin import KafkaAdmin
from tui.kafka.cluster import ClusterSnapshot, PartitionStats
from tui.kafka.connection import from_properties
from tui.local_cluster import LocalCluster, NodeState
from tui.widgets.brokers_pane import BrokersPane
from tui.widgets.cluster_view import ClusterView

pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("cluster")]
TOPIC = "orders"


def cells(app: WorkbenchApp, table_id: str, key: str) -> list[str]:
    table = app.query_one(f"#{table_id}", DataTable)
    if key not in table.rows:
        return []
    return [str(cell) for cell in table.get_row(key)]


def isr(snapshot: ClusterSnapshot | None) -> dict[int, tuple[int, ...]]:
    topic = snapshot.topic(TOPIC) if snapshot is not None else None
    return {p.partition: p.isr for p in topic.partitions} if topic is not None else {}


def partitions(snapshot: ClusterSnapshot | None) -> list[PartitionStats]:
    topic = snapshot.topic(TOPIC) if snapshot is not None else None
    return list(topic.partitions) if topic is not None else []


def timeline(app: WorkbenchApp) -> str:
    return "\n".join(entry.text for entry in app.query_one(ClusterView).entries)


async def orders_in_sync(pilot: Pilot[object], app: WorkbenchApp) -> KafkaAdmin:
    """Once connected, `orders` created (three partitions, three replicas each) and every
    replica in sync: the app's admin client."""
    await wait_connected(pilot, app)
    admin = app.admin
    assert admin is not None
    await admin.create_topic(TOPIC, 3, 3)
    app.refresh_cluster()
    await wait_until(
        pilot,
        lambda: (
            len(isr(app.snapshot)) == 3 and all(len(r) == 3 for r in isr(app.snapshot).values())
        ),
        "every partition of orders with three replicas in sync",
    )
    return admin


async def test_kill_restart_and_elect_preferred_leaders_with_the_keys(
    local_cluster: LocalCluster,
) -> None:
    """Back in every ISR, the restarted broker leads nothing until `e` elects the preferred
    replicas: then it leads its partitions again. Mutation checks: with `x` bound to stop
    instead of kill (the state says stopped), the timeline not told the changes between
    snapshots (cluster_changes returning []), or ElectLeaders sent as UNCLEAN (every
    partition has a leader: nothing to elect), this fails."""
    app = workbench_app(local_cluster)
    async with app.run_test(size=SIZE) as pilot:
        await orders_in_sync(pilot, app)
        pane = app.query_one(BrokersPane)
        assert app.query_one(ClusterView).display
        snapshot = app.snapshot
        assert snapshot is not None
        victim = snapshot.topic(TOPIC).partitions[0].leader  # type: ignore[union-attr]
        nodes = app.query_one("#nodes", DataTable)
        nodes.focus()
        nodes.move_cursor(row=nodes.get_row_index(str(victim)))
        await wait_until(pilot, lambda: cells(app, "nodes", str(victim))[2] == "online", "online")

        await pilot.press("x")
        await wait_until(
            pilot,
            lambda: cells(app, "nodes", str(victim))[2] == "killed",
            f"broker {victim} shown killed",
        )
        assert local_cluster.node_state(victim) is NodeState.KILLED
        await wait_until(
            pilot,
            lambda: (
                all(
                    victim not in replicas and len(replicas) == 2
                    for replicas in isr(app.snapshot).values()
                )
                and cells(app, "partitions", f"{TOPIC}-0")[1] not in (str(victim), "none")
            ),
            f"leadership moved off broker {victim} and every ISR shrunk to two",
            timeout=30,
        )
        assert cells(app, "partitions", f"{TOPIC}-0")[4] == "under-replicated"
        said = timeline(app)
        assert f"you killed broker {victim} (kill -9)" in said
        assert f"{TOPIC}-0 leader {victim} →" in said
        assert f"{TOPIC}-0 ISR" in said

        await pilot.press("u")
        await wait_until(
            pilot,
            lambda: cells(app, "nodes", str(victim))[2] == "online",
            f"broker {victim} back online",
            timeout=30,
        )
        await wait_until(
            pilot,
            lambda: all(len(replicas) == 3 for replicas in isr(app.snapshot).values()),
            f"broker {victim} back in every ISR",
            timeout=30,
        )
        await wait_until(pilot, lambda: cells(app, "partitions", f"{TOPIC}-0")[4] == "", "mark")
        said = timeline(app)
        assert f"broker {victim} is up" in said
        assert f"broker {victim} joined the cluster" in said
        assert "ISR expanded" in said or f"{TOPIC}-0 ISR" in said.split("is up")[-1]
        assert cells(app, "partitions", f"{TOPIC}-0")[1] != str(victim)

        await pilot.press("e")
        await wait_until(
            pilot,
            lambda: all(p.leader == p.replicas[0] for p in partitions(app.snapshot)),
            "every partition of orders led by its preferred replica",
            timeout=30,
            showing=lambda: f"{partitions(app.snapshot)}\n{timeline(app)}",
        )
        await wait_until(
            pilot, lambda: "preferred leader elected on" in timeline(app), "the election told"
        )
        told = timeline(app).split("preferred leaders on every partition")[-1]
        assert f"{TOPIC}-0" in told
        assert cells(app, "partitions", f"{TOPIC}-0")[1] == str(victim)
        assert pane.query_one("#cluster-facts").render()  # drawn, no traceback


async def test_a_killed_leader_leaves_the_workbench_connected(
    local_cluster: LocalCluster,
) -> None:
    """Until the controller fences a killed broker, Metadata still names it leader, and a
    snapshot's requests to it fail: the workbench stays connected with the same admin client
    (connecting again after each failed snapshot left it none for seconds: `e` right after a
    restart could find none), keeps taking snapshots, and shows the new leaders. A request
    for any broker goes to a live one. Mutation checks: with a snapshot failing whole when
    one leader is out of reach and the monitor connecting again after each failed snapshot,
    or with a request for any broker sent to a random one of the client's metadata (a third
    of them to the dead one), this fails."""
    app = workbench_app(local_cluster)
    async with app.run_test(size=SIZE) as pilot:
        admin = await orders_in_sync(pilot, app)
        statuses: list[str] = []
        app.watch(
            app, "status", lambda s: statuses.append(f"{s.connected} {s.message}"), init=False
        )
        victim = partitions(app.snapshot)[0].leader
        async with KafkaAdmin(from_properties(local_cluster.bootstrap, {})) as fresh:
            await fresh.api_versions()  # its metadata: every broker
            local_cluster.kill_node(victim)
            address = local_cluster.bootstrap.split(",")[victim]
            await wait_until(
                pilot, lambda: not listening(address), f"broker {victim}'s port closed"
            )
            answered = [await fresh.api_versions() for _ in range(12)]
        assert all(answered)
        await wait_until(
            pilot,
            lambda: all(p.leader not in (victim, -1) for p in partitions(app.snapshot)),
            f"leadership moved off broker {victim}",
            timeout=30,
            showing=lambda: "\n".join(statuses),
        )
        assert app.admin is admin
        assert all(status.startswith("True") for status in statuses), statuses


async def test_the_keys_say_why_not_on_an_external_cluster(local_cluster: LocalCluster) -> None:
    """Mutation check: with the workbench's kind of cluster not checked (own_cluster
    returning the cluster whatever it is), `x` kills a node here: this fails."""
    app = external_app(local_cluster.bootstrap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        app.query_one("#nodes", DataTable).focus()
        await wait_until(pilot, lambda: app.query_one("#nodes", DataTable).row_count == 3, "rows")
        await pilot.press("x")
        await wait_until(
            pilot,
            lambda: any("not the workbench's" in str(n.message) for n in app._notifications),
            "the reason the key cannot kill",
        )
    assert [local_cluster.node_state(n) for n in local_cluster.node_ids] == [NodeState.RUNNING] * 3


async def test_a_broker_that_cannot_start_says_why(local_cluster: LocalCluster) -> None:
    """`s` stops a broker; `u` cannot start it again (its directory names another node):
    the pane says the node's own words, no traceback. Mutation check: with ClusterFailed
    not caught in the restart, the worker's error ends the app: this fails."""
    app = workbench_app(local_cluster)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        nodes = app.query_one("#nodes", DataTable)
        nodes.focus()
        await wait_until(pilot, lambda: nodes.row_count == 3, "three brokers")
        nodes.move_cursor(row=nodes.get_row_index("2"))
        await pilot.press("s")
        await wait_until(pilot, lambda: cells(app, "nodes", "2")[2] == "stopped", "stopped")
        meta = local_cluster.data_dir / "node-2" / "meta.properties"
        meta.write_text(meta.read_text().replace("node.id=2", "node.id=7"))
        await pilot.press("u")
        await wait_until(
            pilot,
            lambda: any("belongs to node.id=7" in str(n.message) for n in app._notifications),
            "the node's reason in a notification",
            timeout=30,
        )
        assert "broker 2 did not start" in timeline(app)
        assert cells(app, "nodes", "2")[2] == "exited"
        assert app.is_running
