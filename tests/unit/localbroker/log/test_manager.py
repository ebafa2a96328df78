"""The LogManager: stray directories, atomic topic creation and deletion, checkpoints.

Metadata writes are stood for by the `commit` callbacks the broker passes; a failing one
raises the OSError a full disk raises.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kio.schema.errors import ErrorCode
from partition_logs import NOW, produce, produce_batches, read_all, value

from localbroker.errors import KafkaError
from localbroker.log.checkpoints import (
    LOG_START_OFFSET_FILE,
    RECOVERY_POINT_FILE,
    REPLICATION_OFFSET_FILE,
)
from localbroker.log.log_config import LogConfig
from localbroker.log.manager import LogManager

LONGEST = "t" * 249  # Kafka's longest topic name


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[LogManager]:
    opened = LogManager(tmp_path)
    try:
        yield opened
    finally:
        opened.abandon()


def nothing() -> None:
    pass


def full_disk() -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_the_controller_quorums_log_is_not_a_stray(tmp_path: Path) -> None:
    """`__cluster_metadata-0` belongs to the controller quorum, which keeps it in the same
    directory (as Kafka's metadata.log.dir defaults to the first log directory)."""
    (tmp_path / "__cluster_metadata-0").mkdir()
    manager = LogManager(tmp_path)
    try:
        manager.load([], NOW)
        assert (tmp_path / "__cluster_metadata-0").is_dir()
    finally:
        manager.close()


def test_directories_no_topic_claims_are_set_aside_as_strays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Lost metadata must never cost data: Kafka 3.7+ renames such logs -stray and keeps them."""
    first = LogManager(tmp_path)
    first.load([], NOW)
    first.create("orders", range(2), LogConfig(), NOW, nothing)
    produce_batches(first.logs[("orders", 1)], 2)
    first.close()
    (tmp_path / "lost+found").mkdir()
    before = {p.name: p.read_bytes() for p in (tmp_path / "orders-1").iterdir()}
    second = LogManager(tmp_path)
    try:
        second.load([("orders", 0, LogConfig())], NOW)  # orders-1 is unknown now
        strays = [p for p in tmp_path.iterdir() if p.name.endswith("-stray")]
        assert [
            re.fullmatch(r"orders-1\.[0-9a-f]{32}-stray", p.name) is not None for p in strays
        ] == [True]
        assert {p.name: p.read_bytes() for p in strays[0].iterdir()} == before
        assert (tmp_path / "orders-0").is_dir() and (tmp_path / "lost+found").is_dir()
        assert f"Log in {tmp_path / 'orders-1'} marked stray and renamed to {strays[0]}" in (
            caplog.text
        )
    finally:
        second.abandon()
    third = LogManager(tmp_path)  # strays stay; nothing deletes them
    try:
        third.load([("orders", 0, LogConfig())], NOW)
        assert strays[0].is_dir()
    finally:
        third.abandon()


def test_a_topic_with_the_longest_name_is_created_and_deleted(
    tmp_path: Path, manager: LogManager
) -> None:
    manager.load([], NOW)
    manager.create(LONGEST, range(3), LogConfig(), NOW, nothing)
    produce(manager.logs[(LONGEST, 2)], [b"x"])
    deleted: list[bool] = []
    manager.delete(LONGEST, range(3), lambda: deleted.append(True))
    assert deleted == [True]
    assert manager.logs == {}
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []


def test_a_failed_metadata_write_leaves_no_topic_behind(
    tmp_path: Path, manager: LogManager
) -> None:
    manager.load([], NOW)
    with pytest.raises(KafkaError) as failed:
        manager.create("phantom", range(2), LogConfig(), NOW, full_disk)
    assert failed.value.code == ErrorCode.kafka_storage_error
    assert manager.logs == {}
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []
    assert manager.status.offline
    with pytest.raises(KafkaError) as refused:  # offline: nothing is tried
        manager.create("later", range(1), LogConfig(), NOW, nothing)
    assert str(refused.value) == "Partition later-0 is in an offline log directory"
    assert manager.status.probe()
    manager.create("later", range(1), LogConfig(), NOW, nothing)
    assert list(manager.logs) == [("later", 0)]


def test_a_failed_metadata_write_deletes_nothing(manager: LogManager) -> None:
    manager.load([], NOW)
    manager.create("kept", range(1), LogConfig(), NOW, nothing)
    produce_batches(manager.logs[("kept", 0)], 2)
    with pytest.raises(KafkaError) as failed:
        manager.delete("kept", range(1), full_disk)
    assert failed.value.code == ErrorCode.kafka_storage_error
    assert read_all(manager.logs[("kept", 0)], 0) == [(o, value(o)) for o in range(6)]


@pytest.mark.parametrize(
    "content",
    [b"0\n1\nt 0 \xff\xfe\n", b"garbage", b"", b"0\n3\nt 0 5\n", b"7\n1\nt 0 5\n"],
    ids=["not-utf8", "garbage", "empty", "short", "version"],
)
def test_an_unreadable_checkpoint_is_reset_with_kafkas_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    first = LogManager(tmp_path)
    first.load([], NOW)
    first.create("t", range(1), LogConfig(), NOW, nothing)
    produce_batches(first.logs[("t", 0)], 2)
    first.close()
    for name in (RECOVERY_POINT_FILE, LOG_START_OFFSET_FILE):
        (tmp_path / name).write_bytes(content)
    again = LogManager(tmp_path)
    try:
        again.load([("t", 0, LogConfig())], NOW)
        assert read_all(again.logs[("t", 0)], 0) == [(o, value(o)) for o in range(6)]
    finally:
        again.abandon()
    assert (
        "Error occurred while reading recovery-point-offset-checkpoint file of directory"
        f" {tmp_path}, resetting the recovery checkpoint to 0" in caplog.text
    )
    assert (
        "Error occurred while reading log-start-offset-checkpoint file of directory"
        f" {tmp_path}, resetting to the base offset of the first segment" in caplog.text
    )


def closed_log(tmp_path: Path, high_watermark: int | None) -> None:
    """A log of 5 records whose high watermark replication held at `high_watermark` (None:
    never replicated, a single broker's), checkpointed and closed cleanly."""
    manager = LogManager(tmp_path)
    manager.load([("t", 0, LogConfig())], NOW)
    partition_log = manager.logs["t", 0]
    produce(partition_log, [value(offset) for offset in range(5)])
    if high_watermark is not None:
        partition_log.set_high_watermark(high_watermark)
    manager.close()


def reopened_high_watermark(tmp_path: Path) -> int:
    """The log's high watermark once opened again as a cluster node opens it."""
    manager = LogManager(tmp_path)
    try:
        manager.load([("t", 0, LogConfig())], NOW, replicated=True)
        return manager.logs["t", 0].high_watermark
    finally:
        manager.close()


def test_a_replicated_log_reopens_at_its_checkpointed_high_watermark(tmp_path: Path) -> None:
    """Kafka's replication-offset-checkpoint: a restarted replica must not offer consumers
    records the ISR never held (up to its log end offset, 5), nor forget what it knew was
    committed."""
    closed_log(tmp_path, high_watermark=2)

    assert (tmp_path / REPLICATION_OFFSET_FILE).read_text() == "0\n1\nt 0 2\n"
    assert reopened_high_watermark(tmp_path) == 2


def test_a_log_without_a_checkpointed_high_watermark_starts_from_zero(tmp_path: Path) -> None:
    """As Kafka's Partition.createLogIfNotExists: no checkpoint entry, high watermark 0 (the
    log start offset at least), raised again as replication confirms what the ISR holds."""
    closed_log(tmp_path, high_watermark=None)
    (tmp_path / REPLICATION_OFFSET_FILE).unlink()

    assert reopened_high_watermark(tmp_path) == 0
