"""File descriptors: every connection and every log segment holds one, and a process may open
only so many (`ulimit -n`). Running out stops everything at once: no client can connect, no
segment can roll. So the broker

- raises its soft limit to the hard limit at start, as the JVM does for Kafka;
- keeps one descriptor in reserve, so that when accept() fails for lack of descriptors it can
  still take the waiting connection and close it, with a warning at most every ten seconds:
  the client learns at once instead of waiting in the listen backlog, and the operator learns
  why;
- refuses to create partitions that would leave fewer than `headroom()` descriptors for
  connections and segment rolls, with a message saying what to raise.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import time

from kio.schema.errors import ErrorCode

from .errors import KafkaError

log = logging.getLogger(__name__)

_WARNING_INTERVAL_S = 10.0
_MIN_HEADROOM = 64


def raise_soft_limit() -> int:
    """Raise this process's descriptor limit to the hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # macOS caps it below an unlimited hard limit
            pass
    return soft


def limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_count() -> int:
    """Descriptors this process has open."""
    for directory in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(directory)) - 1  # listdir's own descriptor
        except OSError:
            continue
    return 0


def headroom() -> int:
    """Descriptors kept free for connections and segment rolls: a tenth of the limit."""
    return max(_MIN_HEADROOM, limit() // 10)


def check_room_for(partitions: int) -> None:
    """POLICY_VIOLATION unless `partitions` new logs (a descriptor each) leave the headroom."""
    free = limit() - open_count()
    if free - partitions < headroom():
        raise KafkaError(
            ErrorCode.policy_violation,
            f"Creating {partitions} partition(s) would leave {max(free - partitions, 0)} of the"
            f" {limit()} file descriptors this broker may open (ulimit -n) for connections and"
            f" new segments; it keeps {headroom()} free. Raise the limit or create fewer"
            " partitions.",
        )


class Reserve:
    """One descriptor held back, to be lent for a moment when all the others are taken."""

    def __init__(self) -> None:
        self._fd: int | None = os.open(os.devnull, os.O_RDONLY)

    def lend(self) -> None:
        """Free the reserved descriptor for the caller's next open or accept."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def restore(self) -> None:
        if self._fd is None:  # if taken meanwhile, lend() does nothing until one frees up
            with contextlib.suppress(OSError):
                self._fd = os.open(os.devnull, os.O_RDONLY)

    def close(self) -> None:
        self.lend()


class RefusalLog:
    """Connections refused for lack of descriptors: the first is logged at once, the rest as
    a count at most every ten seconds, so a flood of connections cannot flood the log."""

    def __init__(self) -> None:
        self._unlogged = 0
        self._last_logged = -_WARNING_INTERVAL_S

    def refused(self, peer: str | None, reason: OSError) -> None:
        """One connection from `peer` closed unserved (None: left waiting, not even taken)."""
        self._unlogged += 1
        now = time.monotonic()
        if now - self._last_logged < _WARNING_INTERVAL_S:
            return
        log.warning(
            "Refused %d connection(s), the latest %s: %s (this broker may open %d file"
            " descriptors: raise ulimit -n, or lower max.connections)",
            self._unlogged,
            f"from {peer}" if peer else "left waiting to be accepted",
            reason.strerror or reason,
            limit(),
        )
        self._unlogged = 0
        self._last_logged = now
