"""`kwb acls` against localbroker with StandardAuthorizer: kafka-acls.sh's flags and output,
compared with Apache Kafka's own AclCommand run on the same commands.

Kafka prints each resource's ACLs in hash order, so outputs are compared block by block (a
resource's header line and the set of its ACL lines: secured.acl_blocks); kwb sorts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reference_kafka import KafkaTool
from secured import acl_blocks

from tui.embedded import EmbeddedBroker

ACL_COMMAND = "org.apache.kafka.tools.AclCommand"
AUTHORIZER = {
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "super.users": "User:ANONYMOUS",  # the PLAINTEXT listener's principal administers
}
ORDERS = "ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)"
BILLING = "ResourcePattern(resourceType=GROUP, name=billing, patternType=LITERAL)"


def acl(principal: str, operation: str, permission: str = "ALLOW", host: str = "*") -> str:
    return (
        f"(principal={principal}, host={host}, operation={operation}, permissionType={permission})"
    )


@pytest.fixture
def locked(start_broker: Callable[..., EmbeddedBroker]) -> EmbeddedBroker:
    return start_broker(AUTHORIZER)


def test_add_list_and_remove(locked: EmbeddedBroker, kwb: Any) -> None:
    b = ["--bootstrap-server", locked.bootstrap]
    added = kwb("acls", *b, "--add", "--allow-principal", "User:alice", "--operation", "Read",
                "--operation", "describe", "--topic", "orders", "--group", "billing")  # fmt: skip
    assert added.returncode == 0, added.stderr
    alice = f"\t{acl('User:alice', 'READ')}\n\t{acl('User:alice', 'DESCRIBE')}\n\n"
    assert added.stdout == (
        f"Adding ACLs for resource `{ORDERS}`: \n {alice}"
        f"Adding ACLs for resource `{BILLING}`: \n {alice}"
    )
    listed = kwb("acls", *b, "--list")
    assert listed.stdout == (
        f"Current ACLs for resource `{ORDERS}`:\n{alice}"
        f"Current ACLs for resource `{BILLING}`:\n{alice}"
    )
    asked = kwb("acls", *b, "--remove", "--topic", "orders", input="n\n")
    assert asked.stdout == (
        f"Are you sure you want to delete all ACLs for resource filter `{ORDERS}`? (y/n)\n"
    )
    assert kwb("acls", *b, "--list", "--topic", "orders").stdout != "", "n keeps them"
    removed = kwb("acls", *b, "--remove", "--topic", "orders", input="y\n")
    assert removed.returncode == 0, removed.stderr
    assert kwb("acls", *b, "--list").stdout == f"Current ACLs for resource `{BILLING}`:\n{alice}"


def test_kwb_prints_what_kafkas_acl_command_prints(
    start_broker: Callable[..., EmbeddedBroker], kwb: Any, kafka_tool: KafkaTool
) -> None:
    """The same commands, one broker driven by kwb and one by Kafka's AclCommand."""
    ours, theirs = start_broker(AUTHORIZER), start_broker(AUTHORIZER)
    commands = [
        ["--add", "--allow-principal", "User:alice", "--deny-principal", "User:mallory",
         "--deny-host", "10.0.0.1", "--operation", "Read", "--operation", "Describe", "--topic",
         "orders", "--group", "billing"],
        ["--add", "--allow-principal", "User:bob", "--producer", "--idempotent", "--topic", "ord",
         "--transactional-id", "tx", "--resource-pattern-type", "PREFIXED"],
        ["--list", "--topic", "orders", "--resource-pattern-type", "match"],
        ["--remove", "--force", "--allow-principal", "User:alice", "--operation", "Read",
         "--group", "billing"],
        ["--list", "--principal", "User:bob", "--principal", "User:alice"],
    ]  # fmt: skip
    for command in commands:
        mine = kwb("acls", "--bootstrap-server", ours.bootstrap, *command)
        kafka = kafka_tool(ACL_COMMAND, ["--bootstrap-server", theirs.bootstrap,
                                                    *command])  # fmt: skip
        assert (mine.returncode, kafka.returncode) == (0, 0), (command, mine.stderr, kafka.stdout)
        assert acl_blocks(mine.stdout) == acl_blocks(kafka.stdout), command
