"""Both hosts of a pane implement tui.host.Host: the workbench, and the snapshot tests' host.

Panes depend on that Protocol and nothing else of the app (an import-linter contract keeps them
from importing tui.app), so a host that lacked a member would fail only at run time, in the
pane that asks for it. Neither app is run against a broker here.
"""

from __future__ import annotations

import dataclasses

from snapshot_host import PaneHost, fixed_snapshot

from tui.app import WorkbenchApp
from tui.host import Host
from tui.profiles import Profile
from tui.widgets.topics_pane import TopicsPane
from tui.workbench import Workbench


def test_the_workbench_app_is_a_host() -> None:
    profile = Profile("nowhere", "localhost:1")
    app = WorkbenchApp(Workbench(profile, profile.connection()), watch_theme_files=False)
    assert isinstance(app, Host)


def test_the_snapshot_host_is_a_host() -> None:
    assert isinstance(PaneHost(TopicsPane()), Host)


async def test_a_pane_follows_its_hosts_snapshot() -> None:
    pane = TopicsPane()
    app = PaneHost(pane)
    async with app.run_test() as pilot:
        assert pane.host is app
        assert pane.snapshot == fixed_snapshot()
        fewer = dataclasses.replace(fixed_snapshot(), topics=fixed_snapshot().topics[:2])
        app.snapshot = fewer
        await pilot.pause()
        assert pane.snapshot == fewer
