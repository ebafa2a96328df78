"""Cluster snapshots taken on a thread and event loop of their own, with their own client.

A snapshot of 10,000 partitions is three ListOffsets requests to send and five answers to
read: about 210 ms of Python (380 before its requests were kept), in pieces of tens of ms. On
the UI's event loop a key pressed during one of them waited for it (bench/scale.py --parts
tui: 186 ms). Here the interpreter hands its lock between the two threads every few
milliseconds (sys.getswitchinterval), so a key waits for a slice of the work, not for all of
it. The snapshots are frozen dataclasses, only read once handed over.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future
from threading import Thread
from types import TracebackType

from .admin import KafkaAdmin
from .cluster import ClusterSnapshot, take_snapshot
from .connection import Connection


class SnapshotThread:
    """`async with SnapshotThread(connection) as snapshots: await snapshots.take(previous)`.

    Entering connects a KafkaAdmin on the thread, raising what KafkaAdmin raises when the
    cluster cannot be reached; leaving (also when the task is cancelled) closes it and ends
    the thread.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._loop = asyncio.new_event_loop()
        self._opened: Future[KafkaAdmin] = Future()
        self._serving: asyncio.Task[None] | None = None
        self._leaving = False
        self._ended = asyncio.Event()
        """Set on the caller's loop once the thread has closed its client and loop."""

    async def __aenter__(self) -> SnapshotThread:
        caller = asyncio.get_running_loop()
        Thread(target=self._run, args=(caller,), name="cluster-snapshots", daemon=True).start()
        try:
            await asyncio.wrap_future(self._opened)
        except BaseException:
            await self._end()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._end()

    async def take(self, previous: ClusterSnapshot | None) -> ClusterSnapshot:
        """The cluster now (rates against `previous`), taken on the thread."""
        admin = self._opened.result()
        work = asyncio.run_coroutine_threadsafe(take_snapshot(admin, previous), self._loop)
        return await asyncio.wrap_future(work)

    async def _end(self) -> None:
        with contextlib.suppress(RuntimeError):  # the thread has closed its loop already
            self._loop.call_soon_threadsafe(self._leave)
        await asyncio.shield(self._ended.wait())

    def _leave(self) -> None:
        """On the thread: stop serving, at once even while still connecting."""
        self._leaving = True
        if self._serving is not None:
            self._serving.cancel()

    def _run(self, caller: asyncio.AbstractEventLoop) -> None:
        try:
            with asyncio.Runner(loop_factory=lambda: self._loop) as runner:
                runner.run(self._serve())
        except asyncio.CancelledError:
            pass  # _leave: the usual way out
        finally:
            if not self._opened.done():
                self._opened.cancel()
            with contextlib.suppress(RuntimeError):  # the caller's loop is gone (app exit)
                caller.call_soon_threadsafe(self._ended.set)

    async def _serve(self) -> None:
        self._serving = asyncio.current_task()
        if self._leaving:
            return
        try:
            async with KafkaAdmin(self._connection) as admin:
                self._opened.set_result(admin)
                await asyncio.Event().wait()  # until _leave cancels this task
        except Exception as exc:  # not connected: the caller raises it
            if not self._opened.done():
                self._opened.set_exception(exc)
