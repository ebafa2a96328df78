"""The authorizer's "may this principal do this to at least one resource of the type?", as
Kafka's Authorizer.authorizeByResourceType answers it (InitProducerId asks it about WRITE on
topics): DENY ACLs that dominate an ALLOW, by name or by a prefix of it, cancel it."""

from __future__ import annotations

from pathlib import Path

import pytest

from localbroker.protocol.names import AclOperation, AclPermissionType, AclResourceType, PatternType
from localbroker.security.acls import AclBinding, Authorizer
from localbroker.security.store import SecurityStore

TOPIC, GROUP = AclResourceType.TOPIC, AclResourceType.GROUP
LITERAL, PREFIXED = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
WRITE, READ, ALL = AclOperation.WRITE, AclOperation.READ, AclOperation.ALL
ALICE = "User:alice"


def acl(
    permission: AclPermissionType,
    name: str,
    pattern: PatternType = LITERAL,
    operation: AclOperation = WRITE,
    principal: str = ALICE,
    host: str = "*",
    resource_type: AclResourceType = TOPIC,
) -> AclBinding:
    return AclBinding(resource_type, name, pattern, principal, host, operation, permission)


@pytest.mark.parametrize(
    ("acls", "allowed"),
    [
        ([], False),
        ([acl(ALLOW, "orders")], True),
        ([acl(ALLOW, "orders", operation=ALL)], True),
        ([acl(ALLOW, "orders", operation=READ)], False),  # implied operations do not count
        ([acl(ALLOW, "orders", resource_type=GROUP)], False),
        ([acl(ALLOW, "orders", principal="User:bob")], False),
        ([acl(ALLOW, "orders", principal="User:*")], True),
        ([acl(ALLOW, "orders", host="10.0.0.1")], False),
        ([acl(ALLOW, "orders", host="127.0.0.1")], True),
        ([acl(ALLOW, "*")], True),
        ([acl(ALLOW, "orders"), acl(DENY, "orders")], False),
        ([acl(ALLOW, "orders"), acl(DENY, "orders", operation=ALL)], False),
        ([acl(ALLOW, "orders"), acl(DENY, "ord", PREFIXED)], False),
        ([acl(ALLOW, "orders"), acl(DENY, "pay", PREFIXED)], True),
        ([acl(ALLOW, "orders"), acl(DENY, "ord")], True),  # a literal DENY names one topic
        ([acl(ALLOW, "ord", PREFIXED), acl(DENY, "ord")], True),
        ([acl(ALLOW, "ord", PREFIXED), acl(DENY, "or", PREFIXED)], False),
        ([acl(ALLOW, "orders"), acl(ALLOW, "pay"), acl(DENY, "orders")], True),
        ([acl(ALLOW, "orders"), acl(DENY, "*")], False),
        ([acl(ALLOW, "*"), acl(DENY, "orders")], True),
    ],
)
def test_allowed_on_some_topic(tmp_path: Path, acls: list[AclBinding], allowed: bool) -> None:
    authorizer = Authorizer(SecurityStore(tmp_path), enabled=True)
    authorizer.create(acls)
    assert authorizer.authorize_any(ALICE, "127.0.0.1", WRITE, TOPIC) is allowed


def test_super_users_and_open_clusters_pass_whatever_is_denied(tmp_path: Path) -> None:
    denied = [acl(DENY, "*"), acl(DENY, "*", principal="User:root")]
    supers = Authorizer(SecurityStore(tmp_path), enabled=True, super_users=frozenset({"User:root"}))
    supers.create(denied)
    assert supers.authorize_any("User:root", "127.0.0.1", WRITE, TOPIC)
    open_cluster = Authorizer(SecurityStore(tmp_path / "open"), enabled=True, allow_if_no_acl=True)
    assert open_cluster.authorize_any(ALICE, "127.0.0.1", WRITE, TOPIC)
