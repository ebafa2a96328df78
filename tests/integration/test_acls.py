"""ACLs: CreateAcls, DescribeAcls and DeleteAcls through librdkafka's admin client, enforced by
the authorizer (StandardAuthorizer's rules) with super users and deny by default."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from secured import librdkafka_settings, sasl_config

from tui.embedded import EmbeddedBroker

AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
PROTOCOL = "SASL_PLAINTEXT"
TIMEOUT = 30.0


@pytest.fixture
def locked(start_broker: Any) -> EmbeddedBroker:
    return start_broker(
        sasl_config(PROTOCOL, **{"authorizer.class.name": AUTHORIZER, "super.users": "User:admin"})
    )


def settings(broker: EmbeddedBroker, user: str, password: str) -> dict[str, Any]:
    base = librdkafka_settings(broker.bootstrap_for(PROTOCOL), "PLAIN", PROTOCOL)
    return {**base, "sasl.username": user, "sasl.password": password}


def admin_of(broker: EmbeddedBroker, user: str = "admin", password: str = "admin-secret") -> Any:
    return AdminClient(settings(broker, user, password))


def write_acl(topic: str) -> AclBinding:
    return AclBinding(ResourceType.TOPIC, topic, ResourcePatternType.LITERAL, "User:alice", "*",
                      AclOperation.WRITE, AclPermissionType.ALLOW)  # fmt: skip


def produced(broker: EmbeddedBroker, topic: str) -> str:
    """The error of one produce by alice, or "" when it was acknowledged."""
    errors: list[str] = []
    producer = Producer({**settings(broker, "alice", "alice-secret"), "message.timeout.ms": 10000})
    producer.produce(topic, b"x", on_delivery=lambda err, _: errors.append(str(err or "")))
    producer.flush(TIMEOUT)
    return errors[0]


def test_deny_by_default_then_allowed_by_an_acl(locked: EmbeddedBroker) -> None:
    admin = admin_of(locked)
    admin.create_topics([NewTopic("orders", 1)])["orders"].result(TIMEOUT)
    assert "TOPIC_AUTHORIZATION_FAILED" in produced(locked, "orders")
    hidden = admin_of(locked, "alice", "alice-secret").list_topics(timeout=TIMEOUT).topics
    assert "orders" not in hidden, "Metadata hides topics alice may not describe"
    admin.create_acls([write_acl("orders")])[write_acl("orders")].result(TIMEOUT)
    assert produced(locked, "orders") == ""
    shown = admin_of(locked, "alice", "alice-secret").list_topics(timeout=TIMEOUT).topics
    assert "orders" in shown, "WRITE implies DESCRIBE"
    listed = admin.describe_acls(
        AclBindingFilter(
            ResourceType.ANY,
            None,
            ResourcePatternType.ANY,
            None,
            None,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
    ).result(TIMEOUT)
    assert listed == [write_acl("orders")]


def test_refusals_are_logged_as_kafkas_authorizer_logs_them(
    locked: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    """One line per refusal naming principal, operation, host and resource; none for topics
    merely left out of an all-topics listing."""
    caplog.set_level(logging.INFO, logger="localbroker.authorizer")
    admin = admin_of(locked)
    admin.create_topics([NewTopic("payroll", 1)])["payroll"].result(TIMEOUT)
    alice = admin_of(locked, "alice", "alice-secret")
    assert "payroll" not in alice.list_topics(timeout=TIMEOUT).topics

    def refusals() -> set[str]:
        return {r.getMessage() for r in caplog.records if r.name == "localbroker.authorizer"}

    assert refusals() == set(), "a topic left out of a listing is no refusal"
    assert "TOPIC_AUTHORIZATION_FAILED" in produced(locked, "payroll")
    assert refusals() == {  # librdkafka asks for the topic's metadata before producing
        "Principal = User:alice is Denied operation = DESCRIBE from host = 127.0.0.1 on resource"
        " = ResourcePattern(resourceType=TOPIC, name=payroll, patternType=LITERAL) for request ="
        " METADATA"
    }


def test_only_super_users_manage_acls(locked: EmbeddedBroker) -> None:
    alice = admin_of(locked, "alice", "alice-secret")
    with pytest.raises(
        KafkaException, match=r"CLUSTER_AUTHORIZATION_FAILED|[Cc]luster authorization"
    ):
        alice.create_acls([write_acl("x")])[write_acl("x")].result(TIMEOUT)


def test_acls_survive_a_restart_and_can_be_deleted(start_broker: Any, tmp_path: Any) -> None:
    config = sasl_config(PROTOCOL, **{"authorizer.class.name": AUTHORIZER,
                                      "super.users": "User:admin"})  # fmt: skip
    first = start_broker(config, tmp_path / "kept")
    first_admin = admin_of(first)
    first_admin.create_acls([write_acl("t")])[write_acl("t")].result(TIMEOUT)
    first.stop()
    second = start_broker(config, tmp_path / "kept")
    acl_filter = AclBindingFilter(ResourceType.TOPIC, "t", ResourcePatternType.MATCH, None, None,
                                  AclOperation.ANY, AclPermissionType.ANY)  # fmt: skip
    second_admin = admin_of(second)
    deleted = second_admin.delete_acls([acl_filter])[acl_filter].result(TIMEOUT)
    assert deleted == [write_acl("t")]


def test_without_an_authorizer_acl_requests_are_security_disabled(broker: EmbeddedBroker) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    with pytest.raises(KafkaException, match=r"SECURITY_DISABLED|No Authorizer"):
        admin.create_acls([write_acl("x")])[write_acl("x")].result(TIMEOUT)
