"""Whether the log directory takes writes: a failed write takes it offline, a probe brings it back.

Kafka's LogDirFailureChannel takes a log directory offline at the first I/O error, and a
broker whose every directory failed halts. localbroker has one directory and a developer at
the keyboard, so it stays up instead: while the directory is offline, every write to it
(Produce, group commits, topic creation) answers KAFKA_STORAGE_ERROR without touching the
disk, what is already stored is still served to readers, and a probe (a file of
`PROBE_BYTES` written, fsynced and removed every `PROBE_INTERVAL_MS`) brings the directory
back online as soon as the disk takes writes again, for instance once space is freed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from kio.schema.errors import ErrorCode

from ..errors import KafkaError
from ..files import fsync

log = logging.getLogger(__name__)

PROBE_FILE = ".localbroker-probe"
PROBE_BYTES = 1024 * 1024
PROBE_INTERVAL_MS = 1000


class LogDirStatus:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offline_reason: str | None = None

    @property
    def offline(self) -> bool:
        return self.offline_reason is not None

    def refusal(self, subject: str) -> KafkaError:
        """What a write to `subject` is refused with while offline, as Kafka words it:
        "Partition t-0 is in an offline log directory"."""
        return KafkaError(
            ErrorCode.kafka_storage_error, f"{subject} is in an offline log directory"
        )

    def failed(self, what: str, exc: Exception) -> KafkaError:
        """Take the directory offline after `exc`; the KAFKA_STORAGE_ERROR to answer with."""
        message = f"{what}: {getattr(exc, 'strerror', None) or exc}"
        if self.offline_reason is None:
            self.offline_reason = message
            log.error(
                "%s; stopping serving writes to logs in dir %s until it takes writes again",
                message,
                self.path,
            )
        return KafkaError(ErrorCode.kafka_storage_error, message)

    def probe(self) -> bool:
        """Try a write to an offline directory; True when it is (back) online."""
        if self.offline_reason is None:
            return True
        path = self.path / PROBE_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                written = os.write(fd, bytes(PROBE_BYTES))
                if written != PROBE_BYTES:
                    raise OSError(f"only {written} of {PROBE_BYTES} bytes written")
                fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            return False
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
        log.warning("log dir %s takes writes again; back online", self.path)
        self.offline_reason = None
        return True
