"""Driving the workbench app in tests: start it against a real broker, wait for what it shows.

Every wait here has a deadline, so a test that never sees what it waits for fails with the
reason instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from waiting import polling

from tui.app import WorkbenchApp
from tui.embedded import OwnBroker
from tui.kafka.connection import from_properties
from tui.launch import open_workbench, parser
from tui.profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from tui.widgets.cluster_bar import ClusterBar
from tui.workbench import Workbench

SIZE = (120, 36)
S = TypeVar("S", bound=Screen)


def workbench_app(embedded: OwnBroker) -> WorkbenchApp:
    """The app as `kwb` starts it with its embedded broker (theme files not watched)."""
    workbench = Workbench(
        Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE]),
        from_properties(embedded.bootstrap, {}),
        embedded,
    )
    return WorkbenchApp(workbench, watch_theme_files=False)


def external_app(bootstrap: str) -> WorkbenchApp:
    """The app exactly as `kwb --bootstrap-server BOOTSTRAP` builds it: a cluster it did not
    start (theme files not watched)."""
    workbench = open_workbench(parser().parse_args(["--bootstrap-server", bootstrap]))
    return WorkbenchApp(workbench, watch_theme_files=False)


@dataclass(frozen=True)
class Cluster:
    """A broker a test opens the workbench on (tests/tui/conftest.py's `cluster`)."""

    bootstrap: str
    app: Callable[[], WorkbenchApp]


def busy_said(app: WorkbenchApp) -> list[str]:
    """Every busy text the top line shows from now on, "" when it clears (Host.busy): an
    action shows it for as long as the cluster takes, which may be less than a poll."""
    said: list[str] = []

    def shown(busy: str) -> None:
        said.append(busy)

    app.watch(app.query_one(ClusterBar), "busy", shown, init=False)
    return said


def port_of(embedded: OwnBroker) -> int:
    return int(embedded.bootstrap.rpartition(":")[2])


async def wait_until(
    pilot: Pilot[object],
    condition: Callable[[], object],
    what: str,
    timeout: float = 15.0,
    showing: Callable[[], str] | None = None,
) -> None:
    """Let the app run until `condition()` is true, or fail saying what never happened (and
    what `showing()` returns then): the bounded wait of tests/waiting.py, pausing with the
    Pilot so the app goes on meanwhile."""
    pauses = polling(what, timeout, showing=showing)
    while not condition():
        await pilot.pause(next(pauses))


async def press_until(
    pilot: Pilot[object],
    keys: str | Sequence[str],
    condition: Callable[[], object],
    what: str,
    timeout: float = 15.0,
) -> None:
    """Press `keys` (one key name, or several in order), then wait until `condition()` is
    true: what the keys do.

    press() returning says only that the CPU went quiet for a moment, not that the key was
    handled: a key reaches the focused widget, then bubbles up one message queue per level
    before the bindings run, and a focus change is applied later still. On a loaded machine
    a check made straight after press() can see the state from before the key. So wait for
    the key's effect, choosing a `condition` that only the keys make true (not one that
    already holds before them).
    """
    await pilot.press(*((keys,) if isinstance(keys, str) else keys))
    await wait_until(pilot, condition, what, timeout)


async def screen_after(
    pilot: Pilot[object], keys: str | Sequence[str], kind: type[S], what: str
) -> S:
    """Press `keys`, wait until they have brought up a `kind` screen, and return it."""
    await press_until(pilot, keys, lambda: isinstance(pilot.app.screen, kind), what)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def wait_focused(pilot: Pilot[object], widget_id: str) -> Widget:
    """Until the widget `#widget_id` has the focus, and that widget: a screen or pane just
    shown builds its widgets and focuses one a moment later, so keys typed before then go
    elsewhere (and a query straight after the screen shows may find nothing yet)."""

    def focused() -> bool:
        widget = pilot.app.focused
        return widget is not None and widget.id == widget_id

    await wait_until(pilot, focused, f"#{widget_id} focused")
    assert pilot.app.focused is not None
    return pilot.app.focused


PRINTABLE_NAMES = {"space": " ", "slash": "/", "question_mark": "?", "plus": "+", "minus": "-"}
"""The characters of the printable keys tests name (a terminal sends the character)."""


def burst(app: WorkbenchApp, keys: str | Sequence[str]) -> None:
    """Keys as a fast typist or a terminal paste delivers them: all read before the first is
    handled (`press` waits for each). A string is its characters, a list key names."""
    for key in keys:
        name = "space" if key == " " else key
        character = key if len(key) == 1 else PRINTABLE_NAMES.get(key)
        app.post_message(events.Key(name, character))


async def wait_keys_handled(pilot: Pilot[object], app: WorkbenchApp) -> None:
    """Until every key sent has been handled, the focus changes they asked for included.

    A callback queued behind the keys runs once the app has read them all (its queue is
    first in, first out); from then on it holds back those not yet handled."""
    read = asyncio.Event()
    app.call_later(read.set)
    await wait_until(pilot, lambda: read.is_set() and not app.keys_pending, "the keys handled")


async def wait_connected(pilot: Pilot[object], app: WorkbenchApp) -> None:
    """Until the first cluster snapshot has reached the panes."""
    await wait_until(pilot, lambda: app.snapshot is not None, "the first cluster snapshot")
