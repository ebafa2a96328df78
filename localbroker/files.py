"""Durable writes: small files replaced atomically, and the one place every fsync goes through.

A crash at any moment leaves a file written by `write_atomically` either old or new, never
half-written, and a failed write (a full disk) leaves no temp file behind. Every fsync of the
broker goes through `fsync`, so what is durable can be observed: tests gate an fsync to hold
a record unflushed, and `LOCALBROKER_FSYNC_JOURNAL` names a file that gets one line per fsync
(`path<TAB>size`), from which a power-loss test rebuilds what a machine would keep.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

FSYNC_JOURNAL_ENV = "LOCALBROKER_FSYNC_JOURNAL"

FsyncObserver = Callable[[int], None]
_observers: list[FsyncObserver] = []


class DataDirError(Exception):
    """A data directory the broker cannot start from; the message names the file and says
    what to do, and is all the command line prints."""


def fsync(fd: int) -> None:
    """os.fsync, then tell the observers that everything written to `fd` so far is durable."""
    os.fsync(fd)
    for observer in list(_observers):
        observer(fd)


def observe_fsyncs(observer: FsyncObserver) -> Callable[[], None]:
    """Call `observer(fd)` after every fsync (in the thread that made it); returns the
    function that stops it. An observer that blocks holds that fsync's caller."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def fsync_path(path: Path) -> None:
    """fsync a file or directory by name (a directory, so that renames in it are durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write a temp file, fsync it, rename it over `path`, and fsync the directory.

    `mode` (before the umask) is the file's from its first byte: 0o600 keeps secrets from
    ever being readable by others, even for a moment."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with open(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            fsync(file.fileno())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_path(path.parent)


class FsyncJournal:
    """An fsync observer appending `path<TAB>size` lines to a file, one write per line, so a
    process killed at any moment leaves whole lines of what it had made durable."""

    def __init__(self, journal: Path) -> None:
        self._fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def __call__(self, fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        os.write(self._fd, f"{path}\t{os.fstat(fd).st_size}\n".encode())


def journal_fsyncs_if_asked() -> None:
    """Start the fsync journal named by $LOCALBROKER_FSYNC_JOURNAL, if it is set."""
    journal = os.environ.get(FSYNC_JOURNAL_ENV)
    if journal:
        observe_fsyncs(FsyncJournal(Path(journal)))
