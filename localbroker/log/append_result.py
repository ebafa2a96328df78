"""What an append to a partition log answers: the offsets it took."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class AppendResult:
    """The first and last offsets of an appended batch and its log append time (-1 when
    the topic keeps create times); for a `duplicate`, those of the batch it repeats."""

    base_offset: int
    last_offset: int
    log_append_time: int
    duplicate: bool = False
