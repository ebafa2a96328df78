"""The quorum's log on disk: flushes that survive their caller's cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from localbroker.cluster.quorum.metadata_log import MetadataLog


async def test_a_flush_whose_caller_is_cancelled_leaves_later_flushes_working(
    tmp_path: Path,
) -> None:
    metadata_log = MetadataLog(tmp_path)
    metadata_log.append_values([b"first"], epoch=1)
    abandoned = asyncio.create_task(metadata_log.flush())
    await asyncio.sleep(0)  # its flush job runs in a worker thread
    abandoned.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await abandoned
    metadata_log.append_values([b"second"], epoch=1)
    assert await metadata_log.flush() == metadata_log.end_offset == 2
