"""`kwb groups --delete` and `--delete-offsets`, with Kafka's verdicts and status tables.

Kafka's tool names a failure by its Java exception (`GroupNotEmptyException: The group is
not empty.`), so the error codes the access layer hands back are printed that way here; and
it reports failures as it reports all (report.py), exiting 0.
"""

from __future__ import annotations

import argparse
import sys

from kio.schema.errors import ErrorCode

from ...kafka.admin import KafkaAdmin
from ...kafka.java_errors import default_message, java_exception
from ...kafka.models import TopicPartition
from ...kafka.offset_reset import delete_offsets
from ..common import EXIT_FAILURE, print_json
from .options import group_ids, parse_topic_partitions
from .report import print_error


async def delete_groups(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    groups = await group_ids(admin, args)
    failed = {
        group_id: java_exception(code)
        for group_id, code in (await admin.delete_groups(groups)).items()
        if code != ErrorCode.none
    }
    succeeded = [g for g in groups if g not in failed]
    if args.output == "json":
        print_json({"deleted": succeeded, "failed": failed})
        return EXIT_FAILURE if failed else 0
    if not failed:
        print(f"Deletion of requested consumer groups ({quoted(succeeded)}) was successful.")
        return 0
    print_error("Deletion of some consumer groups failed:")
    for group_id, reason in failed.items():
        print(f"* Group '{group_id}' could not be deleted due to: {reason}")
    if succeeded:
        print(f"\nThese consumer groups were deleted successfully: {quoted(succeeded)}")
    return 0


def quoted(group_ids: list[str]) -> str:
    return ", ".join(f"'{g}'" for g in group_ids)


_GROUP_LEVEL = (
    ErrorCode.invalid_group_id,
    ErrorCode.group_id_not_found,
    ErrorCode.group_authorization_failed,
    ErrorCode.non_empty_group,
)
_PARTITION_LEVEL = (
    ErrorCode.group_subscribed_to_topic,
    ErrorCode.topic_authorization_failed,
    ErrorCode.unknown_topic_or_partition,
)


def delete_offsets_error(statuses: dict[TopicPartition, ErrorCode]) -> str | None:
    """Kafka's verdict for the first error (None when everything worked)."""
    code = next((e for e in statuses.values() if e != ErrorCode.none), None)
    if code is None:
        return None
    if code in _GROUP_LEVEL:
        return default_message(code)
    if code in _PARTITION_LEVEL:
        return "Encountered some partition-level error, see the follow-up details."
    return f"Encountered some unknown error: {code.name.upper()}"


def delete_status(code: ErrorCode) -> str:
    return "Successful" if code == ErrorCode.none else f"Error: {java_exception(code)}"


async def delete_group_offsets(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    group_id = args.group[0]
    scope = [parse_topic_partitions(arg) for arg in args.topic]
    statuses = await delete_offsets(admin, group_id, scope)
    error_line = delete_offsets_error(statuses)
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
        print_error(error_line)
    else:
        print(f"Request succeeded for deleting offsets from group {group_id}.")
    width = max([15, *(len(topic) for topic, _ in statuses)])
    lines = [f"{'TOPIC':<{width}} {'PARTITION':<10} {'STATUS':<15}"]
    for (topic, partition), code in ordered:
        shown = str(partition) if partition >= 0 else "-"
        lines.append(f"{topic:<{width}} {shown:<10} {delete_status(code):<15}")
    sys.stdout.write("\n" + "\n".join(lines) + "\n")
    return 0
