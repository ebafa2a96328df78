"""ACLs of a cluster: CreateAcls, DescribeAcls and DeleteAcls, in Kafka's admin vocabulary.

A `ResourcePattern` and an `AccessControlEntry` print as Kafka's Java classes print
(`ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`,
`(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)`), since kafka-acls.sh
shows them that way. As filters, a None name, principal or host and the ANY members match
anything, and pattern type MATCH selects the ACLs that apply to the resource named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localbroker.public import AclOperation, AclPermissionType, AclResourceType, ApiKey, PatternType

from .admin import KafkaAdmin
from .errors import raise_for


@dataclass(frozen=True, slots=True, order=True)
class ResourcePattern:
    resource_type: AclResourceType
    name: str | None
    pattern_type: PatternType

    def __str__(self) -> str:
        name = "<any>" if self.name is None else self.name
        return (
            f"ResourcePattern(resourceType={self.resource_type.name}, name={name},"
            f" patternType={self.pattern_type.name})"
        )


@dataclass(frozen=True, slots=True, order=True)
class AccessControlEntry:
    principal: str | None
    host: str | None
    operation: AclOperation
    permission_type: AclPermissionType

    def __str__(self) -> str:
        return (
            f"(principal={_text(self.principal)}, host={_text(self.host)},"
            f" operation={self.operation.name}, permissionType={self.permission_type.name})"
        )


def _text(value: str | None) -> str:
    return "<any>" if value is None else value


ANY_ENTRY = AccessControlEntry(None, None, AclOperation.ANY, AclPermissionType.ANY)
Binding = tuple[ResourcePattern, AccessControlEntry]


def _filter(pattern: ResourcePattern, entry: AccessControlEntry) -> dict[str, Any]:
    return {
        "resource_type_filter": pattern.resource_type,
        "resource_name_filter": pattern.name,
        "pattern_type_filter": pattern.pattern_type,
        "principal_filter": entry.principal,
        "host_filter": entry.host,
        "operation": entry.operation,
        "permission_type": entry.permission_type,
    }


def _binding(acl: Any, resource: Any) -> Binding:
    return (
        ResourcePattern(
            AclResourceType(resource.resource_type),
            resource.resource_name,
            PatternType(resource.pattern_type),
        ),
        AccessControlEntry(
            acl.principal,
            acl.host,
            AclOperation(acl.operation),
            AclPermissionType(acl.permission_type),
        ),
    )


async def create_acls(admin: KafkaAdmin, bindings: list[Binding]) -> None:
    response = await admin.send(
        ApiKey.CREATE_ACLS,
        {
            "creations": [
                {
                    "resource_type": pattern.resource_type,
                    "resource_name": pattern.name,
                    "resource_pattern_type": pattern.pattern_type,
                    "principal": entry.principal,
                    "host": entry.host,
                    "operation": entry.operation,
                    "permission_type": entry.permission_type,
                }
                for pattern, entry in bindings
            ]
        },
    )
    for result in response.results:
        raise_for(result.error_code, result.error_message, "ACLs")


async def describe_acls(
    admin: KafkaAdmin, pattern: ResourcePattern, entry: AccessControlEntry = ANY_ENTRY
) -> list[Binding]:
    """The ACLs `pattern` and `entry` select."""
    response = await admin.send(ApiKey.DESCRIBE_ACLS, _filter(pattern, entry))
    raise_for(response.error_code, response.error_message, "ACLs")
    return [_binding(acl, resource) for resource in response.resources for acl in resource.acls]


async def delete_acls(admin: KafkaAdmin, filters: list[Binding]) -> list[Binding]:
    """Delete the ACLs each filter selects; returns those deleted."""
    response = await admin.send(
        ApiKey.DELETE_ACLS, {"filters": [_filter(pattern, entry) for pattern, entry in filters]}
    )
    deleted = []
    for result in response.filter_results:
        raise_for(result.error_code, result.error_message, "ACLs")
        deleted += [_binding(acl, acl) for acl in result.matching_acls]
    return deleted
