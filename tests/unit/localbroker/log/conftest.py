"""Fixtures of the log's unit tests: partition logs opened in tmp_path and always closed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from partition_logs import NOW, SMALL, MakeLog

from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog


@pytest.fixture
def open_logs() -> Iterator[list[PartitionLog]]:
    """Logs opened by a test; their files are closed at the end whatever happens."""
    logs: list[PartitionLog] = []
    yield logs
    for log in logs:
        for segment in log.segments:
            segment.close()


@pytest.fixture
def make_log(tmp_path: Path, open_logs: list[PartitionLog]) -> MakeLog:
    """Open the partition log in tmp_path (again, for recovery tests) with a config."""

    def make(
        config: LogConfig = SMALL,
        *,
        log_start_offset: int = 0,
        recovery_point: int = 0,
        clean_shutdown: bool = True,
        leader_epoch: int | None = 0,
    ) -> PartitionLog:
        log = PartitionLog(
            tmp_path / "t-0",
            "t",
            0,
            config,
            log_start_offset=log_start_offset,
            recovery_point=recovery_point,
            clean_shutdown=clean_shutdown,
            now_ms=NOW,
            leader_epoch=leader_epoch,
        )
        open_logs.append(log)
        return log

    return make
