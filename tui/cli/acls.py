"""`kwb acls`: kafka-acls.sh (org.apache.kafka.tools.AclCommand, Kafka 4.1) — add, remove and
list ACLs.

    kwb acls --bootstrap-server localhost:9092 --add --allow-principal User:alice \\
        --operation Read --operation Describe --topic orders
    kwb acls --bootstrap-server localhost:9092 --add --allow-principal User:alice \\
        --consumer --topic orders --group billing
    kwb acls --bootstrap-server localhost:9092 --list --topic orders
    kwb acls --bootstrap-server localhost:9092 --remove --topic orders --force

Flags, checks and messages are AclCommand's; output is its output (`Adding ACLs for resource
...`, `Current ACLs for resource ...`), in a stable order where Kafka prints in hash order.
--remove asks for confirmation on stdin unless --force. Only --bootstrap-server is
supported (not --bootstrap-controller).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from localbroker.public import (
    CLUSTER_RESOURCE_NAME,
    SUPPORTED_OPERATIONS,
    AclOperation,
    AclPermissionType,
    AclResourceType,
    PatternType,
)

from ..kafka.acl_admin import (
    ANY_ENTRY,
    AccessControlEntry,
    Binding,
    ResourcePattern,
    create_acls,
    delete_acls,
    describe_acls,
)
from ..kafka.admin import KafkaAdmin
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    print_json,
    run_command,
)

PROG = "kwb acls"
WILDCARD_HOST = "*"
CLUSTER = ResourcePattern(AclResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, PatternType.LITERAL)
_ANY_FILTER = ResourcePattern(AclResourceType.ANY, None, PatternType.ANY)
_OPERATION_NAMES = [op for op in AclOperation if op not in (AclOperation.ANY, AclOperation.UNKNOWN)]
Acls = dict[ResourcePattern, set[AccessControlEntry]]


def pascal_case(name: str) -> str:
    """SecurityUtils.toPascalCase: IDEMPOTENT_WRITE -> IdempotentWrite."""
    return "".join(word.capitalize() for word in name.split("_"))


_OPERATIONS_BY_NAME = {
    spelling: op
    for op in AclOperation
    for spelling in (pascal_case(op.name), pascal_case(op.name).upper())
}


def operation(name: str) -> AclOperation:
    """SecurityUtils.operation: `Read`, `READ`, `read`, `IdempotentWrite` or `IDEMPOTENTWRITE`;
    UNKNOWN for anything else (refused later, naming the operations the resource supports)."""
    return _OPERATIONS_BY_NAME.get(
        name, _OPERATIONS_BY_NAME.get(name.upper(), AclOperation.UNKNOWN)
    )


def principal(text: str) -> str:
    """SecurityUtils.parseKafkaPrincipal, as `type:name`."""
    kind, sep, name = text.strip().partition(":")
    if not text.strip() or not sep:
        raise UsageError(
            f"expected a string in format principalType:principalName but got {text.strip()}"
        )
    return f"{kind}:{name}"


def pattern_type(text: str) -> PatternType:
    found = PatternType.__members__.get(text.upper())
    if found is None or found is PatternType.UNKNOWN:
        raise argparse.ArgumentTypeError(f"Unknown resource-pattern-type: {text}")
    return found


def parser() -> KwbParser:
    p = KwbParser(prog=PROG, description="This tool helps to manage acls on kafka.")
    for action, text in (
        ("add", "Indicates you are trying to add ACLs."),
        ("remove", "Indicates you are trying to remove ACLs."),
        ("list", "List ACLs for the specified resource, use --topic <topic> or --group <group>"
                 " or --cluster to specify a resource."),
    ):  # fmt: skip
        p.add_argument(f"--{action}", action="store_true", help=text)
    many = {"action": "append", "default": None}
    p.add_argument("--topic", **many, help="topic to which ACLs should be added or removed")
    p.add_argument("--cluster", action="store_true", help="Add/Remove cluster ACLs.")
    p.add_argument("--group", **many, help="Consumer Group to which the ACLs apply")
    p.add_argument("--transactional-id", **many, help="transactional id the ACLs apply to")
    p.add_argument("--delegation-token", **many, help="delegation token the ACLs apply to")
    p.add_argument("--user-principal", **many, help="a user principal as a resource")
    p.add_argument(
        "--resource-pattern-type",
        type=pattern_type,
        default=PatternType.LITERAL,
        metavar="ANY|MATCH|LITERAL|PREFIXED",
        help="LITERAL (default) or PREFIXED when adding; ANY or MATCH also when listing or"
        " removing",
    )
    p.add_argument(
        "--operation",
        **many,
        help="Operation that is being allowed or denied: "
        + ", ".join(pascal_case(op.name) for op in _OPERATION_NAMES),
    )
    p.add_argument("--allow-principal", **many, help="principalType:name, e.g. User:alice")
    p.add_argument("--deny-principal", **many, help="principalType:name; DENY wins over ALLOW")
    p.add_argument("--principal", **many, help="List ACLs for the specified principal.")
    p.add_argument("--allow-host", **many, help="host the allowed principals connect from")
    p.add_argument("--deny-host", **many, help="host the denied principals connect from")
    p.add_argument(
        "--producer",
        action="store_true",
        help="ACLs for a producer role: WRITE, DESCRIBE and CREATE on topics",
    )
    p.add_argument(
        "--consumer",
        action="store_true",
        help="ACLs for a consumer role: READ and DESCRIBE on topics, READ on groups",
    )
    p.add_argument(
        "--idempotent", action="store_true", help="with --producer: IDEMPOTENT_WRITE as well"
    )
    p.add_argument("--force", action="store_true", help="Assume Yes to all queries.")
    add_connection_options(p, "--command-config")
    return p


def _flag(name: str) -> str:
    """An option as joptsimple prints it in AclCommand's messages: [list]."""
    return f"[{name}]"


def check_args(args: argparse.Namespace) -> None:
    """AclCommandOptions.checkArgs, message for message."""
    if sum((args.add, args.remove, args.list)) != 1:
        raise UsageError("Command must include exactly one action: --list, --add, --remove. ")
    exclusive = {
        "list": ("producer", "consumer", "allow_host", "allow_principal", "deny_host",
                 "deny_principal"),
        "producer": ("operation", "deny_principal", "deny_host"),
        "consumer": ("operation", "deny_principal", "deny_host"),
    }  # fmt: skip
    for used, invalid in exclusive.items():
        for other in invalid if getattr(args, used) else ():
            if getattr(args, other):
                raise UsageError(
                    f'Option "{_flag(used)}" can\'t be used with option'
                    f' "{_flag(other.replace("_", "-"))}"'
                )
    if args.principal and not args.list:
        raise UsageError("The --principal option is only available if --list is set")
    if args.producer and not args.topic:
        raise UsageError("With --producer you must specify a --topic")
    if args.idempotent and not args.producer:
        raise UsageError("The --idempotent option is only available if --producer is set")
    if args.consumer and (
        not args.topic
        or not args.group
        or (not args.producer and (args.cluster or args.transactional_id))
    ):
        raise UsageError(
            "With --consumer you must specify a --topic and a --group and no --cluster or"
            " --transactional-id option should be specified."
        )


def resource_filters(args: argparse.Namespace, required: bool = True) -> list[ResourcePattern]:
    """getResourceFilter: every resource named, with the pattern type."""
    kind = args.resource_pattern_type
    named = [
        (AclResourceType.TOPIC, [t.strip() for t in args.topic or ()]),
        (AclResourceType.GROUP, [g.strip() for g in args.group or ()]),
        (AclResourceType.TRANSACTIONAL_ID, list(args.transactional_id or ())),
        (AclResourceType.DELEGATION_TOKEN, [t.strip() for t in args.delegation_token or ()]),
        (AclResourceType.USER, [u.strip() for u in args.user_principal or ()]),
    ]
    filters = {ResourcePattern(resource, name, kind) for resource, names in named for name in names}
    if kind is PatternType.LITERAL and (args.cluster or args.idempotent):
        filters.add(CLUSTER)
    if not filters and required:
        raise UsageError(
            "You must provide at least one resource: --topic <topic> or --cluster or --group"
            " <group> or --delegation-token <Delegation Token ID>"
        )
    return sorted(filters)


def entries(
    args: argparse.Namespace, operations: Iterable[AclOperation]
) -> set[AccessControlEntry]:
    """getAcl: every principal with every operation from every host, allowed and denied (a
    principal without --*-host gets host *)."""
    acls = set()
    for permission, principals, hosts in (
        (AclPermissionType.ALLOW, args.allow_principal, args.allow_host),
        (AclPermissionType.DENY, args.deny_principal, args.deny_host),
    ):
        if not principals:
            continue
        who = {principal(p) for p in principals}
        where = {h.strip() for h in hosts} if hosts else {WILDCARD_HOST}
        acls |= {
            AccessControlEntry(p, h, op, permission)
            for p in who
            for h in where
            for op in operations
        }
    return acls


def filter_acls(args: argparse.Namespace) -> Acls:
    """getResourceFilterToAcls: the ACLs to add (or remove) per resource; --producer and
    --consumer make their roles' ACLs."""
    acls: Acls = {}
    filters = resource_filters(args)
    if not args.producer and not args.consumer:
        chosen = {operation(o.strip()) for o in args.operation or [pascal_case("ALL")]}
        acls = {f: entries(args, chosen) for f in filters}
    if args.producer:
        topic_acls = entries(args, (AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE))
        id_acls = entries(args, (AclOperation.WRITE, AclOperation.DESCRIBE))
        for f in filters:
            if f.resource_type is AclResourceType.TOPIC:
                acls[f] = topic_acls
            elif f.resource_type is AclResourceType.TRANSACTIONAL_ID:
                acls[f] = id_acls
        if args.idempotent:
            acls[CLUSTER] = entries(args, (AclOperation.IDEMPOTENT_WRITE,))
    if args.consumer:
        role = {
            AclResourceType.TOPIC: entries(args, (AclOperation.READ, AclOperation.DESCRIBE)),
            AclResourceType.GROUP: entries(args, (AclOperation.READ,)),
        }
        for f in filters:
            if f.resource_type in role:
                acls[f] = acls.get(f, set()) | role[f.resource_type]
    for f, chosen_acls in acls.items():
        valid = (*SUPPORTED_OPERATIONS[f.resource_type], AclOperation.ALL)
        if any(acl.operation not in valid for acl in chosen_acls):
            raise UsageError(
                f"ResourceType {f.resource_type.name} only supports operations"
                f" [{', '.join(op.name for op in valid)}]"
            )
    return acls


def _lines(header: str, acls: Iterable[AccessControlEntry], lead: str = "") -> str:
    return f"{header}\n{lead}" + "\n".join(f"\t{acl}" for acl in sorted(acls)) + "\n"


def _json(resource: ResourcePattern, acls: Iterable[AccessControlEntry]) -> dict[str, Any]:
    return {
        "resource_type": resource.resource_type.name,
        "name": resource.name,
        "pattern_type": resource.pattern_type.name,
        "acls": [
            {
                "principal": acl.principal,
                "host": acl.host,
                "operation": acl.operation.name,
                "permission_type": acl.permission_type.name,
            }
            for acl in sorted(acls)
        ],
    }


def acls_to_add(args: argparse.Namespace) -> Acls:
    """getResourceToAcls: what --add creates, checked before anything is sent."""
    if args.resource_pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        raise UsageError(
            f"A '--resource-pattern-type' value of '{args.resource_pattern_type.name}' is not"
            " valid when adding acls."
        )
    acls = filter_acls(args)
    if any(not resource_acls for resource_acls in acls.values()):
        raise UsageError(
            "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs."
        )
    return acls


async def add(admin: KafkaAdmin, args: argparse.Namespace, acls: Acls) -> int:
    documents = []
    for resource, resource_acls in sorted(acls.items()):
        if args.output == "json":
            documents.append(_json(resource, resource_acls))
        else:
            print(_lines(f"Adding ACLs for resource `{resource}`: ", resource_acls, " "))
        await create_acls(admin, [(resource, acl) for acl in sorted(resource_acls)])
    if args.output == "json":
        print_json({"added": documents})
    return 0


def confirmed(args: argparse.Namespace, question: str) -> bool:
    """--force, or a `y` on stdin (the question goes to stderr when stdout carries JSON)."""
    if args.force:
        return True
    print(question, file=sys.stderr if args.output == "json" else sys.stdout, flush=True)
    return sys.stdin.readline().strip().lower() == "y"


async def remove(admin: KafkaAdmin, args: argparse.Namespace, selected: Acls) -> int:
    removed: list[Binding] = []
    for resource, acls in sorted(selected.items()):
        if not acls:
            question = f"Are you sure you want to delete all ACLs for resource filter `{resource}`?"
            filters = [(resource, ANY_ENTRY)]
        else:
            question = _lines("Are you sure you want to remove ACLs: ", acls, " ") + (
                f" from resource filter `{resource}`?"
            )
            filters = [(resource, acl) for acl in sorted(acls)]
        if confirmed(args, question + " (y/n)"):
            removed += await delete_acls(admin, filters)
    if args.output == "json":
        print_json({"removed": [_json(r, [acl]) for r, acl in sorted(removed)]})
    return 0


async def list_acls(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    found: Acls = defaultdict(set)
    for resource in resource_filters(args, required=False) or [_ANY_FILTER]:
        for pattern, acl in await describe_acls(admin, resource):
            found[pattern].add(acl)
    groups: list[tuple[str | None, Acls]] = [(None, found)]
    if args.principal:
        wanted = sorted({principal(p) for p in args.principal})
        groups = [
            (who, {r: {a for a in acls if a.principal == who} for r, acls in found.items()})
            for who in wanted
        ]
    if args.output == "json":
        print_json(
            [
                {"principal": who, "resources": [_json(r, acls) for r, acls in sorted(by.items())
                                                 if acls]}
                for who, by in groups
            ]
        )  # fmt: skip
        return 0
    for who, by_resource in groups:
        if who is not None:
            print(f"ACLs for principal `{who}`")
        for resource, acls in sorted(by_resource.items()):
            if acls:
                print(_lines(f"Current ACLs for resource `{resource}`:", acls))
    return 0


async def execute(args: argparse.Namespace) -> int:
    check_args(args)
    planned = acls_to_add(args) if args.add else filter_acls(args) if args.remove else {}
    async with KafkaAdmin(connection_from(args)) as admin:
        if args.add:
            return await add(admin, args, planned)
        if args.remove:
            return await remove(admin, args, planned)
        return await list_acls(admin, args)


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
