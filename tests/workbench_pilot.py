"""Driving the workbench app in tests: start it against a real broker, wait for what it shows.

Every wait here has a deadline, so a test that never sees what it waits for fails with the
reason instead of hanging.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot

from tui.app import WorkbenchApp
from tui.embedded import EmbeddedBroker
from tui.kafka.connection import from_properties
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.workbench import Workbench

SIZE = (120, 36)


def workbench_app(embedded: EmbeddedBroker) -> WorkbenchApp:
    """The app as `kwb` starts it with its embedded broker (theme files not watched)."""
    workbench = Workbench(
        Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE]),
        from_properties(embedded.bootstrap, {}),
        embedded,
    )
    return WorkbenchApp(workbench, watch_theme_files=False)


def port_of(embedded: EmbeddedBroker) -> int:
    return int(embedded.bootstrap.rpartition(":")[2])


async def wait_until(
    pilot: Pilot[object], condition: Callable[[], object], what: str, timeout: float = 15.0
) -> None:
    """Let the app run until `condition()` is true, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)


async def wait_connected(pilot: Pilot[object], app: WorkbenchApp) -> None:
    """Until the first cluster snapshot has reached the panes."""
    await wait_until(pilot, lambda: app.snapshot is not None, "the first cluster snapshot")
