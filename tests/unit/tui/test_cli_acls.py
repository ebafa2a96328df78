"""`kwb acls`' arguments, checked and turned into ACLs as Kafka's AclCommand does, before
anything is sent."""

from __future__ import annotations

import pytest

from localbroker.public import AclOperation, AclPermissionType, AclResourceType, PatternType
from tui.cli.acls import acls_to_add, check_args, filter_acls, operation, parser
from tui.cli.common import UsageError
from tui.kafka.acl_admin import AccessControlEntry, ResourcePattern

ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
Op = AclOperation


def planned(*argv: str) -> dict[ResourcePattern, set[AccessControlEntry]]:
    args = parser().parse_args(argv)
    check_args(args)
    return acls_to_add(args) if args.add else filter_acls(args)


def topic(name: str, pattern: PatternType = PatternType.LITERAL) -> ResourcePattern:
    return ResourcePattern(AclResourceType.TOPIC, name, pattern)


def entry(who: str, op: AclOperation, permission: AclPermissionType = ALLOW,
          host: str = "*") -> AccessControlEntry:  # fmt: skip
    return AccessControlEntry(who, host, op, permission)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--list", "--add"], "Command must include exactly one action: --list, --add, --remove. "),
        ([], "Command must include exactly one action: --list, --add, --remove. "),
        (["--add", "--topic", "t"],
         "You must specify one of: --allow-principal, --deny-principal when trying to add ACLs."),
        (["--add", "--allow-principal", "User:a"], "You must provide at least one resource: "
         "--topic <topic> or --cluster or --group <group> or --delegation-token"
         " <Delegation Token ID>"),
        (["--list", "--producer"], 'Option "[list]" can\'t be used with option "[producer]"'),
        (["--list", "--deny-host", "h"],
         'Option "[list]" can\'t be used with option "[deny-host]"'),
        (["--add", "--producer", "--topic", "t", "--operation", "Read"],
         'Option "[producer]" can\'t be used with option "[operation]"'),
        (["--add", "--producer", "--allow-principal", "User:a"],
         "With --producer you must specify a --topic"),
        (["--add", "--idempotent", "--topic", "t"],
         "The --idempotent option is only available if --producer is set"),
        (["--add", "--principal", "User:a", "--topic", "t"],
         "The --principal option is only available if --list is set"),
        (["--add", "--consumer", "--topic", "t", "--allow-principal", "User:a"],
         "With --consumer you must specify a --topic and a --group and no --cluster or"
         " --transactional-id option should be specified."),
        (["--add", "--consumer", "--topic", "t", "--group", "g", "--cluster"],
         "With --consumer you must specify a --topic and a --group"),
        (["--add", "--allow-principal", "User:a", "--topic", "t", "--operation", "IdempotentWrite"],
         "ResourceType TOPIC only supports operations [READ, WRITE, CREATE, DESCRIBE, DELETE,"
         " ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS, ALL]"),
        (["--add", "--allow-principal", "User:a", "--group", "g", "--operation",
          "idempotent_write"],
         "ResourceType GROUP only supports operations"),
        (["--add", "--allow-principal", "alice", "--topic", "t"],
         "expected a string in format principalType:principalName but got alice"),
        (["--add", "--allow-principal", "User:a", "--topic", "t", "--resource-pattern-type",
          "match"], "A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls."),
    ],
)  # fmt: skip
def test_refusals_are_kafkas(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as refused:
        planned(*argv)
    assert str(refused.value).startswith(message)


def test_operations_are_named_as_kafka_names_them() -> None:
    assert [operation(name) for name in ("Read", "READ", "read", "IdempotentWrite",
                                         "IDEMPOTENTWRITE", "idempotentwrite", "Idempotent_Write",
                                         "nonsense")] == [
        Op.READ, Op.READ, Op.READ, Op.IDEMPOTENT_WRITE, Op.IDEMPOTENT_WRITE, Op.IDEMPOTENT_WRITE,
        Op.UNKNOWN, Op.UNKNOWN]  # fmt: skip


def test_every_principal_operation_and_host_makes_an_acl() -> None:
    acls = planned("--add", "--allow-principal", "User:a", "--allow-principal", "User:b",
                   "--allow-host", "10.0.0.1", "--deny-principal", "User:c", "--operation", "Read",
                   "--operation", "Write", "--topic", " t ")  # fmt: skip
    assert acls == {
        topic("t"): {
            entry(who, op, ALLOW, "10.0.0.1") for who in ("User:a", "User:b")
            for op in (Op.READ, Op.WRITE)
        } | {entry("User:c", op, DENY) for op in (Op.READ, Op.WRITE)}
    }  # fmt: skip


def test_the_operation_defaults_to_all() -> None:
    assert planned("--add", "--allow-principal", "User:a", "--cluster") == {
        ResourcePattern(AclResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL):
            {entry("User:a", Op.ALL)}
    }  # fmt: skip


def test_producer_and_consumer_roles() -> None:
    acls = planned("--add", "--allow-principal", "User:a", "--producer", "--consumer",
                   "--idempotent", "--topic", "t", "--group", "g", "--transactional-id", "x",
                   "--resource-pattern-type", "prefixed")  # fmt: skip
    prefixed = PatternType.PREFIXED
    assert acls == {
        topic("t", prefixed): {entry("User:a", op) for op in (Op.WRITE, Op.DESCRIBE, Op.CREATE,
                                                              Op.READ)},
        ResourcePattern(AclResourceType.GROUP, "g", prefixed): {entry("User:a", Op.READ)},
        ResourcePattern(AclResourceType.TRANSACTIONAL_ID, "x", prefixed):
            {entry("User:a", op) for op in (Op.WRITE, Op.DESCRIBE)},
        ResourcePattern(AclResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL):
            {entry("User:a", Op.IDEMPOTENT_WRITE)},
    }  # fmt: skip


def test_remove_without_principals_removes_everything_on_the_resource() -> None:
    assert planned("--remove", "--topic", "t", "--resource-pattern-type", "any") == {
        topic("t", PatternType.ANY): set()
    }
