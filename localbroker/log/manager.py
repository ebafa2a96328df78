"""Every partition log under one data directory, and the files that describe them together.

Besides the `<topic>-<partition>` directories, the data directory holds Kafka's checkpoint
files, a `.lock` that keeps a second broker out, and `.kafka_cleanshutdown`, whose presence
at start means no recovery scan is needed.

Partition directories are never deleted unless their topic was: one that no topic claims at
start (the metadata was lost, or the topic was deleted while the directory could not be
renamed) is renamed `<topic>-<partition>.<id>-stray` and kept, as Kafka 3.7+ keeps stray
logs. Topic creation and deletion are atomic from a client's view: the metadata is written
first, and only then are the logs made visible or forgotten (see `create` and `delete`).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from ..files import DataDirError
from ..protocol.names import CLUSTER_METADATA_TOPIC
from .checkpoints import (
    LOG_START_OFFSET_FILE,
    RECOVERY_POINT_FILE,
    REPLICATION_OFFSET_FILE,
    read_checkpoint,
    write_checkpoint,
)
from .dir_status import LogDirStatus
from .log_config import LogConfig
from .partition import PartitionLog

log = logging.getLogger(__name__)

CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"
LOCK_FILE = ".lock"
DELETE_SUFFIX = "-delete"
STRAY_SUFFIX = "-stray"
MAX_FILE_NAME = 255
_PARTITION_DIR = re.compile(r"^(?P<topic>[a-zA-Z0-9._-]+)-(?P<partition>\d+)$")


class DataDirInUse(DataDirError):
    pass


def partition_dir_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}"


def renamed_dir_name(topic: str, partition: int, suffix: str) -> str:
    """`<topic>-<partition>.<unique id><suffix>`, the topic cut short so the name fits in 255
    characters, as Kafka names directories to delete and stray ones (a 249-character topic
    could not be deleted without it)."""
    tail = f"-{partition}.{uuid.uuid4().hex}{suffix}"
    return topic[: MAX_FILE_NAME - len(tail)] + tail


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
        self.status = LogDirStatus(data_dir)
        self.clean_shutdown = (data_dir / CLEAN_SHUTDOWN_FILE).exists() or not any(
            _PARTITION_DIR.match(path.name) for path in data_dir.iterdir() if path.is_dir()
        )

    def load(
        self,
        partitions: Iterable[tuple[str, int, LogConfig]],
        now_ms: int,
        *,
        replicated: bool = False,
    ) -> None:
        """Open the logs of every known partition, recovering them after an unclean stop.

        `replicated` (cluster mode): each log's high watermark is what it was checkpointed as
        (0 without a checkpoint, within the log's offsets), as Kafka's
        Partition.createLogIfNotExists sets it, and from then on only replication raises it;
        a single broker's high watermark follows its log end offset instead."""
        partitions = list(partitions)
        for path in self.data_dir.iterdir():
            if path.is_dir() and path.name.endswith(DELETE_SUFFIX):
                shutil.rmtree(path, ignore_errors=True)
        self._set_aside_strays({partition_dir_name(t, p) for t, p, _ in partitions})
        recovery_points = read_checkpoint(
            self.data_dir / RECOVERY_POINT_FILE, "resetting the recovery checkpoint to 0"
        )
        start_offsets = read_checkpoint(
            self.data_dir / LOG_START_OFFSET_FILE,
            "resetting to the base offset of the first segment",
        )
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
                status=self.status,
            )
        if replicated:
            self._replicate_from_checkpoint()
        (self.data_dir / CLEAN_SHUTDOWN_FILE).unlink(missing_ok=True)
        self.write_checkpoints()

    def _replicate_from_checkpoint(self) -> None:
        high_watermarks = read_checkpoint(
            self.data_dir / REPLICATION_OFFSET_FILE,
            "resetting the high watermarks to 0",
        )
        for key, partition_log in self.logs.items():
            checkpointed = max(high_watermarks.get(key, 0), partition_log.log_start_offset)
            partition_log.set_high_watermark(checkpointed)

    def _set_aside_strays(self, known: set[str]) -> None:
        for path in sorted(self.data_dir.iterdir()):
            match = _PARTITION_DIR.match(path.name)
            if match is None or match["topic"] == CLUSTER_METADATA_TOPIC:
                continue  # the controller quorum's log is not the log manager's
            if path.is_dir() and path.name not in known:
                self._set_aside(path, match["topic"], int(match["partition"]))

    def _set_aside(self, path: Path, topic: str, partition: int) -> None:
        stray = path.with_name(renamed_dir_name(topic, partition, STRAY_SUFFIX))
        os.replace(path, stray)
        log.warning("Log in %s marked stray and renamed to %s", path, stray)

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self.logs.get((topic, partition))

    def create(
        self,
        topic: str,
        partitions: Iterable[int],
        config: LogConfig,
        now_ms: int,
        commit: Callable[[], object],
    ) -> None:
        """Create the logs of `partitions`, `commit` the metadata that names them, and only
        then make them visible. If anything fails (a full disk), the directories made are
        removed and nothing changed: KAFKA_STORAGE_ERROR, and the directory goes offline."""
        made: list[PartitionLog] = []
        directories: list[Path] = []
        try:
            for partition in partitions:
                if self.status.offline:
                    raise self.status.refusal(f"Partition {topic}-{partition}")
                directory = self.data_dir / partition_dir_name(topic, partition)
                if directory.exists():  # nobody's: set it aside rather than use or delete it
                    self._set_aside(directory, topic, partition)
                # Listed before the log opens: opening writes (the leader-epoch checkpoint),
                # and a full disk can refuse that after the directory exists.
                directories.append(directory)
                made.append(
                    PartitionLog(
                        directory, topic, partition, config, now_ms=now_ms, status=self.status
                    )
                )
            commit()
        except OSError as exc:
            for partition_log in made:
                _close(partition_log)
            for directory in directories:
                shutil.rmtree(directory, ignore_errors=True)
            what = f"Error while creating logs of {topic} in dir {self.data_dir}"
            raise self.status.failed(what, exc) from exc
        for partition_log in made:
            self.logs[(topic, partition_log.partition)] = partition_log

    def delete(self, topic: str, partitions: Iterable[int], commit: Callable[[], object]) -> None:
        """`commit` the metadata without the topic, then forget its logs and delete their
        directories, renamed out of the way first (as Kafka does). A failed commit changes
        nothing; a directory that cannot be renamed is set aside at the next start."""
        if self.status.offline:
            raise self.status.refusal(f"Topic {topic}")
        try:
            commit()
        except OSError as exc:
            raise self.status.failed(f"Error while deleting topic {topic}", exc) from exc
        for partition in partitions:
            partition_log = self.logs.pop((topic, partition), None)
            if partition_log is None:
                continue
            _close(partition_log)
            doomed = self.data_dir / renamed_dir_name(topic, partition, DELETE_SUFFIX)
            try:
                os.replace(partition_log.directory, doomed)
            except OSError as exc:
                log.error(
                    "could not rename %s to %s to delete it: %s; it is set aside at the next start",
                    partition_log.directory,
                    doomed,
                    exc,
                )
                continue
            shutil.rmtree(doomed, ignore_errors=True)

    def write_checkpoints(self) -> None:
        """Write every checkpoint; a failure takes the directory offline (as in Kafka) but
        is not raised: the checkpoints only shorten the next recovery."""
        self.write_high_watermarks()
        try:
            write_checkpoint(
                self.data_dir / RECOVERY_POINT_FILE,
                {key: partition_log.recovery_point for key, partition_log in self.logs.items()},
            )
            write_checkpoint(
                self.data_dir / LOG_START_OFFSET_FILE,
                {key: partition_log.log_start_offset for key, partition_log in self.logs.items()},
            )
        except OSError as exc:
            self.status.failed(f"Error while writing checkpoints in dir {self.data_dir}", exc)

    def write_high_watermarks(self) -> None:
        """replica.high.watermark.checkpoint.interval.ms, and at start and clean shutdown: a
        crash loses at most what the high watermark gained since (a restarted replica starts
        lower, never above what the ISR held, and replication raises it again)."""
        try:
            write_checkpoint(
                self.data_dir / REPLICATION_OFFSET_FILE,
                {key: partition_log.high_watermark for key, partition_log in self.logs.items()},
            )
        except OSError as exc:
            self.status.failed(f"Error while writing checkpoints in dir {self.data_dir}", exc)

    def close(self) -> None:
        """Flush everything, checkpoint, and mark the shutdown clean, unless something
        could not be made durable (then the next start recovers, as after a crash)."""
        for partition_log in self.logs.values():
            try:
                partition_log.close()
            except OSError as exc:
                self.status.failed(f"Error while closing {partition_log.name}", exc)
                _close(partition_log)
        self.write_checkpoints()
        if not self.status.offline:
            (self.data_dir / CLEAN_SHUTDOWN_FILE).touch()
        self.logs.clear()
        os.close(self._lock_fd)

    def abandon(self) -> None:
        """Release files without a clean-shutdown mark (used when start-up fails)."""
        for partition_log in self.logs.values():
            _close(partition_log)
        self.logs.clear()
        os.close(self._lock_fd)


def _close(partition_log: PartitionLog) -> None:
    for segment in partition_log.segments:
        with contextlib.suppress(OSError):
            segment.close()
