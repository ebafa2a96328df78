"""What a pane may ask of the app that hosts it.

A pane runs in two hosts: WorkbenchApp, connected to a cluster, and the snapshot tests'
PaneHost (tests/tui/snapshot_host.py), which shows one pane alone with fixed data and no
broker. Panes used to ask `getattr(self.app, "admin", None)` at each use because the second
host lacked what the first has, and imported WorkbenchApp back to type it. Both hosts now
implement `Host`, so a pane depends on this Protocol and never on tui.app (an import-linter
contract in pyproject.toml keeps it so); what a host does not have is None, and a pane says
so to the user rather than guessing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, cast, runtime_checkable

from textual.dom import DOMNode

from .kafka.admin import KafkaAdmin
from .kafka.cluster import ClusterSnapshot
from .kafka.generator import GeneratorFleet
from .profiles import Preferences
from .workbench import Workbench


@runtime_checkable
class Host(Protocol):
    """The app under the panes. `snapshot` and `generation` are Textual reactives: panes
    watch them (`self.watch(self.app, "snapshot", ...)`) rather than being called."""

    @property
    def snapshot(self) -> ClusterSnapshot | None:
        """The latest cluster snapshot (None before the first and after a switch)."""

    @property
    def generation(self) -> int:
        """Bumped when the host connects to another cluster: a pane holding clients or data of
        the previous one starts over."""

    @property
    def admin(self) -> KafkaAdmin | None:
        """The connected admin client, or None while the cluster is unreachable."""

    @property
    def workbench(self) -> Workbench | None:
        """What the host is connected to (its connection, profile and embedded broker);
        None in a host without a cluster."""

    @property
    def generators(self) -> GeneratorFleet | None:
        """The traffic generators, which outlive their pane; None in a host without them."""

    @property
    def preferences(self) -> Preferences:
        """What the last run used (tui/profiles.py): a pane starts from its topics."""

    def busy(self, what: str) -> AbstractContextManager[None]:
        """Show that `what` is under way ("deleting topic orders") until the block ends: an
        action that waits for the cluster says so at once, however long the answer takes."""

    def remember(self, **changes: str) -> None:
        """Keep preferences for the next run (tail_topics=, produce_topic=, ...); a host
        without a config file keeps nothing."""


def host_of(node: DOMNode) -> Host:
    """The app `node` runs in, as the Host it is (tests/tui/test_host.py checks that both
    hosts implement the Protocol)."""
    return cast(Host, node.app)
