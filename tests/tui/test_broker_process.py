"""The workbench's broker in a process of its own (issue 16, point 1): supervised, restarted
after a crash with a message, followed by the Logs view and the Demo pane, and never left
behind by a `kwb` killed with -9."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from brokers import listening
from terminal import KWB, TMUX_REASON, Terminal, tmux_missing, workbench_env
from textual.widgets import Static
from waiting import gone
from waiting import wait_until as wait_blocking
from workbench_pilot import SIZE, wait_connected, wait_until, workbench_app

from tui.app import WorkbenchApp
from tui.broker_process import RUNNING_FILE, ChildBroker
from tui.embedded import data_home
from tui.kafka.demo_group import DemoSettings
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.screens.broker_log import BrokerLogScreen
from tui.widgets.demo_pane import DemoPane
from tui.workbench import Workbench

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.xdist_group("terminal"),  # one real terminal at a time (tests/conftest.py)
]


@pytest.fixture
def child(tmp_path: Path) -> Iterator[ChildBroker]:
    broker = ChildBroker(tmp_path / "broker", config={"group.min.session.timeout.ms": "1000"})
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_a_crashed_broker_is_said_restarted_and_logged(child: ChildBroker) -> None:
    """Mutation check: with the restart taken out of `_supervise` (return instead), no
    "restarting" message comes and the broker never answers again: this fails."""
    app = workbench_app(child)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        crashed = child.pid
        assert crashed is not None
        os.kill(crashed, signal.SIGKILL)
        await wait_until(
            pilot,
            lambda: any("restarting" in str(n.message) for n in app._notifications),
            "a message that the broker is being restarted",
        )
        await wait_until(
            pilot,
            lambda: child.pid != crashed and listening(child.bootstrap),
            "the broker restarted on its port",
        )
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, BrokerLogScreen), "the log")
        log = app.screen.query_one("#broker-log")
        await wait_until(
            pilot,
            lambda: (
                "killed by SIGKILL; restarting" in "\n".join(log.lines)  # type: ignore[attr-defined]
                and "listening on" in "\n".join(log.lines)
            ),  # type: ignore[attr-defined]
            "the crash and the broker's own lines in the log",
        )


async def test_the_demo_shows_the_child_coordinators_own_events(child: ChildBroker) -> None:
    """The Demo pane's timeline comes from the broker's coordinator through the child's event
    stream. Mutation check: with supervised.py no longer subscribing `_group_event`, no event
    reaches the picture (the demo still runs on the broker's side): this fails."""
    app = workbench_app(child)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        pane = app.query_one(DemoPane)
        pane.settings = DemoSettings(
            session_timeout_ms=2000, heartbeat_interval_ms=250, consumers=2
        )
        engine = await pane.begin()
        assert engine is not None and engine.source == "broker"
        await wait_until(
            pilot,
            lambda: any(
                e.kind == "stable" and "generation" in e.text for e in engine.picture.timeline
            ),
            "a generation the coordinator says is stable",
        )
        assert engine.picture.events_applied > 0


@pytest.mark.skipif(tmux_missing(), reason=TMUX_REASON)
def test_kill_9_of_kwb_leaves_no_broker(tmp_path: Path, unused_tcp_port: int) -> None:
    """Mutation check: without `die_with_parent` and the stdin lifeline in supervised.py the
    broker outlives kwb and this fails (it is killed at the end either way)."""
    env = workbench_env(str(tmp_path / "home"))
    record = Path(env["XDG_DATA_HOME"]) / data_home().relative_to(data_home().parents[1])
    broker_pid = None
    try:
        with Terminal([KWB, "--port", str(unused_tcp_port)], env) as term:
            term.wait_for("● connected", timeout=60)
            running = json.loads((record / RUNNING_FILE).read_text())
            kwb_pid, broker_pid = running["pid"], running["broker_pid"]
            assert broker_pid != kwb_pid and not gone(broker_pid)
            os.kill(kwb_pid, signal.SIGKILL)
            wait_blocking(lambda: gone(broker_pid), f"the broker (pid {broker_pid}) to end")
    finally:
        if broker_pid is not None and not gone(broker_pid):
            os.kill(broker_pid, signal.SIGKILL)


async def test_the_child_serves_a_schema_registry_and_the_header_names_it(tmp_path: Path) -> None:
    """Mutation check: without `--schema-registry` passed to the child, it says no registry
    URL and none answers: this fails."""
    broker = ChildBroker(tmp_path / "broker", schema_registry_port=0).start()
    try:
        url = broker.schema_registry_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{url}/subjects", timeout=10) as answer:
            assert json.load(answer) == []
        record = json.loads((tmp_path / "broker" / RUNNING_FILE).read_text())
        assert record["schema_registry"] == url  # a second kwb joining finds it too
        profile = Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE])
        app = WorkbenchApp(Workbench.local(profile, broker), watch_theme_files=False)
        async with app.run_test(size=SIZE) as pilot:
            await wait_connected(pilot, app)
            header = str(app.query_one("#cluster-label", Static).render())
            assert f"registry {url}" in header
    finally:
        broker.stop()
