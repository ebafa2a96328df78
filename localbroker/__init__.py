"""localbroker: a single-process Kafka-protocol broker that keeps its log on disk."""

from .broker import LocalBroker

__all__ = ["LocalBroker"]
