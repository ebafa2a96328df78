"""`kwb groups --delete` and `--delete-offsets`, with Kafka's verdicts and status tables.

Kafka's tool names a failure by its Java exception (`GroupNotEmptyException: The group is
not empty.`), so the error codes the access layer hands back are printed that way here.
"""

from __future__ import annotations

import argparse
import sys

from kio.schema.errors import ErrorCode

from ...kafka.admin import KafkaAdmin
from ...kafka.models import TopicPartition
from ...kafka.offset_reset import delete_offsets
from ..common import EXIT_FAILURE, error, print_json
from .options import PROG, group_ids, parse_topic_partitions

# Kafka's exception for an error code, as the tool prints it (Errors.exception().toString()).
_JAVA_ERRORS = {
    ErrorCode.non_empty_group: ("GroupNotEmptyException", "The group is not empty."),
    ErrorCode.group_id_not_found: ("GroupIdNotFoundException", "The group id does not exist."),
    ErrorCode.invalid_group_id: ("InvalidGroupIdException", "The configured groupId is invalid."),
    ErrorCode.group_authorization_failed: (
        "GroupAuthorizationException",
        "Group authorization failed.",
    ),
    ErrorCode.topic_authorization_failed: (
        "TopicAuthorizationException",
        "Topic authorization failed.",
    ),
    ErrorCode.unknown_topic_or_partition: (
        "UnknownTopicOrPartitionException",
        "This server does not host this topic-partition.",
    ),
    ErrorCode.group_subscribed_to_topic: (
        "GroupSubscribedToTopicException",
        "Deleting offsets of a topic is forbidden while the consumer group is actively"
        " subscribed to it.",
    ),
    ErrorCode.coordinator_not_available: (
        "CoordinatorNotAvailableException",
        "The coordinator is not available.",
    ),
    ErrorCode.not_coordinator: ("NotCoordinatorException", "This is not the correct coordinator."),
    ErrorCode.coordinator_load_in_progress: (
        "CoordinatorLoadInProgressException",
        "The coordinator is loading and hence can't process requests.",
    ),
}


def java_error(code: ErrorCode) -> str:
    """`org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.`"""
    name, message = _JAVA_ERRORS.get(
        code,
        (
            "".join(part.title() for part in code.name.split("_")) + "Exception",
            code.name.replace("_", " "),
        ),
    )
    return f"org.apache.kafka.common.errors.{name}: {message}"


async def delete_groups(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    groups = await group_ids(admin, args)
    failed = {
        group_id: java_error(code)
        for group_id, code in (await admin.delete_groups(groups)).items()
        if code != ErrorCode.none
    }
    succeeded = [g for g in groups if g not in failed]
    if args.output == "json":
        print_json({"deleted": succeeded, "failed": failed})
        return EXIT_FAILURE if failed else 0
    if not failed:
        print(f"Deletion of requested consumer groups ('{', '.join(succeeded)}') was successful.")
        return 0
    lines = [f"{PROG}: error: Deletion of some consumer groups failed:"]
    lines += [
        f"* Group '{g}' could not be deleted due to: {reason}" for g, reason in failed.items()
    ]
    sys.stderr.write("\n".join(lines) + "\n")
    if succeeded:
        quoted = ", ".join(f"'{g}'" for g in succeeded)
        print(f"\nThese consumer groups were deleted successfully: {quoted}")
    return EXIT_FAILURE


_DELETE_OFFSETS_ERRORS = {
    ErrorCode.invalid_group_id: "'{group}' is not valid.",
    ErrorCode.group_id_not_found: "'{group}' does not exist.",
    ErrorCode.group_authorization_failed: "Access to '{group}' is not authorized.",
    ErrorCode.non_empty_group: (
        "Deleting offsets of a consumer group '{group}' is forbidden if the group is not empty."
    ),
}
_PARTITION_LEVEL = (
    ErrorCode.group_subscribed_to_topic,
    ErrorCode.topic_authorization_failed,
    ErrorCode.unknown_topic_or_partition,
)


def delete_offsets_error(group_id: str, statuses: dict[TopicPartition, ErrorCode]) -> str | None:
    """Kafka's one-line verdict for the first error (None when everything worked)."""
    code = next((e for e in statuses.values() if e != ErrorCode.none), None)
    if code is None:
        return None
    if code in _DELETE_OFFSETS_ERRORS:
        return _DELETE_OFFSETS_ERRORS[code].format(group=group_id)
    if code in _PARTITION_LEVEL:
        return "Encounter some partition level error, see the follow-up details:"
    return f"Encounter some unknown error: {code.name.upper()}"


def delete_status(code: ErrorCode) -> str:
    return "Successful" if code == ErrorCode.none else f"Error: {java_error(code)}"


async def delete_group_offsets(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    group_id = args.group[0]
    scope = [parse_topic_partitions(arg) for arg in args.topic]
    statuses = await delete_offsets(admin, group_id, scope)
    error_line = delete_offsets_error(group_id, statuses)
    # Kafka sorts the rows by topic name and partition number written together.
    ordered = sorted(statuses.items(), key=lambda item: f"{item[0][0]}{item[0][1]}")
    if args.output == "json":
        partitions = [
            {"topic": t, "partition": p if p >= 0 else None, "status": delete_status(code)}
            for (t, p), code in ordered
        ]
        print_json({"group": group_id, "error": error_line, "partitions": partitions})
        return EXIT_FAILURE if error_line else 0
    if error_line:
        error(PROG, error_line)
    else:
        topics = ", ".join(args.topic)
        print(f"Request succeed for deleting offsets with topic {topics} group {group_id}")
    lines = [f"{'TOPIC':<30} {'PARTITION':<15} {'STATUS':<15}"]
    for (topic, partition), code in ordered:
        shown = str(partition) if partition >= 0 else "Not Provided"
        lines.append(f"{topic:<30} {shown:<15} {delete_status(code):<15}")
    sys.stdout.write("\n" + "\n".join(lines) + "\n")
    return EXIT_FAILURE if error_line else 0
