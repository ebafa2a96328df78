"""Kafka's offset checkpoint files: recovery points, log start offsets and high watermarks.

Format, as Kafka writes it: a version line (0), an entry count, then `topic partition offset`
per line. Written to a temp file, fsynced and renamed, so a crash leaves the old or the new.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..files import write_atomically

log = logging.getLogger(__name__)

RECOVERY_POINT_FILE = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_FILE = "log-start-offset-checkpoint"
REPLICATION_OFFSET_FILE = "replication-offset-checkpoint"
"""Each partition's high watermark (ReplicaManager.HighWatermarkFilename)."""


def write_checkpoint(path: Path, offsets: dict[tuple[str, int], int]) -> None:
    lines = ["0", str(len(offsets))]
    lines += [f"{topic} {partition} {offset}" for (topic, partition), offset in offsets.items()]
    write_atomically(path, ("\n".join(lines) + "\n").encode())


def read_checkpoint(path: Path, resetting: str) -> dict[tuple[str, int], int]:
    """Offsets from a checkpoint file; empty when it is missing, or unreadable (then with
    Kafka's warning, whose end `resetting` says what the broker does instead)."""
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        return _reset(path, resetting, exc)
    try:
        if lines[0].strip() != "0":
            raise ValueError(f"unknown checkpoint version {lines[0]!r}")
        count = int(lines[1])
        entries = lines[2:]
        if len(entries) != count:
            raise ValueError(f"expected {count} entries but found {len(entries)}")
        offsets = {}
        for line in entries:
            topic, partition, offset = line.rsplit(" ", 2)
            offsets[(topic, int(partition))] = int(offset)
        return offsets
    except (IndexError, ValueError) as exc:
        return _reset(path, resetting, exc)


def _reset(path: Path, resetting: str, exc: Exception) -> dict[tuple[str, int], int]:
    log.warning(
        "Error occurred while reading %s file of directory %s, %s: %s",
        path.name,
        path.parent,
        resetting,
        exc,
    )
    return {}
