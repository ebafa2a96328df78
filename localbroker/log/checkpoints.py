"""Kafka's offset checkpoint files: recovery points and log start offsets.

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


def write_checkpoint(path: Path, offsets: dict[tuple[str, int], int]) -> None:
    lines = ["0", str(len(offsets))]
    lines += [f"{topic} {partition} {offset}" for (topic, partition), offset in offsets.items()]
    write_atomically(path, ("\n".join(lines) + "\n").encode())


def read_checkpoint(path: Path) -> dict[tuple[str, int], int]:
    """Offsets from a checkpoint file; empty when it is missing or unreadable."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    try:
        if lines[0].strip() != "0":
            raise ValueError(f"unknown checkpoint version {lines[0]!r}")
        count = int(lines[1])
        offsets = {}
        for line in lines[2 : 2 + count]:
            topic, partition, offset = line.rsplit(" ", 2)
            offsets[(topic, int(partition))] = int(offset)
        return offsets
    except (IndexError, ValueError) as exc:
        log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
        return {}
