"""localbroker: a single-process Kafka-protocol broker that keeps its log on disk."""

from .broker import LocalBroker
from .log.manager import DataDirInUse

__all__ = ["DataDirInUse", "LocalBroker"]
