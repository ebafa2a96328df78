"""One ACL, as Kafka's AclBinding holds it: a resource pattern and an access control entry.

Apart from the authorizer (acls.py) because the security store keeps, reads and checks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..protocol.names import (
    WILDCARD_RESOURCE,
    AclOperation,
    AclPermissionType,
    AclResourceType,
    PatternType,
)

WILDCARD_PRINCIPAL = "User:*"
WILDCARD_HOST = "*"


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

    def to_json(self) -> dict[str, int | str]:
        return {
            "resource_type": int(self.resource_type),
            "resource_name": self.resource_name,
            "pattern_type": int(self.pattern_type),
            "principal": self.principal,
            "host": self.host,
            "operation": int(self.operation),
            "permission_type": int(self.permission_type),
        }

    @classmethod
    def from_json(cls, document: Any) -> AclBinding:
        """An ACL as stored; KeyError, TypeError or ValueError when it is not one."""
        names = [document[key] for key in ("resource_name", "principal", "host")]
        if not all(isinstance(name, str) for name in names):
            raise ValueError(f"an ACL is malformed: {document!r}")
        return cls(
            AclResourceType(document["resource_type"]),
            names[0],
            PatternType(document["pattern_type"]),
            names[1],
            names[2],
            AclOperation(document["operation"]),
            AclPermissionType(document["permission_type"]),
        )
