"""What every workbench pane shares: its host, the cluster it follows, where its tab focuses.

The app no longer reaches into its panes (it used to call `show` on each with every snapshot,
found by `getattr`) and the panes no longer reach into the app: a pane watches its host's
`snapshot` itself, asks the host (tui.host.Host) for what it needs, and posts `ClusterChanged`
up when it changed the cluster. The app only reads `focus_default`, declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.containers import Vertical
from textual.events import Mount, Show
from textual.message import Message
from textual.widget import Widget

from ..host import Host, host_of
from ..kafka.admin import KafkaAdmin
from ..kafka.cluster import ClusterSnapshot


class Pane(Vertical):
    """A tab's whole content. Override `show` to follow the cluster's snapshots and
    `focus_default` to choose where the tab puts the focus."""

    _unshown: ClusterSnapshot | None = None
    """The latest snapshot while the pane was behind another (drawn when it comes back)."""

    class ClusterChanged(Message):
        """The pane changed the cluster (created, deleted or grew a topic): the host takes a
        fresh snapshot now rather than at its next poll."""

    class BringForward(Message):
        """The pane asks to be shown (another pane handed it work: "search the broker" from
        the Tail pane); the host brings its tab forward with the focus on `focus` (where the
        pane's tab puts it when None)."""

        def __init__(self, pane: Pane, focus: Widget | None = None) -> None:
            super().__init__()
            self.pane = pane
            self.focus = focus

    def jump(self, argument: str) -> None:
        """`:name argument` brought this pane forward: what the argument means here (a
        list's filter); nothing by default."""

    @property
    def host(self) -> Host:
        return host_of(self)

    def current_admin(self) -> KafkaAdmin | None:
        """The host's admin client now. Dialogs are handed this method rather than a client,
        so that they act with whichever client is current when they act."""
        return self.host.admin

    @on(Mount)
    def _follow_the_cluster(self) -> None:
        self.watch(self.app, "snapshot", self._snapshot_changed)

    def _snapshot_changed(self, snapshot: ClusterSnapshot | None) -> None:
        if snapshot is None or not self.app.is_running:  # closing: the pane's fields are going
            return
        self.follow(snapshot)
        if self._behind_another:
            self._unshown = snapshot
        else:
            self._unshown = None
            self.show(snapshot)

    @property
    def _behind_another(self) -> bool:
        """In a tab not shown (its TabPane, or an ancestor, has display False). Not "not on
        screen": a pane just mounted is on no screen until the next layout, yet shows."""
        return not all(
            node.display for node in self.ancestors_with_self if isinstance(node, Widget)
        )

    @on(Show)
    def _shown_again(self) -> None:
        """The pane's tab came forward: it draws the snapshot it missed behind another."""
        if self._unshown is not None and self.app.is_running:
            snapshot, self._unshown = self._unshown, None
            self.show(snapshot)

    def follow(self, snapshot: ClusterSnapshot) -> None:
        """Each snapshot, the pane shown or not: what it must not miss behind another tab
        (the Brokers pane's timeline). Nothing by default."""

    def show(self, snapshot: ClusterSnapshot) -> None:
        """The host's latest cluster snapshot (each second, and after changes) while the
        pane is on screen, and the latest one when its tab comes forward again: a pane
        behind another draws nothing, because with 10,000 partitions the hidden Brokers
        pane's table alone took a seventh of the UI loop. A pane that follows the cluster
        its own way (the groups pane samples groups, the demo its own topic) leaves it as
        it is."""

    def focus_default(self) -> bool:
        """Focus where the pane's tab should, and say whether it did. By default it does not:
        the app then focuses the pane's first table or list, never a text field, so that the
        pane keys (1-9) keep working."""
        return False


@dataclass(frozen=True, slots=True)
class PaneSpec:
    """A pane's tab: its id, title, the key that jumps to it, and the pane's class (whose
    BINDINGS the help lists)."""

    pane_id: str
    title: str
    key: str
    factory: type[Pane]
