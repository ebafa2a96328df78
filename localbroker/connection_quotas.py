"""Kafka's connection limits as plain state the server consults, with no sockets here.

- `max.connections`: when the broker holds that many connections it stops accepting, and new
  ones wait in the listen backlog until one closes (Kafka's acceptor blocks the same way).
- `max.connections.per.ip`, with `max.connections.per.ip.overrides` ("host:count,..."): a
  connection over its address's limit is accepted and closed at once, and Kafka's line
  "Rejected connection from ..." is logged.
- `connections.max.idle.ms`: a connection with no bytes in or out for that long is closed,
  oldest first (Kafka's IdleExpiryManager); a negative value turns this off.

The limits are read from the config at every accept, so AlterConfigs changes them at once,
as Kafka's dynamic broker configs do.
"""

from __future__ import annotations

import socket
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Generic, TypeVar

from kio.schema.errors import ErrorCode

from .errors import KafkaError

if TYPE_CHECKING:
    from .config.broker import BrokerConfig

K = TypeVar("K", bound=Hashable)
OVERRIDES = "max.connections.per.ip.overrides"


def parse_ip_overrides(text: str) -> dict[str, int]:
    """`host1:100,127.0.0.1:200` as {host: limit}, or INVALID_CONFIG as Kafka words it."""
    overrides: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, count = item.rpartition(":")
        if not sep or not host or not count.strip().isdigit():
            raise KafkaError(
                ErrorCode.invalid_config,
                f"Error parsing configuration property '{OVERRIDES}': {item!r} is not host:count",
            )
        overrides[host.strip().strip("[]")] = int(count)
    return overrides


@cache
def _addresses(host: str) -> tuple[str, ...]:
    """The IP addresses `host` stands for (itself when it is one), as Kafka resolves them."""
    try:
        return tuple({str(info[4][0]) for info in socket.getaddrinfo(host, None)})
    except OSError:
        return (host,)


@cache
def _limits_by_address(text: str) -> dict[str, int]:
    return {
        address: limit
        for host, limit in parse_ip_overrides(text).items()
        for address in _addresses(host)
    }


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int
    max_per_ip: int
    per_ip_overrides: str
    max_idle_ms: int

    @classmethod
    def from_config(cls, config: BrokerConfig) -> ConnectionLimits:
        return cls.from_lookup(config.value)

    @classmethod
    def from_lookup(cls, value: Callable[[str], str | None]) -> ConnectionLimits:
        """The limits from a config lookup, or INVALID_CONFIG for a combination Kafka refuses."""
        limits = cls(
            int(value("max.connections") or 0),
            int(value("max.connections.per.ip") or 0),
            value(OVERRIDES) or "",
            int(value("connections.max.idle.ms") or 0),
        )
        overrides = _limits_by_address(limits.per_ip_overrides)
        if limits.max_per_ip == 0 and not overrides:
            raise KafkaError(
                ErrorCode.invalid_config,
                f"max.connections.per.ip can be set to zero only if {OVERRIDES} property is set.",
            )
        return limits

    def per_ip(self, address: str) -> int:
        return _limits_by_address(self.per_ip_overrides).get(address, self.max_per_ip)


class ConnectionQuotas:
    """Connections counted in all and by address (Kafka's ConnectionQuotas)."""

    def __init__(self, config: BrokerConfig) -> None:
        self._config = config
        self.limits  # noqa: B018  (refuse a bad config at start, not at the first accept)
        self.total = 0
        self._by_address: Counter[str] = Counter()

    @property
    def limits(self) -> ConnectionLimits:
        return ConnectionLimits.from_config(self._config)

    def slot_available(self) -> bool:
        """Whether another connection may be accepted now (max.connections)."""
        return self.total < self.limits.max_connections

    def admit(self, address: str) -> int | None:
        """Count a new connection from `address`; or, when that address already has as many
        as it may, leave the counts alone and return its limit: the caller refuses it."""
        limit = self.limits.per_ip(address)
        if self._by_address[address] >= limit:
            return limit
        self._by_address[address] += 1
        self.total += 1
        return None

    def release(self, address: str) -> None:
        self._by_address[address] -= 1
        if not self._by_address[address]:
            del self._by_address[address]
        self.total -= 1


class IdleExpiry(Generic[K]):
    """The last activity of each connection, oldest first, to close those idle too long."""

    def __init__(self, max_idle_ms: int) -> None:
        self.max_idle = max_idle_ms / 1000
        self._last_active: OrderedDict[K, float] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.max_idle >= 0

    def touch(self, key: K, now: float) -> None:
        self._last_active[key] = now
        self._last_active.move_to_end(key)

    def forget(self, key: K) -> None:
        self._last_active.pop(key, None)

    def expired(self, now: float) -> list[K]:
        """Every connection idle for longer than the limit, now forgotten."""
        found = []
        while self._last_active:
            key, last = next(iter(self._last_active.items()))
            if now - last <= self.max_idle:
                break
            found.append(key)
            del self._last_active[key]
        return found

    def next_deadline(self) -> float | None:
        """When the oldest connection will have idled too long (None: no connections)."""
        if not self._last_active:
            return None
        return next(iter(self._last_active.values())) + self.max_idle
