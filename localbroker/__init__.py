"""localbroker: a single-process broker that speaks Kafka's wire protocol and keeps its log on disk."""

from .broker import LocalBroker

__all__ = ["LocalBroker"]
