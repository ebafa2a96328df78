"""The snapshot thread against a real broker: snapshots come back, and the thread ends
whichever way its owner leaves (done, cancelled, or never connected)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from waiting import wait_until_async

from tui.embedded import EmbeddedBroker
from tui.kafka.connection import Connection
from tui.kafka.errors import KafkaToolError
from tui.kafka.snapshot_thread import SnapshotThread


def snapshot_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "cluster-snapshots"]


async def test_snapshots_are_taken_on_the_thread_and_it_ends_on_leaving(
    embedded: EmbeddedBroker,
) -> None:
    """Mutation check: with __aexit__ not ending the thread, the last wait times out."""
    async with SnapshotThread(Connection(embedded.bootstrap)) as snapshots:
        first = await snapshots.take(None)
        second = await snapshots.take(first)
        assert second.taken_at > first.taken_at
        assert second.cluster.cluster_id == first.cluster.cluster_id
        assert len(snapshot_threads()) == 1
    await wait_until_async(lambda: not snapshot_threads(), "the snapshot thread to end")


async def test_a_cancelled_owner_ends_the_thread(embedded: EmbeddedBroker) -> None:
    """The workbench cancels its monitor on quit and on a profile switch, mid-snapshot."""
    started = asyncio.Event()

    async def follow() -> None:
        async with SnapshotThread(Connection(embedded.bootstrap)) as snapshots:
            started.set()
            while True:
                await snapshots.take(None)

    task = asyncio.ensure_future(follow())
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    await wait_until_async(lambda: not snapshot_threads(), "the snapshot thread to end")


async def test_an_unreachable_cluster_is_said_and_leaves_no_thread() -> None:
    with pytest.raises(KafkaToolError, match=r"cannot connect to 127\.0\.0\.1:1"):
        async with SnapshotThread(Connection("127.0.0.1:1", request_timeout_ms=2000)):
            pass
    await wait_until_async(lambda: not snapshot_threads(), "the snapshot thread to end")
