"""Connection limits as plain state: counts by address and in all, and idle expiry by clock."""

from __future__ import annotations

import pytest

from localbroker.config.broker import BrokerConfig
from localbroker.connection_quotas import ConnectionQuotas, IdleExpiry, parse_ip_overrides
from localbroker.errors import KafkaError


def quotas(**config: str) -> ConnectionQuotas:
    return ConnectionQuotas(BrokerConfig({k.replace("_", "."): v for k, v in config.items()}))


def test_per_address_limit_and_overrides() -> None:
    limits = quotas(max_connections_per_ip="1", max_connections_per_ip_overrides="10.0.0.1:2")
    assert [limits.admit("10.0.0.2"), limits.admit("10.0.0.2")] == [None, 1]
    assert [limits.admit("10.0.0.1"), limits.admit("10.0.0.1"), limits.admit("10.0.0.1")] == [
        None,
        None,
        2,
    ]
    assert limits.total == 3  # refused connections are not counted
    limits.release("10.0.0.2")
    assert limits.admit("10.0.0.2") is None


def test_max_connections_counts_every_address() -> None:
    limits = quotas(max_connections="2")
    limits.admit("10.0.0.1")
    assert limits.slot_available()
    limits.admit("10.0.0.2")
    assert not limits.slot_available()
    limits.release("10.0.0.1")
    assert limits.slot_available()


def test_limits_follow_dynamic_config() -> None:
    config = BrokerConfig({})
    limits = ConnectionQuotas(config)
    limits.admit("10.0.0.1")
    config.attach_dynamic({"max.connections": "1"}, {})
    assert not limits.slot_available()


@pytest.mark.parametrize("text", ["host", "host:", ":5", "host:many", "a:1,b"])
def test_bad_overrides_are_refused(text: str) -> None:
    with pytest.raises(KafkaError, match="Error parsing configuration property"):
        parse_ip_overrides(text)


def test_idle_expiry_closes_the_oldest_first_and_activity_renews() -> None:
    idle: IdleExpiry[str] = IdleExpiry(1000)
    idle.touch("a", 0.0)
    idle.touch("b", 0.5)
    idle.touch("a", 0.9)  # a was active again: b is now the oldest
    assert idle.next_deadline() == 1.5
    assert idle.expired(1.5) == []  # exactly the limit is not over it
    assert idle.expired(1.6) == ["b"]
    assert idle.expired(2.0) == ["a"]
    assert idle.next_deadline() is None


def test_negative_idle_time_turns_expiry_off() -> None:
    assert not IdleExpiry(-1).enabled
    assert IdleExpiry(0).enabled


def test_a_dynamic_change_kafka_refuses_is_refused() -> None:
    config = BrokerConfig({})
    with pytest.raises(KafkaError, match="can be set to zero only if"):
        config.validate_dynamic({"max.connections.per.ip": "0"})
    with pytest.raises(KafkaError, match="Error parsing configuration property"):
        config.validate_dynamic({"max.connections.per.ip.overrides": "nocount"})
    both = {"max.connections.per.ip": "0", "max.connections.per.ip.overrides": "10.0.0.1:5"}
    assert config.validate_dynamic(both) == both
