"""Bounded waits: every test that waits for something waits here.

A test waits for the effect it is about to assert (a record consumed, a group stable, a row
drawn), never for a fixed time: a fixed pause is too long on a quiet machine and too short on
a loaded one. Every wait has a deadline and, when it passes, fails naming what never happened,
so a test never hangs and its failure says why.

`polling` holds the one deadline-and-interval logic; `wait_until` drives it with blocking
sleeps, `wait_until_async` with the event loop's (for servers running in the test's own
loop), and workbench_pilot.wait_until drives the same generator with the Pilot's pauses,
which let the app run while the test waits. `in_background` bounds a client the test runs in
a thread while it does something else.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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


def wait_until(
    predicate: Callable[[], T],
    what: str,
    timeout: float = TIMEOUT,
    showing: Callable[[], str] | None = None,
) -> T:
    """Look at `predicate()` until it returns something truthy, and return that; fail with
    `what` (and what `showing()` returns then) after `timeout` seconds."""
    pauses = polling(what, timeout, showing=showing)
    while not (result := predicate()):
        time.sleep(next(pauses))
    return result


async def wait_until_async(predicate: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    """`wait_until` for a test whose event loop runs what it waits for (asyncio servers in
    the test's own loop): the pauses yield to the loop instead of blocking it."""
    pauses = polling(what, timeout)
    while not (result := predicate()):
        await asyncio.sleep(next(pauses))
    return result


@contextmanager
def in_background(
    target: Callable[[], object], timeout: float = TIMEOUT * 6
) -> Iterator[threading.Thread]:
    """`target` in a thread for the length of the block: the block's end waits for it, at most
    `timeout` seconds, fails if it is still running then, and raises what it raised."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        thread.join(timeout)
    assert not thread.is_alive(), "the background client never finished"
    if failures:
        raise failures[0]


def gone(pid: int) -> bool:
    """No such process, or only its exit status left (a zombie nobody has reaped yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status
