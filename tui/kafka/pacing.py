"""Sending at a steady rate: the demos' producers send N records a second.

Each wait is measured from when the rate was set, not from the last send, so a slow send
(a broker failing over) is caught up on afterwards instead of lowering the rate for good.
"""

from __future__ import annotations

import asyncio
import time

SLOWEST = 0.1
"""Records a second below which a rate counts as this (a rate of 0 would never send)."""


class Pacer:
    """`await pacer.wait(sent, rate)` before each send: returns when `sent` records at
    `rate` a second are due. A new rate counts from the moment it is first asked for."""

    def __init__(self) -> None:
        self._rate: float | None = None
        self._began = 0.0
        self._first = 0

    def due_in(self, sent: int, rate: float) -> float:
        """Seconds until `sent` records at `rate` a second are due (0 or less: now). For a
        sender that sleeps its own way (a thread, a process)."""
        if rate != self._rate:
            self._rate, self._began, self._first = rate, time.monotonic(), sent
        return self._began + (sent - self._first) / max(rate, SLOWEST) - time.monotonic()

    async def wait(self, sent: int, rate: float) -> None:
        delay = self.due_in(sent, rate)
        if delay > 0:
            await asyncio.sleep(delay)
