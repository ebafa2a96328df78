"""Damage done to files the way a bad disk, a crash or a careless hand does it, for the tests
that check what the broker makes of it."""

from __future__ import annotations

from pathlib import Path


def flip_bits(path: Path, position: int, mask: int = 0x10) -> None:
    """XOR the byte at `position` with `mask` (a bit flip, or several)."""
    with open(path, "r+b") as file:
        file.seek(position)
        byte = file.read(1)
        file.seek(position)
        file.write(bytes([byte[0] ^ mask]))


APPENDED_SUFFIXES = (".log", ".index", ".timeindex")
"""Files the broker appends to; every other file is replaced whole, fsynced before the
rename, so a power loss leaves it old or new, never shorter."""


def durable_sizes(journal: Path) -> dict[Path, int]:
    """Size of each file at its last fsync, from a LOCALBROKER_FSYNC_JOURNAL journal."""
    sizes: dict[Path, int] = {}
    if journal.exists():
        for line in journal.read_text().splitlines():
            path, size = line.rsplit("\t", 1)
            sizes[Path(path)] = int(size)
    return sizes


def sizes_of(data_dir: Path) -> dict[Path, int]:
    """Size of every appended-to file under `data_dir` (its real path, as journals name it)."""
    return {
        path.resolve(): path.stat().st_size
        for path in data_dir.rglob("*")
        if path.is_file() and path.name.endswith(APPENDED_SUFFIXES)
    }


def lose_power(data_dir: Path, journal: Path, durable_before: dict[Path, int]) -> int:
    """Leave `data_dir` as a machine that lost power would: every appended-to file cut back to
    its size at its last fsync (from `journal`, or `durable_before` for what was durable when
    the journal began), and such a file never fsynced gone. Returns the bytes dropped."""
    durable = {**durable_before, **durable_sizes(journal)}
    dropped = 0
    for path, size in sizes_of(data_dir).items():
        keep = durable.get(path)
        if keep is None:
            dropped += size
            path.unlink()
        elif size > keep:
            dropped += size - keep
            with open(path, "r+b") as file:
                file.truncate(keep)
    return dropped
