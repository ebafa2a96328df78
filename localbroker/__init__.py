"""localbroker: a single-process Kafka-protocol broker that keeps its log on disk.

`LocalBroker` and `DataDirInUse` load on first use: importing any module of the package runs
this file first, and the workbench, which runs the broker in a child process, reaches
`localbroker.public` (Kafka's names) without loading the broker itself (1.6 s of its start on
a busy machine, bench/launch.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .broker import LocalBroker
    from .log.manager import DataDirInUse

__all__ = ["DataDirInUse", "LocalBroker"]


def __getattr__(name: str) -> object:
    if name == "LocalBroker":
        from .broker import LocalBroker

        return LocalBroker
    if name == "DataDirInUse":
        from .log.manager import DataDirInUse

        return DataDirInUse
    raise AttributeError(f"module 'localbroker' has no attribute {name!r}")
