"""`kwb groups`: kafka-consumer-groups.sh — list, describe, reset offsets of and delete groups.

The text output is Kafka 4.1's ConsumerGroupCommand, column for column (widths, "-" for missing
values, the leading blank line of each table), so scripts written against the Kafka tool read
it unchanged; failures too are reported as Kafka reports them (report.py): on stdout, with exit
status 0. (With --output json a failure is one line on stderr and exit status 1.)

options.py holds the flags and their checks; describe.py the --list and --describe tables;
reset.py --reset-offsets; delete.py --delete and --delete-offsets. What they print is worked
out by tui.kafka.group_lag and tui.kafka.offset_reset, which the workbench uses as well.
"""

from __future__ import annotations

import argparse

from ...kafka.admin import KafkaAdmin
from ...kafka.errors import KafkaToolError
from ..common import connection_from, run_command
from .delete import delete_group_offsets, delete_groups
from .describe import describe, list_groups
from .options import PROG, check_args, parser
from .report import print_error
from .reset import reset_offsets


async def execute(args: argparse.Namespace) -> int:
    check_args(args)
    async with KafkaAdmin(connection_from(args)) as admin:
        try:
            return await act(admin, args)
        except KafkaToolError as exc:
            if args.output == "json":
                raise
            print_error(f"Executing consumer group command failed due to {exc.java}", exc.detail)
            return 0


async def act(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    if args.list:
        return await list_groups(admin, args)
    if args.describe:
        return await describe(admin, args)
    if args.reset_offsets:
        return await reset_offsets(admin, args)
    if args.delete:
        return await delete_groups(admin, args)
    return await delete_group_offsets(admin, args)


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
