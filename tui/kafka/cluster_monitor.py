"""A live view of a cluster for the workbench: snapshots taken every second, with reconnects.

`ClusterMonitor.run` hands each `ClusterSnapshot` (cluster.py) to a callback; when the
cluster is unreachable it reports the status and retries with a growing pause, so a UI built
on it shows "reconnecting" instead of failing. The snapshots are taken on a thread of their
own (snapshot_thread.py); the admin client the UI acts with stays on the caller's loop. No
Textual here: the TUI subscribes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from .admin import KafkaAdmin
from .cluster import ClusterSnapshot
from .connection import Connection
from .errors import KafkaToolError
from .snapshot_thread import SnapshotThread

POLL_SECONDS = 1.0
BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0)
SNAPSHOT_ATTEMPTS = 3
"""Snapshots that may fail in a row before the monitor connects again. One fails when a
broker dies or restarts (a request to it was under way, or the client's metadata does not
know it yet) while the others serve: the admin client the UI acts with stays, and the next
snapshot, a second later, asks again. Connecting again after each such failure left the app
without an admin client for the backoff's pauses, so an action right after a restart (`e`
in the Brokers pane) found none (CI, 2026-12-07)."""


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    connected: bool
    message: str


class ClusterMonitor:
    """Polls a cluster until cancelled, reporting snapshots and connection status."""

    def __init__(self, connection: Connection, interval: float = POLL_SECONDS) -> None:
        self.connection = connection
        self.interval = interval
        self.admin: KafkaAdmin | None = None
        self._wake = asyncio.Event()

    def _connected(self) -> ConnectionStatus:
        return ConnectionStatus(True, f"connected to {self.connection.bootstrap_servers}")

    def refresh(self) -> None:
        """Take the next snapshot now (after the user changed something)."""
        self._wake.set()

    async def run(
        self,
        on_snapshot: Callable[[ClusterSnapshot], None],
        on_status: Callable[[ConnectionStatus], None],
    ) -> None:
        attempt = 0
        while True:
            try:
                async with (
                    KafkaAdmin(self.connection) as admin,
                    SnapshotThread(self.connection) as snapshots,
                ):
                    self.admin = admin
                    attempt = 0
                    on_status(self._connected())
                    previous = None
                    failed = 0
                    while True:
                        try:
                            previous = await snapshots.take(previous)
                        except KafkaToolError as exc:
                            failed += 1
                            if failed >= SNAPSHOT_ATTEMPTS:
                                raise
                            on_status(ConnectionStatus(True, f"{exc} — trying again"))
                        else:
                            if failed:
                                failed = 0
                                on_status(self._connected())
                            on_snapshot(previous)
                        self._wake.clear()
                        try:
                            async with asyncio.timeout(self.interval):
                                await self._wake.wait()
                        except TimeoutError:
                            pass
            except (KafkaToolError, OSError) as exc:
                self.admin = None
                pause = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
                attempt += 1
                on_status(ConnectionStatus(False, f"{exc} — retrying in {pause:.0f}s"))
                await asyncio.sleep(pause)
