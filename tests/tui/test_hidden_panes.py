"""A pane behind another tab draws nothing, and draws the snapshot it missed when it comes
forward; what it must not miss meanwhile (the Brokers pane's timeline) it still follows.

With 10,000 partitions the hidden Brokers pane's table took a seventh of the UI loop while
the user typed in the Topics pane (bench/scale.py --parts tui). No broker runs here: the
snapshots are fixed and handed on as the workbench hands them, so nothing but the tab switch
can bring the missed one.
"""

from __future__ import annotations

import dataclasses

from snapshot_host import PaneHost, fixed_snapshot
from textual.app import ComposeResult
from textual.widgets import DataTable, TabbedContent, TabPane
from workbench_pilot import wait_until

from tui.kafka.cluster import ClusterSnapshot
from tui.kafka.models import BrokerNode
from tui.widgets.brokers_pane import BrokersPane
from tui.widgets.cluster_view import ClusterView
from tui.widgets.footer import WorkbenchFooter
from tui.widgets.list_table import ListTable
from tui.widgets.topics_pane import TopicsPane


class TwoTabs(PaneHost):
    """The Topics pane in front, the Brokers pane behind it."""

    def __init__(self) -> None:
        super().__init__(TopicsPane(), focus="#topic-list")
        self.brokers = BrokersPane()

    def compose(self) -> ComposeResult:
        with TabbedContent(id="panes"):
            with TabPane("Topics", id="topics"):
                yield self._pane
            with TabPane("Brokers", id="brokers"):
                yield self.brokers
        yield WorkbenchFooter()


def with_a_second_broker(snapshot: ClusterSnapshot) -> ClusterSnapshot:
    """A broker joined and took over as controller: two lines in the timeline."""
    cluster = dataclasses.replace(
        snapshot.cluster,
        controller_id=2,
        brokers=(*snapshot.cluster.brokers, BrokerNode(2, "localhost", 9093)),
    )
    return dataclasses.replace(snapshot, taken_at=snapshot.taken_at + 1, cluster=cluster)


async def test_a_pane_behind_draws_what_it_missed_when_it_comes_forward() -> None:
    """Mutation check: with every pane drawing every snapshot, the Brokers pane's table is
    filled while behind; without the redraw on Show, it stays empty in front; without
    `follow`, the timeline misses the broker that joined."""
    app = TwoTabs()
    async with app.run_test(size=(120, 36)) as pilot:
        topics = app.query_one("#topic-list", ListTable)
        await wait_until(pilot, lambda: topics.row_count > 0, "the topics in front")
        app.snapshot = with_a_second_broker(fixed_snapshot())
        nodes = app.brokers.query_one("#nodes", DataTable)
        await pilot.pause()
        assert nodes.row_count == 0  # behind: nothing drawn
        told = [entry.text for entry in app.brokers.query_one(ClusterView).entries]
        assert any("broker 2" in line for line in told), told
        app.query_one("#panes", TabbedContent).active = "brokers"
        await wait_until(pilot, lambda: nodes.row_count == 2, "both brokers drawn")
