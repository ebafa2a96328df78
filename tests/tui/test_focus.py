"""No key sequence leaves the user without a focused pane, or typing where they cannot see
(issue 14, point 2).

Keys are sent in bursts (all read before the first is handled), as a fast typist sends them.
Before: `2 2 c` did nothing (the second 2 let go of the focus and nothing took it back, the
footer shrank to the app's keys until tab was pressed), `3 3 /` too (and `/` in the empty
topics field was typed there), and tab from a pane's last widget went to the row of tabs,
where the pane's keys did nothing.
"""

from __future__ import annotations

import random

from textual.pilot import Pilot
from textual.widgets import Input, Select, TabbedContent, TextArea
from workbench_pilot import (
    SIZE,
    burst,
    wait_connected,
    wait_focused,
    wait_keys_handled,
    wait_until,
    workbench_app,
)

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.screens.create_topic import CreateTopicScreen


def active_pane(app: WorkbenchApp) -> str:
    return str(app.query_one("#panes", TabbedContent).active)


def focus_placed(app: WorkbenchApp) -> bool:
    """The focus is on the screen in front: in its dialog, or inside the pane shown."""
    focused = app.focused
    if focused is None:
        return False
    if len(app.screen_stack) > 1:
        return focused.screen is app.screen
    pane = app.query_one("#panes", TabbedContent).active_pane
    return pane is not None and pane in focused.ancestors


async def started(pilot: Pilot[None], app: WorkbenchApp) -> None:
    await wait_connected(pilot, app)
    await wait_until(pilot, lambda: focus_placed(app), "the first pane focused")


async def test_the_key_of_the_pane_in_front_keeps_its_focus(embedded: EmbeddedBroker) -> None:
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        burst(app, ["2", "2", "c"])
        await wait_until(pilot, lambda: isinstance(app.screen, CreateTopicScreen), "the dialog")
        burst(app, ["escape"])
        await wait_until(pilot, lambda: len(app.screen_stack) == 1, "the dialog closed")
        burst(app, ["3", "3", "slash"])  # the empty topics field lets both keys through
        await wait_focused(pilot, "tail-filter")
        assert active_pane(app) == "tail"


async def test_a_digit_on_a_forms_list_switches_panes_and_the_next_key_follows(
    embedded: EmbeddedBroker,
) -> None:
    """Tabbing through the Produce form onto a list (compression), `1` is the Brokers key:
    the keys after it act on the Brokers pane's list, never in its config filter."""
    app = workbench_app(embedded)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        burst(app, ["4"])
        await wait_focused(pilot, "send")
        burst(app, ["tab", "tab", "tab", "tab", "1", "f", "o", "o"])
        await wait_keys_handled(pilot, app)
        assert active_pane(app) == "brokers"
        assert focus_placed(app) and not isinstance(app.focused, Input | TextArea)
        assert app.query_one("#config-filter", Input).value == ""


KEYS = ["1", "2", "3", "4", "5", "6", "7", "tab", "shift+tab", "escape", "slash", "c", "z"]
"""Keys that move the focus, switch panes, open a dialog, or type; none that quits, deletes,
starts the demo's consumers or writes a file."""


async def test_no_burst_of_keys_strands_the_focus(embedded: EmbeddedBroker) -> None:
    """Random bursts (a fixed seed, so a failure replays): after each, once its keys are
    handled, the focus is in the pane shown or in the dialog in front."""
    app = workbench_app(embedded)
    chance = random.Random(14)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        for _ in range(40):
            keys = chance.choices(KEYS, k=chance.randint(1, 5))
            burst(app, keys)
            await wait_keys_handled(pilot, app)
            await wait_until(pilot, lambda: focus_placed(app), f"the focus placed after {keys}")
            if isinstance(app.focused, Select) and app.focused.expanded:
                burst(app, ["escape"])  # an open list holds every key but its own
