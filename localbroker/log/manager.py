"""Every partition log under one data directory, and the files that describe them together.

Besides the `<topic>-<partition>` directories, the data directory holds Kafka's checkpoint
files, a `.lock` that keeps a second broker out, and `.kafka_cleanshutdown`, whose presence
at start means no recovery scan is needed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

from .checkpoints import (
    LOG_START_OFFSET_FILE,
    RECOVERY_POINT_FILE,
    read_checkpoint,
    write_checkpoint,
)
from .log_config import LogConfig
from .partition import PartitionLog

log = logging.getLogger(__name__)

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
LOCK_FILE = ".lock"
DELETE_SUFFIX = "-delete"


class DataDirInUse(Exception):
    pass


def partition_dir_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


class LogManager:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise DataDirInUse(
                f"{data_dir} is in use by another broker; stop it or choose another --data-dir"
            ) from None
        self.logs: dict[tuple[str, int], PartitionLog] = {}
        self.clean_shutdown = (data_dir / CLEAN_SHUTDOWN_FILE).exists() or not any(
            path.is_dir() for path in data_dir.iterdir()
        )

    def load(self, partitions: Iterable[tuple[str, int, LogConfig]], now_ms: int) -> None:
        """Open the logs of every known partition, recovering them after an unclean stop."""
        for path in self.data_dir.iterdir():
            if path.is_dir() and path.name.endswith(DELETE_SUFFIX):
                shutil.rmtree(path, ignore_errors=True)
        recovery_points = read_checkpoint(self.data_dir / RECOVERY_POINT_FILE)
        start_offsets = read_checkpoint(self.data_dir / LOG_START_OFFSET_FILE)
        if not self.clean_shutdown:
            log.warning(
                "%s was not shut down cleanly; recovering unflushed segments", self.data_dir
            )
        for topic, partition, config in partitions:
            key = (topic, partition)
            self.logs[key] = PartitionLog(
                self.data_dir / partition_dir_name(topic, partition),
                topic,
                partition,
                config,
                log_start_offset=start_offsets.get(key, 0),
                recovery_point=recovery_points.get(key, 0),
                clean_shutdown=self.clean_shutdown,
                now_ms=now_ms,
            )
        (self.data_dir / CLEAN_SHUTDOWN_FILE).unlink(missing_ok=True)
        self.write_checkpoints()

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self.logs.get((topic, partition))

    def create(self, topic: str, partition: int, config: LogConfig, now_ms: int) -> PartitionLog:
        directory = self.data_dir / partition_dir_name(topic, partition)
        if directory.exists():  # left over from a topic of the same name deleted while down
            shutil.rmtree(directory)
        partition_log = PartitionLog(directory, topic, partition, config, now_ms=now_ms)
        self.logs[(topic, partition)] = partition_log
        return partition_log

    def delete(self, topic: str, partition: int) -> None:
        """Rename the partition directory out of the way (as Kafka does), then remove it."""
        partition_log = self.logs.pop((topic, partition), None)
        if partition_log is None:
            return
        for segment in partition_log.segments:
            segment.close()
        doomed = partition_log.directory.with_name(
            f"{partition_log.directory.name}.{uuid.uuid4().hex}{DELETE_SUFFIX}"
        )
        os.replace(partition_log.directory, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def write_checkpoints(self) -> None:
        write_checkpoint(
            self.data_dir / RECOVERY_POINT_FILE,
            {key: partition_log.recovery_point for key, partition_log in self.logs.items()},
        )
        write_checkpoint(
            self.data_dir / LOG_START_OFFSET_FILE,
            {key: partition_log.log_start_offset for key, partition_log in self.logs.items()},
        )

    def close(self) -> None:
        """Flush everything, checkpoint, and mark the shutdown clean."""
        for partition_log in self.logs.values():
            partition_log.close()
        self.write_checkpoints()
        (self.data_dir / CLEAN_SHUTDOWN_FILE).touch()
        self.logs.clear()
        os.close(self._lock_fd)

    def abandon(self) -> None:
        """Release files without a clean-shutdown mark (used when start-up fails)."""
        for partition_log in self.logs.values():
            for segment in partition_log.segments:
                segment.close()
        self.logs.clear()
        os.close(self._lock_fd)
