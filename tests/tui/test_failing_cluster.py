"""Every action of every pane against a cluster that has just died: never a traceback
(issue 14, point 4's audit).

The workbench runs on a `python -m localbroker` process holding a topic and a group, which is
killed (-9) once the panes have shown them. Then every key of every pane, and every key of
each dialog or screen those open (plus enter), is pressed twice over: once while the app still
holds its admin client (each request meets a dead connection), once after it has noticed the
cluster is down (no client). An exception no one catches would end the app with a traceback:
Textual's test harness raises it, and the app must still be running after each key. The keys
come from the panes' BINDINGS, so a key added later is audited too.
"""

from __future__ import annotations

import pytest
from brokers import BrokerProcess
from terminal import seed_group
from textual.binding import Binding
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea
from workbench_pilot import (
    SIZE,
    burst,
    external_app,
    wait_connected,
    wait_keys_handled,
    wait_until,
)

from tui.app import WorkbenchApp
from tui.panes import panes

pytestmark = pytest.mark.timeout(400)

TOPIC, GROUP = "orders", "audit-group"
FOREVER = {"cluster-monitor", "theme-watch", "groups-poll", "offsets-poll", "tail-refilter"}
"""Worker groups that run as long as their pane or screen: not waited for."""
SKIP = {"q", "escape"}
"""Quit is not an action on the cluster; escape is how the audit leaves a screen."""
FILL = {
    "tail": ["t", *"orders"],
    "produce": list("orders"),
    "generator": list("orders"),
    "search": ["t", *"orders"],
}
"""Keys that name a topic in the panes whose actions need one (typed on Send and Start)."""


def keys_of(bindings: list[Binding | tuple[str, ...]]) -> list[str]:
    found = []
    for binding in Binding.make_bindings(bindings):
        key = binding.key.split(",")[0]
        if key not in SKIP and key not in found:
            found.append(key)
    return found


def busy(app: WorkbenchApp) -> bool:
    return any(w.is_running and w.group not in FOREVER for w in app.workers)


async def act(pilot: Pilot[None], app: WorkbenchApp, keys: list[str], what: str) -> None:
    """Press `keys`, then wait until what they started against the cluster has finished."""
    burst(app, keys)
    await wait_keys_handled(pilot, app)
    await wait_until(pilot, lambda: not busy(app), f"the work of {what} done", timeout=60)
    assert app.is_running and app.return_code is None, f"the app ended after {what}"
    if isinstance(app.focused, Input | TextArea) and len(app.screen_stack) == 1:
        burst(app, ["escape"])  # out of the field the key focused: keys act on the pane again
        await wait_keys_handled(pilot, app)


async def drive_screen(pilot: Pilot[None], app: WorkbenchApp, screen: Screen[object]) -> None:
    """Every key of the screen `screen` (a dialog, a detail), enter (after a name in an empty
    field, so that the dialog asks the cluster), then leave it."""
    for key in [*keys_of(screen.BINDINGS), "enter"]:
        if app.screen is not screen:
            break
        field = app.focused
        named = list("audit") if isinstance(field, Input) and not field.value else []
        await act(pilot, app, [*named, key], f"{key} on {type(screen).__name__}")
    while app.screen is screen or len(app.screen_stack) > 1:
        await act(pilot, app, ["escape"], f"escape on {type(app.screen).__name__}")


async def drive_everything(pilot: Pilot[None], app: WorkbenchApp) -> None:
    for spec in panes():
        await act(pilot, app, [spec.key, *FILL.get(spec.pane_id, [])], f"pane {spec.title}")
        for key in [*keys_of(spec.factory.BINDINGS), "enter"]:
            if len(app.screen_stack) == 1:  # an action may have left a screen open
                await act(pilot, app, [spec.key, key], f"{key} on {spec.title}")
            if len(app.screen_stack) > 1:
                await drive_screen(pilot, app, app.screen)
    for key in keys_of(WorkbenchApp.BINDINGS):
        await act(pilot, app, [key], f"{key} on the app")
        if len(app.screen_stack) > 1:
            await drive_screen(pilot, app, app.screen)


async def test_every_action_against_a_dead_cluster_keeps_the_app_running(
    broker_process: BrokerProcess,
) -> None:
    seed_group(broker_process.bootstrap, TOPIC, GROUP)
    app = external_app(broker_process.bootstrap)
    async with app.run_test(size=SIZE) as pilot:
        await wait_connected(pilot, app)
        await wait_until(
            pilot, lambda: app.snapshot is not None and app.snapshot.topic(TOPIC), "the topic"
        )
        broker_process.kill()
        await drive_everything(pilot, app)  # with the admin client of the dead cluster
        await wait_until(pilot, lambda: app.admin is None, "the app to notice", timeout=60)
        await drive_everything(pilot, app)  # with none
