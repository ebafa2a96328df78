"""The Brokers pane's keys that stop (SIGTERM), kill (-9) and restart the broker under the
cursor: only on the cluster the workbench runs itself (`kwb --brokers N`); on any other they
say why not in plain words, and a broker that cannot start says why, never with a traceback.
"""

from __future__ import annotations

from textual import work
from textual.widget import Widget

from ..host import host_of
from ..local_cluster import ClusterFailed, LocalCluster, NodeState
from ..workbench import Workbench

_UP = (NodeState.RUNNING, NodeState.STARTING)


def own_cluster(workbench: Workbench | None) -> LocalCluster | str:
    """The workbench's own cluster, or the sentence that says why there is none here."""
    if workbench is None:
        return "no cluster here"
    if workbench.profile.embedded and isinstance(workbench.embedded, LocalCluster):
        return workbench.embedded
    if workbench.profile.embedded and workbench.joined is not None:
        return (
            f"these brokers are run by another kwb (pid {workbench.joined.pid}):"
            " stop, kill and restart them there"
        )
    if workbench.profile.embedded:
        return (
            "the workbench runs a single broker here: `kwb --brokers 3` runs a cluster"
            " whose brokers it can stop, kill and restart"
        )
    return (
        f"{workbench.profile.name} is not the workbench's: it stops, kills and restarts only"
        " the brokers it runs (`kwb --brokers 3`)"
    )


class BrokerKeys(Widget):
    """The keys' actions, for the pane that shows the brokers (the pane binds the keys)."""

    def _node_under_cursor(self) -> str | None:
        """The id of the broker under the cursor (None: no row)."""
        raise NotImplementedError

    def _record(self, text: str) -> None:
        """Tell the timeline what the user did or what became of it."""
        raise NotImplementedError

    def _target(self, doing: str) -> tuple[LocalCluster, int] | None:
        """The workbench's cluster and the broker under the cursor, or None having said why
        there is none to `doing` (stop, kill, restart)."""
        own = own_cluster(host_of(self).workbench)
        if isinstance(own, str):
            self.notify(f"cannot {doing} a broker: {own}", title="Brokers", severity="warning")
            return None
        node = self._node_under_cursor()
        if node is None or int(node) not in own.node_ids:
            self.notify(f"no broker of the workbench's to {doing} here", title="Brokers")
            return None
        return own, int(node)

    def action_stop_broker(self) -> None:
        target = self._target("stop")
        if target is not None:
            self._stop_broker(*target)

    def action_kill_broker(self) -> None:
        target = self._target("kill")
        if target is None:
            return
        cluster, node = target
        if cluster.node_state(node) not in _UP:
            self.notify(f"broker {node} is not running", title="Brokers")
            return
        cluster.kill_node(node)
        self._record(f"you killed broker {node} (kill -9)")

    def action_restart_broker(self) -> None:
        target = self._target("restart")
        if target is not None:
            self._restart_broker(*target)

    @work(group="broker-control")
    async def _stop_broker(self, cluster: LocalCluster, node: int) -> None:
        if cluster.node_state(node) not in _UP:
            self.notify(f"broker {node} is not running", title="Brokers")
            return
        self._record(f"you stopped broker {node} (SIGTERM)")
        try:
            await cluster.stop_node(node)
        except OSError as exc:
            self.notify(f"broker {node} did not stop: {exc}", title="Brokers", severity="error")
            return
        self._record(f"broker {node} stopped")

    @work(group="broker-control")
    async def _restart_broker(self, cluster: LocalCluster, node: int) -> None:
        self._record(f"you restarted broker {node}")
        try:
            await cluster.stop_node(node)
            await cluster.start_node(node)
        except (ClusterFailed, OSError) as exc:
            self._record(f"broker {node} did not start")
            self.notify(f"broker {node} did not start: {exc}", title="Brokers", severity="error")
            return
        self._record(f"broker {node} is up")
