"""ACLs and the authorizer, as Kafka's StandardAuthorizer decides.

An ACL allows or denies a principal, from a host, an operation on resources named LITERALly
(`*` for all) or by PREFIX. With the authorizer on (authorizer.class.name), super.users may do
anything; otherwise any matching DENY wins, then a matching ALLOW of the operation, of ALL, or
of an operation that implies it (READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS
implies DESCRIBE_CONFIGS); a resource no ACL names at all is allowed only with
allow.everyone.if.no.acl.found. ACLs are kept in the security store and survive restarts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..protocol.names import (
    CLUSTER_RESOURCE_NAME,
    WILDCARD_RESOURCE,
    AclOperation,
    AclPermissionType,
    AclResourceType,
    ErrorCode,
    PatternType,
)
from .store import SecurityStore

WILDCARD_PRINCIPAL = "User:*"
WILDCARD_HOST = "*"
_ANY_NAME = "hardcode"
"""The name authorizeByResourceType asks about first, so that super users (and
allow.everyone.if.no.acl.found) pass whatever DENY ACLs say."""
_IMPLIED = {
    AclOperation.DESCRIBE: {AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE,
                            AclOperation.ALTER},
    AclOperation.DESCRIBE_CONFIGS: {AclOperation.ALTER_CONFIGS},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class AclBinding:
    resource_type: AclResourceType
    resource_name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: AclOperation
    permission_type: AclPermissionType

    def names(self, name: str) -> bool:
        """Whether this ACL's resource pattern covers the resource `name`."""
        if self.pattern_type is PatternType.PREFIXED:
            return name.startswith(self.resource_name)
        return self.resource_name in (name, WILDCARD_RESOURCE)

    def applies_to(self, principal: str, host: str) -> bool:
        """Whether this ACL speaks of `principal` connecting from `host`."""
        return self.principal in (principal, WILDCARD_PRINCIPAL) and self.host in (
            host,
            WILDCARD_HOST,
        )

    @classmethod
    def from_json(cls, document: dict[str, int | str]) -> AclBinding:
        return cls(
            AclResourceType(int(document["resource_type"])),
            str(document["resource_name"]),
            PatternType(int(document["pattern_type"])),
            str(document["principal"]),
            str(document["host"]),
            AclOperation(int(document["operation"])),
            AclPermissionType(int(document["permission_type"])),
        )


@dataclass(frozen=True, slots=True)
class AclFilter:
    """What DescribeAcls and DeleteAcls select: None and the ANY members match anything;
    pattern type MATCH selects the ACLs that would apply to the resource named."""

    resource_type: int
    resource_name: str | None
    pattern_type: int
    principal: str | None
    host: str | None
    operation: int
    permission_type: int

    def matches(self, acl: AclBinding) -> bool:
        return (
            self.resource_type in (AclResourceType.ANY, acl.resource_type)
            and self._pattern_matches(acl)
            and self.principal in (None, acl.principal)
            and self.host in (None, acl.host)
            and self.operation in (AclOperation.ANY, acl.operation)
            and self.permission_type in (AclPermissionType.ANY, acl.permission_type)
        )

    def _pattern_matches(self, acl: AclBinding) -> bool:
        if self.pattern_type == PatternType.MATCH:
            return self.resource_name is None or acl.names(self.resource_name)
        if self.pattern_type not in (PatternType.ANY, acl.pattern_type):
            return False
        return self.resource_name in (None, acl.resource_name)


def invalid_binding(acl: AclBinding) -> str | None:
    """Why CreateAcls refuses `acl` (Kafka's checks), or None."""
    if acl.resource_type in (AclResourceType.ANY, AclResourceType.UNKNOWN):
        return "Invalid resource type"
    if acl.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        return f"Invalid pattern type {acl.pattern_type.name}: must be LITERAL or PREFIXED"
    if acl.operation in (AclOperation.ANY, AclOperation.UNKNOWN):
        return "Invalid operation"
    if acl.permission_type in (AclPermissionType.ANY, AclPermissionType.UNKNOWN):
        return "Invalid permission type"
    if ":" not in acl.principal:
        return f"Invalid principal {acl.principal}: expected type:name, as User:alice"
    if acl.resource_type is AclResourceType.CLUSTER and acl.resource_name != CLUSTER_RESOURCE_NAME:
        return f"The only valid name for the CLUSTER resource is {CLUSTER_RESOURCE_NAME}"
    if not acl.resource_name:
        return "Resource name must not be empty"
    return None


class Authorizer:
    """Decides every request when enabled; keeps the ACLs either way (DescribeAcls and friends
    answer SECURITY_DISABLED without it, as Kafka does)."""

    def __init__(
        self,
        store: SecurityStore,
        enabled: bool,
        super_users: frozenset[str] = frozenset(),
        allow_if_no_acl: bool = False,
    ) -> None:
        self._store = store
        self.enabled = enabled
        self.super_users = super_users
        self.allow_if_no_acl = allow_if_no_acl
        self.acls = [AclBinding.from_json(document) for document in store.acls]

    def authorize(
        self,
        principal: str,
        host: str,
        operation: AclOperation,
        resource_type: AclResourceType,
        name: str,
    ) -> bool:
        if not self.enabled or principal in self.super_users:
            return True
        on_resource = [a for a in self.acls if a.resource_type == resource_type and a.names(name)]
        if not on_resource:
            return self.allow_if_no_acl
        applying = [a for a in on_resource if a.applies_to(principal, host)]
        denied = {operation, AclOperation.ALL}
        if any(
            a.permission_type is AclPermissionType.DENY and a.operation in denied for a in applying
        ):
            return False
        allowed = denied | _IMPLIED.get(operation, set())
        return any(
            a.permission_type is AclPermissionType.ALLOW and a.operation in allowed
            for a in applying
        )

    def authorize_any(
        self, principal: str, host: str, operation: AclOperation, resource_type: AclResourceType
    ) -> bool:
        """Whether `operation` is allowed on at least one resource of the type, as Kafka's
        Authorizer.authorizeByResourceType decides (InitProducerId asks it about WRITE on
        topics): super users and an ALLOW on `*` pass; a DENY on `*` refuses; otherwise some
        ALLOW must name a resource that no DENY names (literally, or by a prefix of it).
        Implied operations do not count here, only the operation itself and ALL."""
        if self.authorize(principal, host, operation, resource_type, _ANY_NAME):
            return True
        applying = [
            a
            for a in self.acls
            if a.resource_type == resource_type
            and a.operation in (operation, AclOperation.ALL)
            and a.applies_to(principal, host)
        ]
        denied = {
            (a.pattern_type, a.resource_name)
            for a in applying
            if a.permission_type is AclPermissionType.DENY
        }
        if (PatternType.LITERAL, WILDCARD_RESOURCE) in denied:
            return False
        for a in applying:
            if a.permission_type is not AclPermissionType.ALLOW:
                continue
            literal = a.pattern_type is PatternType.LITERAL
            if literal and a.resource_name == WILDCARD_RESOURCE:
                return True
            if literal and (PatternType.LITERAL, a.resource_name) in denied:
                continue
            prefixes = (a.resource_name[:end] for end in range(1, len(a.resource_name) + 1))
            if not any((PatternType.PREFIXED, prefix) in denied for prefix in prefixes):
                return True
        return False

    def create(self, acls: list[AclBinding]) -> list[tuple[ErrorCode, str | None]]:
        results: list[tuple[ErrorCode, str | None]] = []
        for acl in acls:
            reason = invalid_binding(acl)
            if reason is not None:
                results.append((ErrorCode.invalid_request, reason))
                continue
            if acl not in self.acls:
                self.acls.append(acl)
            results.append((ErrorCode.none, None))
        self._save()
        return results

    def describe(self, acl_filter: AclFilter) -> list[AclBinding]:
        return [acl for acl in self.acls if acl_filter.matches(acl)]

    def delete(self, filters: list[AclFilter]) -> list[list[AclBinding]]:
        deleted = [self.describe(acl_filter) for acl_filter in filters]
        gone = {acl for group in deleted for acl in group}
        if gone:
            self.acls = [acl for acl in self.acls if acl not in gone]
            self._save()
        return deleted

    def _save(self) -> None:
        self._store.acls = [
            {key: int(value) if isinstance(value, int) else value for key, value in
             asdict(acl).items()}
            for acl in self.acls
        ]  # fmt: skip
        self._store.save()
