"""`kwb groups --reset-offsets`: Kafka's reset scenarios, dry run or executed, as Kafka prints them.

The new offsets are worked out by the access layer (tui.kafka.offset_reset.reset_group),
which the workbench shares; this module turns the flags into a reset target and a scope, reads
a --from-file plan, and prints Kafka's warnings, the NEW-OFFSET table or the --export CSV.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from kio.schema.errors import ErrorCode

from ...kafka.admin import KafkaAdmin
from ...kafka.errors import KafkaToolError
from ...kafka.java_errors import default_message
from ...kafka.models import TopicPartition, TopicSelection
from ...kafka.offset_reset import (
    ByDuration,
    Clamped,
    EmptyPartition,
    FromPlan,
    ResetNote,
    ResetTarget,
    ShiftBy,
    ToCurrent,
    ToEarliest,
    ToLatest,
    ToOffset,
    ToTimestamp,
    reset_group,
    tp_name,
)
from ..common import EXIT_FAILURE, UsageError, error, print_json
from .options import PROG, group_ids, parse_datetime, parse_duration, parse_topic_partitions
from .report import print_error

NO_EXECUTE_WARNING = (
    "WARN: No action will be performed as the --execute option is missing. In a future major"
    " release, the default behavior of this command will be to prompt the user before executing"
    " the reset rather than doing a dry run. You should add the --dry-run option explicitly if"
    " you are scripting this command and want to keep the current default behavior without"
    " prompting."
)


def read_plan(path: Path, args: argparse.Namespace) -> dict[str, dict[TopicPartition, int]]:
    """A --from-file CSV: `topic,partition,offset` for one group, or `group,topic,...`."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if r]
    single = args.group is not None and len(args.group) == 1

    def no_group(row: list[str]) -> bool:
        return len(row) == 3 and row[1].lstrip("-").isdigit() and row[2].lstrip("-").isdigit()

    plan: dict[str, dict[TopicPartition, int]] = defaultdict(dict)
    try:
        if single and rows and no_group(rows[0]):
            for topic, partition, offset in rows:
                plan[args.group[0]][(topic, int(partition))] = int(offset)
        else:
            for group, topic, partition, offset in rows:
                plan[group][(topic, int(partition))] = int(offset)
    except ValueError:
        raise UsageError(f"{path}: every line must be [group,]topic,partition,offset") from None
    return plan


def target_from(args: argparse.Namespace, plan: FromPlan | None) -> ResetTarget:
    """The one scenario flag (argparse keeps them exclusive) as a reset target."""
    if plan is not None:
        return plan
    if args.to_offset is not None:
        return ToOffset(args.to_offset)
    if args.to_earliest:
        return ToEarliest()
    if args.to_latest:
        return ToLatest()
    if args.shift_by is not None:
        return ShiftBy(args.shift_by)
    if args.to_datetime is not None:
        return ToTimestamp(parse_datetime(args.to_datetime))
    if args.by_duration is not None:
        return ByDuration(parse_duration(args.by_duration))
    return ToCurrent()


def scope_from(args: argparse.Namespace) -> Sequence[TopicSelection] | None:
    """--all-topics (None: every partition with a committed offset) or the --topic list."""
    if args.all_topics:
        return None
    return [parse_topic_partitions(arg) for arg in args.topic or ()]


def print_note(note: ResetNote, json_out: bool) -> None:
    """Kafka's WARN line for a clamped offset; its note for an empty partition."""
    if isinstance(note, Clamped):
        above = "higher than latest" if note.above else "lower than earliest"
        sys.stdout.flush()
        sys.stderr.write(
            f"WARN New offset ({note.requested}) is {above} offset for topic partition"
            f" {tp_name(note.partition)}. Value will be set to {note.offset}\n"
        )
    elif isinstance(note, EmptyPartition):
        topic, partition = note.partition
        text = f"\nWarn: Partition {partition} from topic {topic} is empty."
        print(text + " Falling back to latest known offset.", file=sys.stderr if json_out else None)


def reset_table(results: dict[str, dict[TopicPartition, int]]) -> str:
    """printOffsetsToReset: the header if any group was asked about (a refused one too), a row
    per partition, each after a newline, then println's."""

    def line(group: str, topic: str, partition: str, offset: str) -> str:
        return f"\n{group:<30} {topic:<30} {partition:<10} {offset:<15}"

    lines = [line("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")] if results else []
    for group, offsets in results.items():
        for (topic, partition), offset in sorted(offsets.items()):
            lines.append(line(group, topic, str(partition), str(offset)))
    return "".join(lines) + "\n"


def rethrown(exc: KafkaToolError) -> KafkaToolError:
    """A failure as Kafka's reset rethrows the client's exception: by its message alone (no
    ExecutionException names it), an unknown topic by the client's default message."""
    if exc.code == ErrorCode.unknown_topic_or_partition:
        return KafkaToolError(default_message(exc.code))
    return KafkaToolError(exc.detail)


def export_csv(results: dict[str, dict[TopicPartition, int]], with_group: bool) -> str:
    """Kafka's --export CSV (then println's blank line)."""
    lines = []
    for group, offsets in results.items():
        for (topic, partition), offset in sorted(offsets.items()):
            fields = [group, topic, str(partition), str(offset)] if with_group else []
            lines.append(",".join(fields or [topic, str(partition), str(offset)]))
    return "".join(line + "\n" for line in lines) + "\n"


async def reset_offsets(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    if not args.dry_run and not args.execute:
        sys.stderr.write(NO_EXECUTE_WARNING + "\n")
    plan = FromPlan(read_plan(args.from_file, args)) if args.from_file is not None else None
    target, scope = target_from(args, plan), scope_from(args)
    json_out = args.output == "json"
    results: dict[str, dict[TopicPartition, int]] = {}
    refused = False
    for group_id in await group_ids(admin, args):
        try:
            reset = await reset_group(
                admin,
                group_id,
                target,
                scope,
                execute=args.execute,
                on_note=lambda note: print_note(note, json_out),
            )
        except KafkaToolError as exc:
            raise rethrown(exc) from None
        if reset.refused:
            refused = True
            message = (
                f"Assignments can only be reset if the group '{group_id}' is inactive, but the"
                f" current state is {reset.state}."
            )
            if json_out:
                error(PROG, message)
            else:
                print_error(message)
        results[group_id] = reset.offsets
    if json_out:
        print_json(
            {
                "executed": bool(args.execute),
                "offsets": [
                    {"group": g, "topic": t, "partition": p, "new_offset": o}
                    for g, offsets in results.items()
                    for (t, p), o in sorted(offsets.items())
                ],
            }
        )
    elif args.export:
        sys.stdout.write(export_csv(results, with_group=not (args.group and len(args.group) == 1)))
    else:
        sys.stdout.write(reset_table(results))
    return EXIT_FAILURE if refused and json_out else 0
