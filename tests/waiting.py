"""Bounded waits: every test that waits for something waits here.

A test waits for the effect it is about to assert (a record consumed, a group stable, a row
drawn), never for a fixed time: a fixed pause is too long on a quiet machine and too short on
a loaded one. Every wait has a deadline and, when it passes, fails naming what never happened,
so a test never hangs and its failure says why.

`polling` holds the one deadline-and-interval logic; `wait_until` drives it with blocking
sleeps, and workbench_pilot.wait_until drives the same generator with the Pilot's pauses,
which let the app run while the test waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
TIMEOUT = 20.0
"""Seconds: the default bound on a wait; a real broker and real clients get there well within it
even on a loaded two-core machine."""
INTERVAL = 0.05
"""Seconds between two looks: short enough not to slow a test down, long enough not to
compete for the CPU with what it waits for."""


def polling(
    what: str,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    showing: Callable[[], str] | None = None,
) -> Iterator[float]:
    """The pauses of one bounded wait: each `next()` gives the pause to take before the next
    look, until `timeout` seconds have passed; then it raises AssertionError naming `what`,
    followed by what `showing()` returns then (a terminal's screen: what was there instead)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() <= deadline:
        yield interval
    shown = f":\n{showing()}" if showing is not None else ""
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{shown}")


def wait_until(predicate: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    """Look at `predicate()` until it returns something truthy, and return that; fail with
    `what` after `timeout` seconds."""
    pauses = polling(what, timeout)
    while not (result := predicate()):
        time.sleep(next(pauses))
    return result
