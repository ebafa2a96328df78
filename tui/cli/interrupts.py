"""SIGINT and SIGTERM as a clean stop for the commands that hold a client open.

Kafka's console tools close their client in a shutdown hook (flush for the producer; commit
and LeaveGroup for the consumer). Here the first signal interrupts the current wait and the
command closes its client; a second one exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable
from typing import TypeVar

from aiokafka.errors import KafkaError as AIOKafkaError

T = TypeVar("T")


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived while waiting; the command winds down as Kafka's hook does."""


class Interrupts:
    """Turn SIGINT/SIGTERM into a clean stop instead of a KeyboardInterrupt mid-request."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._event = asyncio.Event()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(signum, self._fire, signum)

    def _fire(self, signum: int) -> None:
        if self.signum is not None:
            os._exit(128 + signum)
        self.signum = signum
        self._event.set()

    @property
    def exit_code(self) -> int:
        return 128 + self.signum if self.signum is not None else 0

    async def race(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` unless a signal comes first (then cancel it, raise Interrupted)."""
        if self.signum is not None:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise Interrupted
        task = asyncio.ensure_future(awaitable)
        waiter = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()  # never leave the awaited work running behind a cancelled caller
            raise
        finally:
            waiter.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, AIOKafkaError):
            await task
        raise Interrupted
