"""Security APIs on a broker without SASL on the listener and without an authorizer (both
brokers as the suite runs them): SaslHandshake and SaslAuthenticate refused, the ACL APIs
answering SECURITY_DISABLED, and SCRAM credentials described, created, refused and deleted."""

from __future__ import annotations

from typing import Any

from localbroker.protocol.names import (
    AclOperation,
    AclPermissionType,
    AclResourceType,
    ApiKey,
    PatternType,
    ScramMechanism,
)

from .scenario import Peer, scenario


@scenario(ApiKey.SASL_HANDSHAKE)
def sasl_handshake_on_a_plaintext_listener(peer: Peer, version: int) -> Any:
    return [
        peer.call(ApiKey.SASL_HANDSHAKE, version, {"mechanism": mechanism})
        for mechanism in ("PLAIN", "NO-SUCH")
    ]


@scenario(ApiKey.SASL_AUTHENTICATE)
def sasl_authenticate_on_a_plaintext_listener(peer: Peer, version: int) -> Any:
    return peer.call(ApiKey.SASL_AUTHENTICATE, version, {"auth_bytes": b"\x00u\x00p"})


def acl_filter(peer: Peer) -> dict[str, Any]:
    return {
        "resource_type_filter": AclResourceType.TOPIC,
        "resource_name_filter": peer.name(),
        "pattern_type_filter": PatternType.LITERAL,
        "principal_filter": None,
        "host_filter": None,
        "operation": AclOperation.ANY,
        "permission_type": AclPermissionType.ANY,
    }


@scenario(ApiKey.DESCRIBE_ACLS)
def describe_acls_without_an_authorizer(peer: Peer, version: int) -> Any:
    return peer.call(ApiKey.DESCRIBE_ACLS, version, acl_filter(peer))


@scenario(ApiKey.CREATE_ACLS)
def create_acls_without_an_authorizer(peer: Peer, version: int) -> Any:
    creation = {
        "resource_type": AclResourceType.TOPIC,
        "resource_name": peer.name(),
        "resource_pattern_type": PatternType.LITERAL,
        "principal": "User:alice",
        "host": "*",
        "operation": AclOperation.READ,
        "permission_type": AclPermissionType.ALLOW,
    }
    return peer.call(ApiKey.CREATE_ACLS, version, {"creations": [creation]})


@scenario(ApiKey.DELETE_ACLS)
def delete_acls_without_an_authorizer(peer: Peer, version: int) -> Any:
    return peer.call(ApiKey.DELETE_ACLS, version, {"filters": [acl_filter(peer)]})


def describe_users(peer: Peer, users: list[str]) -> Any:
    request = {"users": [{"name": u} for u in users]}
    answer = peer.call(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, request)
    answer["results"].sort(key=lambda r: r["user"])
    return answer


def upsertion(user: str, iterations: int, mechanism: int = ScramMechanism.SCRAM_SHA_256) -> Any:
    return {
        "name": user,
        "mechanism": mechanism,
        "iterations": iterations,
        "salt": b"salt" * 4,
        "salted_password": b"p" * 32,
    }


@scenario(ApiKey.ALTER_USER_SCRAM_CREDENTIALS)
def scram_credentials(peer: Peer, version: int) -> Any:
    alice, bob = peer.name("alice"), peer.name("bob")
    altered = peer.call(
        ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
        version,
        {
            "deletions": [{"name": bob, "mechanism": ScramMechanism.SCRAM_SHA_512}],
            "upsertions": [upsertion(alice, 8192), upsertion(bob, 100)],
        },
    )
    altered["results"].sort(key=lambda r: r["user"])
    unknown = peer.call(
        ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
        version,
        {"deletions": [], "upsertions": [upsertion(peer.name("carol"), 8192, 0)]},
    )
    return {"altered": altered, "unknown": unknown, "described": describe_users(peer, [alice, bob])}


@scenario(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS)
def describe_scram_credentials(peer: Peer, version: int) -> Any:
    alice = peer.name("alice")
    peer.call(
        ApiKey.ALTER_USER_SCRAM_CREDENTIALS,
        0,
        {"deletions": [], "upsertions": [upsertion(alice, 4096, ScramMechanism.SCRAM_SHA_512)]},
    )
    return [
        describe_users(peer, [alice, peer.name("nobody")]),
        describe_users(peer, [alice, alice]),
    ]
