"""The log cleaner of a data directory: Kafka's LogCleaner thread and LogCleanerManager.

Every log.cleaner.backoff.ms without work, it picks the filthiest compacted log (the highest
dirty ratio among those due, see cleaner.to_clean), cleans it in a worker thread at most at
log.cleaner.io.max.bytes.per.second, swaps each cleaned group in on the event loop, and
records in `cleaner-offset-checkpoint` where the next round's dirty section starts, in the
format of Kafka's checkpoint files. Produce and fetch never wait for it: the loop only picks
the log and renames files. A log whose batches cannot be read is left alone until restart,
as Kafka marks such a partition uncleanable.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from .checkpoints import read_checkpoint, write_checkpoint
from .cleaner import CleaningAborted, CorruptForCleaning, Round, ToClean, group_segments, to_clean
from .cleaner_batches import LastRecord
from .cleaner_swap import replace_segments
from .manager import LogManager
from .partition import PartitionLog
from .segment import Segment

log = logging.getLogger(__name__)

CLEANER_OFFSET_FILE = "cleaner-offset-checkpoint"
Swap = Callable[[PartitionLog, Segment, list[Segment]], bool]


@dataclass(frozen=True, slots=True)
class CleanerSettings:
    backoff_ms: int = 15000
    dedupe_buffer_bytes: int = 134217728
    io_max_bytes_per_second: float = 1.7976931348623157e308


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class LogCleaner:
    def __init__(
        self,
        logs: LogManager,
        settings: Callable[[], CleanerSettings],
        excluded_topics: Collection[str] = (),
        *,
        clock: Callable[[], int] = _now_ms,
        swap: Swap = replace_segments,
    ) -> None:
        """`clock` and `swap` are there for tests (a fixed time, a crash in a swap)."""
        self.logs = logs
        self.clock = clock
        self.swap = swap
        self.settings = settings
        self.excluded_topics = excluded_topics
        self.path = logs.data_dir / CLEANER_OFFSET_FILE
        self.checkpoints = read_checkpoint(self.path, "resetting to the log start offsets")
        self.abort = threading.Event()
        self.uncleanable: set[tuple[str, int]] = set()

    async def run(self) -> None:
        while not self.abort.is_set():
            try:
                cleaned = await self.clean_filthiest()
            except Exception:
                log.exception("the log cleaner failed")
                cleaned = False
            if not cleaned:
                await asyncio.sleep(max(self.settings().backoff_ms, 10) / 1000)

    def filthiest(self, now_ms: int) -> ToClean | None:
        candidates = []
        for key, partition_log in list(self.logs.logs.items()):
            if (
                not partition_log.config.compacts
                or key[0] in self.excluded_topics
                or key in self.uncleanable
            ):
                continue
            target = to_clean(partition_log, self.checkpoints.get(key), now_ms)
            if target is not None:
                candidates.append(target)
        return max(candidates, key=lambda target: target.ratio, default=None)

    async def clean_filthiest(self) -> bool:
        """Clean the filthiest due log, if any; whether one was cleaned."""
        now_ms = self.clock()
        target = self.filthiest(now_ms)
        if target is None:
            return False
        key = (target.log.topic, target.log.partition)
        try:
            end = await self.clean(target, now_ms)
        except CleaningAborted:
            return False
        except CorruptForCleaning as exc:
            log.warning("%s: marked uncleanable, a batch cannot be read: %s", target.log.name, exc)
            self.uncleanable.add(key)
            return False
        except OSError as exc:
            target.log.status.failed(f"Failed to clean up log for {target.log.name}", exc)
            return False
        self.checkpoints[key] = end
        self._write_checkpoint()
        return True

    async def clean(self, target: ToClean, now_ms: int) -> int:
        """One round (Cleaner.doClean); the first dirty offset of the next round."""
        settings = self.settings()
        started = time.monotonic()
        partition_log = target.log
        cleaning = Round.open(
            target,
            settings.dedupe_buffer_bytes,
            settings.io_max_bytes_per_second,
            self.abort,
            now_ms,
        )
        try:
            end = await asyncio.to_thread(cleaning.build_offset_map)
            sources = {s.segment: s for s in cleaning.sources if s.segment.base_offset < end}
            config = partition_log.config
            groups = group_segments(
                list(sources),
                config.segment_bytes,
                config.segment_index_bytes,
                target.first_uncleanable,
            )
            batch_filter = cleaning.batch_filter({})
            for group in groups:
                batch_filter.active_producers = active_producers(partition_log)
                cleaned = await asyncio.to_thread(
                    cleaning.clean_group, [sources[s] for s in group], batch_filter
                )
                if self.logs.get(partition_log.topic, partition_log.partition) is not (
                    partition_log
                ) or not self.swap(partition_log, cleaned, group):
                    cleaned.delete()
                    raise CleaningAborted
        finally:
            # A round cancelled by the broker's stop may still be reading in its thread
            # (it stops at the next batch, seeing `abort`): its descriptors stay open
            # rather than be closed, and perhaps reused, under it.
            if not self.abort.is_set():
                cleaning.close()
        seconds = time.monotonic() - started
        log.info(
            "Log cleaner cleaned log %s (dirty section = [%d, %d]): %.1f MB of log processed"
            " in %.1f seconds (%.1f MB/sec), %.1f MB written",
            partition_log.name,
            target.first_dirty,
            end,
            cleaning.bytes_read / 1e6,
            seconds,
            cleaning.bytes_read / 1e6 / max(seconds, 1e-9),
            cleaning.bytes_written / 1e6,
        )
        return end

    def _write_checkpoint(self) -> None:
        self.checkpoints = {k: v for k, v in self.checkpoints.items() if k in self.logs.logs}
        try:
            write_checkpoint(self.path, self.checkpoints)
        except OSError as exc:
            self.logs.status.failed(f"Error while writing {CLEANER_OFFSET_FILE}", exc)


def active_producers(partition_log: PartitionLog) -> dict[int, LastRecord]:
    """UnifiedLog.lastRecordsOfActiveProducers: each producer's last data offset and epoch."""
    return {
        pid: LastRecord(entry.last_offset if entry.batches else None, entry.epoch)
        for pid, entry in partition_log.producers.entries.items()
    }
