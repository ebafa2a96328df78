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
