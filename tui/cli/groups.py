"""`kwb groups`: kafka-consumer-groups.sh — list, describe, reset offsets of and delete groups.

The text output is Kafka 4.0's ConsumerGroupCommand, column for column (widths, "-" for missing
values, the leading blank line of each table), so scripts written against the Kafka tool read
it unchanged. Where Kafka prints a failure and still exits 0, kwb prints the same message as
one `kwb groups: error:` line on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from kio.schema.errors import ErrorCode

from ..kafka.admin import EARLIEST, LATEST, KafkaAdmin, TopicPartition
from ..kafka.errors import KafkaToolError
from ..kafka.models import CommittedOffset, GroupInfo, GroupListing, MemberInfo
from .common import (
    EXIT_FAILURE,
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    kafka_style,
    print_json,
    run,
)

PROG = "kwb groups"
MISSING = "-"
CONSUMER_STATES = (
    "PreparingRebalance",
    "CompletingRebalance",
    "Stable",
    "Dead",
    "Empty",
    "Assigning",
    "Reconciling",
)
GROUP_TYPES = ("Consumer", "Classic", "Share")
REBALANCING = ("PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling")
INACTIVE = ("Empty", "Dead")
SCENARIOS = (
    "to_earliest",
    "to_latest",
    "to_current",
    "to_offset",
    "to_datetime",
    "by_duration",
    "shift_by",
    "from_file",
)
NO_EXECUTE_WARNING = (
    "WARN: No action will be performed as the --execute option is missing. In a future major"
    " release, the default behavior of this command will be to prompt the user before executing"
    " the reset rather than doing a dry run. You should add the --dry-run option explicitly if"
    " you are scripting this command and want to keep the current default behavior without"
    " prompting."
)
_OFFSET_DELETE, _DELETE_GROUPS = 47, 42

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


def tp_name(tp: TopicPartition) -> str:
    """A partition as Kafka's TopicPartition.toString() writes it: `test-0`."""
    return f"{tp[0]}-{tp[1]}"


# -- flags ------------------------------------------------------------------------------------


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG,
        description="List, describe, reset the offsets of and delete consumer groups.",
    )
    actions = p.add_mutually_exclusive_group(required=True)
    actions.add_argument("--list", action="store_true", help="list all consumer groups")
    actions.add_argument("--describe", action="store_true", help="describe groups (and lag)")
    actions.add_argument("--delete", action="store_true", help="delete groups")
    actions.add_argument("--reset-offsets", action="store_true", help="reset committed offsets")
    actions.add_argument(
        "--delete-offsets", action="store_true", help="delete a group's offsets of topics"
    )
    p.add_argument("--group", action="append", help="the consumer group; repeatable")
    p.add_argument("--all-groups", action="store_true", help="apply to all consumer groups")
    p.add_argument(
        "--topic",
        action="append",
        help="a topic (reset-offsets and delete-offsets); `topic:0,1` picks partitions",
    )
    p.add_argument(
        "--all-topics", action="store_true", help="every topic the group has offsets for"
    )
    p.add_argument("--members", action="store_true", help="describe the group's members")
    p.add_argument("--offsets", action="store_true", help="describe offsets and lag (default)")
    p.add_argument("--verbose", action="store_true", help="more columns with --describe")
    p.add_argument(
        "--state",
        nargs="?",
        const="",
        metavar="STATES",
        help="--describe: the group's state; --list: a STATE column, or only these states",
    )
    p.add_argument(
        "--type",
        nargs="?",
        const="",
        metavar="TYPES",
        help="--list: a TYPE column, or only groups of these types (classic,consumer)",
    )
    p.add_argument(
        "--timeout", type=int, default=5000, metavar="MS", help="accepted for compatibility"
    )
    p.add_argument("--dry-run", action="store_true", help="only show the new offsets (default)")
    p.add_argument("--execute", action="store_true", help="commit the new offsets")
    p.add_argument("--export", action="store_true", help="print the new offsets as CSV")
    scenarios = p.add_mutually_exclusive_group()
    scenarios.add_argument("--to-earliest", action="store_true", help="the log start offset")
    scenarios.add_argument("--to-latest", action="store_true", help="the log end offset")
    scenarios.add_argument("--to-current", action="store_true", help="the committed offset")
    scenarios.add_argument("--to-offset", type=int, metavar="OFFSET", help="this offset")
    scenarios.add_argument(
        "--to-datetime",
        metavar="DATETIME",
        help="the first offset at or after YYYY-MM-DDTHH:mm:SS.sss[Z|+hh:mm]",
    )
    scenarios.add_argument(
        "--by-duration", metavar="DURATION", help="the first offset after now minus PnDTnHnMnS"
    )
    scenarios.add_argument(
        "--shift-by", type=int, metavar="N", help="the committed offset plus N (may be negative)"
    )
    scenarios.add_argument("--from-file", type=Path, metavar="CSV", help="offsets from a CSV plan")
    add_connection_options(p, "--command-config")
    return p


def check_args(args: argparse.Namespace) -> None:
    """Kafka's ConsumerGroupCommandOptions.checkArgs: flag combinations that cannot work."""
    if args.group and args.all_groups:
        raise UsageError("--group and --all-groups cannot be used together")
    if args.describe:
        check_describe(args)
    for flag in ("members", "offsets", "verbose"):
        if getattr(args, flag) and not args.describe:
            raise UsageError(f"--{flag} can only be used with --describe")
    if args.state is not None and not (args.describe or args.list):
        raise UsageError("--state can only be used with --describe or --list")
    if args.type is not None and not args.list:
        raise UsageError("--type can only be used with --list")
    if (args.group or args.all_groups) and args.list:
        raise UsageError("--group and --all-groups cannot be used with --list")
    if args.topic and not (args.reset_offsets or args.delete_offsets):
        raise UsageError("--topic can only be used with --reset-offsets or --delete-offsets")
    if args.delete and not (args.group or args.all_groups):
        raise UsageError("--delete takes one of these options: --all-groups, --group")
    if args.delete_offsets and (not args.group or not args.topic or args.all_groups):
        raise UsageError("--delete-offsets takes the following options: --group, --topic")
    check_reset(args)


def check_describe(args: argparse.Namespace) -> None:
    if not (args.group or args.all_groups):
        raise UsageError("--describe takes one of these options: --all-groups, --group")
    if sum(bool(x) for x in (args.members, args.offsets, args.state is not None)) > 1:
        raise UsageError(
            "--describe takes at most one of these options: --members, --offsets, --state"
        )
    if args.state:
        raise UsageError("--describe does not take a value for --state")


def check_reset(args: argparse.Namespace) -> None:
    scenario = [name for name in SCENARIOS if getattr(args, name) not in (None, False)]
    if not args.reset_offsets:
        if scenario or args.dry_run or args.execute or args.export or args.all_topics:
            raise UsageError(
                "--dry-run, --execute, --export, --all-topics and the --to-*/--by-duration/"
                "--shift-by/--from-file scenarios need --reset-offsets"
            )
        return
    if args.dry_run and args.execute:
        raise UsageError("--reset-offsets only accepts one of --execute and --dry-run")
    if not (args.group or args.all_groups):
        raise UsageError("--reset-offsets takes one of these options: --all-groups, --group")
    if not scenario:
        raise UsageError(
            "--reset-offsets requires one of the following scenarios: --to-earliest, "
            "--to-latest, --to-current, --to-offset, --to-datetime, --by-duration, --shift-by, "
            "--from-file"
        )
    if not args.topic and not args.all_topics and args.from_file is None:
        raise UsageError("One of the reset scopes should be defined: --all-topics, --topic.")
    if args.topic and args.all_topics:
        raise UsageError("--topic and --all-topics cannot be used together")


def parse_choices(text: str, valid: Sequence[str], what: str) -> list[str]:
    """`stable,empty` → ["Stable", "Empty"] (case-insensitive, as Kafka parses them)."""
    by_upper = {v.upper(): v for v in valid}
    chosen = [by_upper.get(part.strip().upper()) for part in text.split(",")]
    if None in chosen:
        raise UsageError(f"Invalid {what} list '{text}'. Valid {what}s are: {', '.join(valid)}")
    return [c for c in chosen if c is not None]


def parse_topic_partitions(arg: str) -> tuple[str, list[int] | None]:
    """`topic` (all partitions) or `topic:0,1,2`, as Kafka's --topic takes them."""
    if ":" not in arg:
        return arg, None
    parts = arg.split(":")
    if len(parts) != 2 or not parts[1]:
        raise UsageError(f"Invalid topic arg '{arg}', expected topic name and partitions")
    partitions = []
    for text in parts[1].split(","):
        try:
            partitions.append(int(text))
        except ValueError:
            raise UsageError(f"Invalid partition '{text}' specified in topic arg '{arg}'") from None
    return parts[0], partitions


_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}(?::?\d{2})?)"
)


def parse_datetime(text: str) -> int:
    """Epoch ms of `YYYY-MM-DDTHH:mm:SS.sss[zone]`; no zone means UTC (Utils.getDateTime)."""
    _, sep, clock = text.partition("T")
    if not sep:
        raise UsageError(
            "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"
        )
    stamp = text if any(c in clock for c in "+-Z") else text + "Z"
    match = _DATETIME.fullmatch(stamp)
    if match is None:
        raise UsageError(f'Unparseable date: "{stamp}" (expected YYYY-MM-DDTHH:mm:SS.sss[zone])')
    year, month, day, hour, minute, second, millis = (int(g) for g in match.groups()[:7])
    zone = match.group(8)
    offset = timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        offset = -offset if zone[0] == "-" else offset
    try:
        moment = datetime(
            year, month, day, hour, minute, second, millis * 1000, tzinfo=timezone(offset)
        )
    except ValueError:
        raise UsageError(f'Unparseable date: "{stamp}"') from None
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


_DURATION = re.compile(
    r"([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?",
    re.IGNORECASE,
)


def parse_duration(text: str) -> timedelta:
    """Java's Duration.parse (`PnDTnHnMn.nS`), which Kafka's --by-duration takes."""
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()[1:]) or text.upper().endswith("T"):
        raise UsageError(f"Text cannot be parsed to a Duration: {text}")
    sign, days, hours, minutes, seconds, fraction = match.groups()
    value = timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
    )
    if fraction:
        micros = int(fraction.ljust(6, "0")[:6])
        value += timedelta(microseconds=-micros if (seconds or "").startswith("-") else micros)
    return -value if sign == "-" else value


# -- reading groups -----------------------------------------------------------------------------


def is_consumer_group(listing: GroupListing) -> bool:
    """Kafka's listConsumerGroups keeps groups of the consumer protocol and simple ones."""
    return listing.protocol_type in ("consumer", "")


async def consumer_groups(admin: KafkaAdmin, states: list[str] | None = None) -> list[GroupListing]:
    return [g for g in await admin.list_groups(states) if is_consumer_group(g)]


async def group_ids(admin: KafkaAdmin, args: argparse.Namespace) -> list[str]:
    if args.all_groups:
        return [g.group_id for g in await consumer_groups(admin)]
    return list(dict.fromkeys(args.group))


async def describe_consumer_group(admin: KafkaAdmin, group_id: str) -> GroupInfo:
    """DescribeGroups for one group; a group that does not exist is an error, as in Kafka 4.0."""
    try:
        info = await admin.describe_group(group_id)
    except KafkaToolError as exc:
        if exc.code == ErrorCode.group_id_not_found:
            raise KafkaToolError(f"Consumer group '{group_id}' does not exist.") from None
        raise
    if info.state == "Dead":
        raise KafkaToolError(f"Consumer group '{group_id}' does not exist.")
    if info.protocol_type not in ("consumer", ""):
        raise KafkaToolError(f"GroupId {group_id} is not a consumer group ({info.protocol_type}).")
    return info


async def offsets_of(
    admin: KafkaAdmin, partitions: Iterable[TopicPartition], spec: int
) -> dict[TopicPartition, int | None]:
    """ListOffsets for `spec`; None where the partition does not exist (any more)."""
    wanted = sorted(set(partitions))
    if not wanted:
        return {}
    existing = {
        (t.name, p.partition)
        for t in await admin.topics(include_internal=True)
        for p in t.partitions
    }
    present = [tp for tp in wanted if tp in existing]
    found = await admin.list_offsets(present, spec) if present else {}
    return {tp: found[tp][0] if tp in found else None for tp in wanted}


def state_notice(group_id: str, state: str) -> None:
    """Kafka's note on stderr before a group's table when the group is not Stable."""
    message = None
    if state == "Empty":
        message = f"Consumer group '{group_id}' has no active members."
    elif state in REBALANCING:
        message = f"Warning: Consumer group '{group_id}' is rebalancing."
    if message:
        sys.stdout.flush()
        sys.stderr.write(f"\n{message}\n")
        sys.stderr.flush()


def cell(value: object) -> str:
    return MISSING if value is None else str(value)


# -- --list -------------------------------------------------------------------------------------


async def list_groups(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    with_state, with_type = args.state is not None, args.type is not None
    states = parse_choices(args.state, CONSUMER_STATES, "state") if args.state else None
    types = parse_choices(args.type, GROUP_TYPES, "type") if args.type else None
    groups = await consumer_groups(admin, states)
    if types:
        groups = [g for g in groups if g.group_type.capitalize() in types]
    if args.output == "json":
        if with_state or with_type:
            print_json(
                [
                    {"group": g.group_id, "state": g.state, "type": g.group_type.capitalize()}
                    for g in groups
                ]
            )
        else:
            print_json([g.group_id for g in groups])
        return 0
    if not (with_state or with_type):
        for g in groups:
            print(g.group_id)
        return 0
    width = max((max(15, len(g.group_id)) for g in groups), default=15) + 10
    header, rows = ["GROUP"], [[g.group_id] for g in groups]
    widths = [width]
    if with_type:
        header.append("TYPE")
        widths.append(20)
        for row, g in zip(rows, groups, strict=True):
            row.append(g.group_type.capitalize() or "Unknown")
    if with_state:
        header.append("STATE")
        widths.append(20)
        for row, g in zip(rows, groups, strict=True):
            row.append(g.state or "Unknown")
    for row in [header, *rows]:
        print(" ".join(text.ljust(w) for text, w in zip(row, widths, strict=True)))
    return 0


# -- --describe ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OffsetRow:
    group: str
    topic: str
    partition: int
    current: int | None
    log_end: int | None
    leader_epoch: int | None
    consumer_id: str
    host: str
    client_id: str

    @property
    def lag(self) -> int | None:
        if self.current is None or self.current == -1 or self.log_end is None:
            return None
        return self.log_end - self.current


async def offset_rows(admin: KafkaAdmin, info: GroupInfo) -> list[OffsetRow]:
    """One row per assigned partition (members with most partitions first), then the
    partitions with committed offsets but no consumer, as ConsumerGroupCommand lists them."""
    committed = await admin.group_offsets(info.group_id)
    owners: list[tuple[TopicPartition, MemberInfo | None]] = []
    members = sorted(
        (m for m in info.members if any(m.assignment.values())),
        key=lambda m: -sum(len(ps) for ps in m.assignment.values()),
    )
    for member in members:
        owned = sorted((t, p) for t, ps in member.assignment.items() for p in ps)
        owners += [(tp, member) for tp in owned]
    assigned = {tp for tp, _ in owners}
    owners += [(tp, None) for tp in sorted(committed) if tp not in assigned]
    log_ends = await offsets_of(admin, (tp for tp, _ in owners), LATEST)
    rows = []
    for tp, member in owners:
        commit: CommittedOffset | None = committed.get(tp)
        rows.append(
            OffsetRow(
                info.group_id,
                tp[0],
                tp[1],
                commit.offset if commit else None,
                log_ends.get(tp),
                commit.leader_epoch if commit and commit.leader_epoch >= 0 else None,
                member.member_id if member else MISSING,
                member.host if member else MISSING,
                member.client_id if member else MISSING,
            )
        )
    return rows


def offsets_table(rows: list[OffsetRow], verbose: bool) -> str:
    """Kafka's printOffsets: GROUP, TOPIC, CONSUMER-ID and HOST grow to fit (at least 15)."""
    widths = [
        max([15, *(len(r.group) for r in rows)]),
        max([15, *(len(r.topic) for r in rows)]),
        10,
        *([15] if verbose else []),
        15,
        15,
        15,
        max([15, *(len(r.consumer_id) for r in rows)]),
        max([15, *(len(r.host) for r in rows)]),
        0,
    ]
    header = ["GROUP", "TOPIC", "PARTITION", *(["LEADER-EPOCH"] if verbose else [])]
    header += ["CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]
    table = [header]
    for r in rows:
        values = [r.group, r.topic, str(r.partition)]
        values += [cell(r.leader_epoch)] if verbose else []
        values += [cell(r.current), cell(r.log_end), cell(r.lag)]
        table.append([*values, r.consumer_id, r.host, r.client_id])
    lines = [" ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in table]
    return "\n" + "\n".join(lines) + "\n"


def assignment_text(assignment: dict[str, list[int]]) -> str:
    """`t1:0,1;t2:3`, sorted as Kafka sorts it (partitions as strings)."""
    parts = [
        f"{topic}:{','.join(sorted(str(p) for p in partitions))}"
        for topic, partitions in assignment.items()
        if partitions
    ]
    return ";".join(sorted(parts)) or MISSING


def members_table(info: GroupInfo, verbose: bool) -> str:
    members = info.members
    instance = any(m.instance_id for m in members)
    widths = {
        "group": max([15, len(info.group_id)]),
        "id": max([15, *(len(m.member_id) for m in members)]),
        "instance": max([17, *(len(m.instance_id or "") for m in members)]),
        "host": max([15, *(len(m.host) for m in members)]),
        "client": max([15, *(len(m.client_id) for m in members)]),
        "current": max([20, *(len(assignment_text(m.assignment)) for m in members)]),
    }

    def line(group: str, member: str, inst: str, host: str, client: str, count: str) -> str:
        cells = [group.ljust(widths["group"]), member.ljust(widths["id"])]
        if instance:
            cells.append(inst.ljust(widths["instance"]))
        cells += [host.ljust(widths["host"]), client.ljust(widths["client"]), count.ljust(15)]
        return " ".join(cells) + " "

    def extra(current_epoch: str, current: str, target_epoch: str, target: str) -> str:
        if not verbose:
            return ""
        cells = [current_epoch.ljust(15), current.ljust(widths["current"])]
        return " ".join([*cells, target_epoch.ljust(15), target.ljust(20)])

    text = "\n" + line(
        "GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"
    )
    text += extra("CURRENT-EPOCH", "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT") + "\n"
    for m in members:
        count = str(sum(len(ps) for ps in m.assignment.values()))
        text += line(info.group_id, m.member_id, m.instance_id or "", m.host, m.client_id, count)
        text += extra(MISSING, assignment_text(m.assignment), MISSING, MISSING) + "\n"
    return text


@dataclass(frozen=True, slots=True)
class Coordinator:
    node_id: int
    host: str
    port: int


async def coordinator_of(admin: KafkaAdmin, group_id: str) -> Coordinator:
    node = await admin.coordinator(group_id)
    for broker in (await admin.cluster()).brokers:
        if broker.node_id == node:
            return Coordinator(node, broker.host, broker.port)
    return Coordinator(node, "", -1)


def state_table(info: GroupInfo, coordinator: Coordinator, verbose: bool) -> str:
    where = f"{coordinator.host}:{coordinator.port}  ({coordinator.node_id})"
    group_w, coordinator_w = max(15, len(info.group_id)), max(25, len(where))

    def line(group: str, coord: str, strategy: str, state: str, epochs: list[str], n: str) -> str:
        cells = [group.ljust(group_w), coord.ljust(coordinator_w), strategy.ljust(20)]
        cells.append(state.ljust(20))
        if verbose:
            cells += [epochs[0].ljust(15), epochs[1].ljust(25)]
        return " ".join([*cells, n])

    header = line(
        "GROUP",
        "COORDINATOR (ID)",
        "ASSIGNMENT-STRATEGY",
        "STATE",
        ["GROUP-EPOCH", "TARGET-ASSIGNMENT-EPOCH"],
        "#MEMBERS",
    )
    row = line(
        info.group_id,
        where,
        info.protocol or MISSING,
        info.state,
        [MISSING, MISSING],
        str(len(info.members)),
    )
    return f"\n{header}\n{row}\n"


def member_json(m: MemberInfo) -> dict[str, Any]:
    return {
        "consumer_id": m.member_id,
        "group_instance_id": m.instance_id,
        "host": m.host,
        "client_id": m.client_id,
        "partitions": sum(len(ps) for ps in m.assignment.values()),
        "assignment": {t: list(ps) for t, ps in sorted(m.assignment.items())},
    }


def row_json(r: OffsetRow) -> dict[str, Any]:
    def known(text: str) -> str | None:
        return None if text == MISSING else text

    return {
        "topic": r.topic,
        "partition": r.partition,
        "current_offset": r.current,
        "log_end_offset": r.log_end,
        "lag": r.lag,
        "leader_epoch": r.leader_epoch,
        "consumer_id": known(r.consumer_id),
        "host": known(r.host),
        "client_id": known(r.client_id),
    }


async def describe_offsets(
    admin: KafkaAdmin, info: GroupInfo, args: argparse.Namespace
) -> dict[str, Any] | str:
    """The default view (--offsets): one row per partition with lag."""
    rows = await offset_rows(admin, info)
    if args.output == "json":
        return {
            "group": info.group_id,
            "state": info.state,
            "partitions": [row_json(r) for r in rows],
        }
    return offsets_table(rows, args.verbose) if rows else ""


async def describe_members(
    admin: KafkaAdmin, info: GroupInfo, args: argparse.Namespace
) -> dict[str, Any] | str:
    if args.output == "json":
        members = [member_json(m) for m in info.members]
        return {"group": info.group_id, "state": info.state, "members": members}
    return members_table(info, args.verbose) if info.members else ""


async def describe_state(
    admin: KafkaAdmin, info: GroupInfo, args: argparse.Namespace
) -> dict[str, Any] | str:
    coordinator = await coordinator_of(admin, info.group_id)
    if args.output == "json":
        return {
            "group": info.group_id,
            "coordinator": {
                "id": coordinator.node_id,
                "host": coordinator.host,
                "port": coordinator.port,
            },
            "assignment_strategy": info.protocol or None,
            "state": info.state,
            "members": len(info.members),
        }
    return state_table(info, coordinator, args.verbose)


async def describe(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    """Kafka collects every group first (failing if one does not exist), then prints each."""
    groups = sorted(await group_ids(admin, args))
    described = [await describe_consumer_group(admin, g) for g in groups]
    view = (
        describe_members
        if args.members
        else describe_state
        if args.state is not None
        else describe_offsets
    )
    documents = []
    for info in described:
        shown = await view(admin, info, args)
        if isinstance(shown, dict):
            documents.append(shown)
            continue
        state_notice(info.group_id, info.state)
        sys.stdout.write(shown)
    if args.output == "json":
        print_json(documents)
    return 0


# -- --reset-offsets ----------------------------------------------------------------------------


def warn(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"WARN {message}\n")


async def partitions_to_reset(
    admin: KafkaAdmin, args: argparse.Namespace, committed: dict[TopicPartition, CommittedOffset]
) -> list[TopicPartition]:
    if args.all_topics:
        return sorted(committed)
    chosen: list[TopicPartition] = []
    whole: list[str] = []
    for arg in args.topic or ():
        topic, partitions = parse_topic_partitions(arg)
        if partitions is None:
            whole.append(topic)
        else:
            chosen += [(topic, p) for p in partitions]
    if whole:
        for info in await admin.topics(sorted(set(whole)), include_internal=True):
            chosen += [(info.name, p.partition) for p in info.partitions]
    return list(dict.fromkeys(chosen))


async def clamp_to_log(
    admin: KafkaAdmin, requested: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Kafka's checkOffsetsRange: offsets outside the log move to its start or end."""
    starts = await offsets_of(admin, requested, EARLIEST)
    ends = await offsets_of(admin, requested, LATEST)
    result = {}
    for tp, offset in requested.items():
        start, end = starts.get(tp), ends.get(tp)
        if end is None:
            raise UsageError(f"Error getting ending offset of topic partition: {tp_name(tp)}")
        if offset > end:
            warn(
                f"New offset ({offset}) is higher than latest offset for topic partition"
                f" {tp_name(tp)}. Value will be set to {end}"
            )
            offset = end
        elif start is not None and offset < start:
            warn(
                f"New offset ({offset}) is lower than earliest offset for topic partition"
                f" {tp_name(tp)}. Value will be set to {start}"
            )
            offset = start
        result[tp] = offset
    return result


async def log_offsets_or_fail(
    admin: KafkaAdmin, partitions: list[TopicPartition], spec: int, what: str
) -> dict[TopicPartition, int]:
    found = await offsets_of(admin, partitions, spec)
    missing = [tp for tp in partitions if found.get(tp) is None]
    if missing:
        raise UsageError(f"Error getting {what} offset of topic partition: {tp_name(missing[0])}")
    return {tp: int(found[tp] or 0) for tp in partitions}


async def offsets_at_time(
    admin: KafkaAdmin, partitions: list[TopicPartition], timestamp: int, json_out: bool
) -> dict[TopicPartition, int]:
    """The first offset at or after `timestamp`; the log end where there is none (as Kafka)."""
    found = await offsets_of(admin, partitions, timestamp)
    missing = [tp for tp in partitions if found.get(tp) is None]
    if missing:
        raise UsageError(
            f"Error getting offset by timestamp of topic partition: {tp_name(missing[0])}"
        )
    empty = [tp for tp in partitions if found[tp] == -1]
    for topic, partition in empty:
        note = f"\nWarn: Partition {partition} from topic {topic} is empty."
        print(note + " Falling back to latest known offset.", file=sys.stderr if json_out else None)
    ends = await log_offsets_or_fail(admin, empty, LATEST, "ending")
    return {tp: ends[tp] if tp in ends else int(found[tp] or 0) for tp in partitions}


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


async def new_offsets(
    admin: KafkaAdmin,
    args: argparse.Namespace,
    group_id: str,
    plan: dict[str, dict[TopicPartition, int]] | None,
) -> dict[TopicPartition, int]:
    """Kafka's prepareOffsetsToReset for one inactive group."""
    committed = await admin.group_offsets(group_id)
    if plan is not None:
        if group_id not in plan:
            raise KafkaToolError(f"No reset plan for group {group_id} found")
        return await clamp_to_log(admin, plan[group_id])
    partitions = await partitions_to_reset(admin, args, committed)
    if args.to_offset is not None:
        return await clamp_to_log(admin, dict.fromkeys(partitions, args.to_offset))
    if args.to_earliest:
        return await log_offsets_or_fail(admin, partitions, EARLIEST, "starting")
    if args.to_latest:
        return await log_offsets_or_fail(admin, partitions, LATEST, "ending")
    if args.shift_by is not None:
        requested = {}
        for tp in partitions:
            if tp not in committed:
                raise UsageError(
                    f"Cannot shift offset for partition {tp_name(tp)} since there is no"
                    " current committed offset"
                )
            requested[tp] = committed[tp].offset + args.shift_by
        return await clamp_to_log(admin, requested)
    if args.to_datetime is not None or args.by_duration is not None:
        if args.to_datetime is not None:
            timestamp = parse_datetime(args.to_datetime)
        else:
            since = datetime.now(UTC) - parse_duration(args.by_duration)
            timestamp = int(since.timestamp() * 1000)
        return await offsets_at_time(admin, partitions, timestamp, args.output == "json")
    # --to-current: the committed offset, or the log end where there is none
    without = [tp for tp in partitions if tp not in committed]
    ends = await log_offsets_or_fail(admin, without, LATEST, "ending")
    return {tp: committed[tp].offset if tp in committed else ends[tp] for tp in partitions}


async def group_state_for_reset(admin: KafkaAdmin, group_id: str) -> str:
    """The group's state; a group that does not exist is Dead (its offsets can be set)."""
    try:
        return (await admin.describe_group(group_id)).state
    except KafkaToolError as exc:
        if exc.code == ErrorCode.group_id_not_found:
            return "Dead"
        raise


def reset_table(results: dict[str, dict[TopicPartition, int]]) -> str:
    def line(group: str, topic: str, partition: str, offset: str) -> str:
        return f"{group:<30} {topic:<30} {partition:<10} {offset:<15}"

    lines = [line("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET")]
    for group, offsets in results.items():
        for (topic, partition), offset in sorted(offsets.items()):
            lines.append(line(group, topic, str(partition), str(offset)))
    return "\n" + "\n".join(lines) + "\n"


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
    plan = read_plan(args.from_file, args) if args.from_file is not None else None
    results: dict[str, dict[TopicPartition, int]] = {}
    refused = []
    for group_id in await group_ids(admin, args):
        state = await group_state_for_reset(admin, group_id)
        if state not in INACTIVE:
            refused.append(
                f"Assignments can only be reset if the group '{group_id}' is inactive, but the"
                f" current state is {state}."
            )
            continue
        offsets = await new_offsets(admin, args, group_id, plan)
        if args.execute and offsets:
            await admin.commit_group_offsets(group_id, offsets)
        results[group_id] = offsets
    for message in refused:
        sys.stderr.write(f"{PROG}: error: {message}\n")
    if args.output == "json":
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
    elif results:
        sys.stdout.write(reset_table(results))
    return EXIT_FAILURE if refused else 0


# -- --delete and --delete-offsets --------------------------------------------------------------


async def delete_groups(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    groups = await group_ids(admin, args)
    failed: dict[str, str] = {}
    for group_id in groups:
        response = await admin.send(
            _DELETE_GROUPS, {"groups_names": [group_id]}, node=await admin.coordinator(group_id)
        )
        for result in response.results:
            if result.error_code != ErrorCode.none:
                failed[result.group_id] = java_error(ErrorCode(result.error_code))
    succeeded = [g for g in groups if g not in failed]
    if args.output == "json":
        print_json({"deleted": succeeded, "failed": failed})
        return EXIT_FAILURE if failed else 0
    if not failed:
        print(f"Deletion of requested consumer groups ('{', '.join(succeeded)}') was successful.")
        return 0
    lines = [f"{PROG}: error: Deletion of some consumer groups failed:"]
    lines += [f"* Group '{g}' could not be deleted due to: {error}" for g, error in failed.items()]
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


async def offset_delete(
    admin: KafkaAdmin, group_id: str, topic_args: list[str]
) -> dict[tuple[str, int], ErrorCode]:
    """OffsetDelete (API 47) of the partitions `topic_args` name: an error code per partition;
    (topic, -1) for a named topic that does not exist, as Kafka's tool reports it."""
    statuses: dict[tuple[str, int], ErrorCode] = {}
    partitions: list[TopicPartition] = []
    existing = {t.name: t for t in await admin.topics(include_internal=True)}
    for arg in topic_args:
        topic, chosen = parse_topic_partitions(arg)
        if chosen is not None:
            partitions += [(topic, p) for p in chosen]
        elif topic in existing:
            partitions += [(topic, p.partition) for p in existing[topic].partitions]
        else:
            statuses[(topic, -1)] = ErrorCode.unknown_topic_or_partition
    by_topic: dict[str, list[int]] = defaultdict(list)
    for topic, partition in dict.fromkeys(partitions):
        by_topic[topic].append(partition)
    response = await admin.send(
        _OFFSET_DELETE,
        {
            "group_id": group_id,
            "topics": [
                {"name": t, "partitions": [{"partition_index": p} for p in ps]}
                for t, ps in by_topic.items()
            ],
        },
        node=await admin.coordinator(group_id),
    )
    if response.error_code != ErrorCode.none:  # every partition failed, and that comes first
        return dict.fromkeys(partitions, ErrorCode(response.error_code)) | statuses
    for t in response.topics:
        for p in t.partitions:
            statuses[(t.name, p.partition_index)] = ErrorCode(p.error_code)
    return statuses


def delete_offsets_error(group_id: str, statuses: dict[tuple[str, int], ErrorCode]) -> str | None:
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


async def delete_offsets(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    group_id = args.group[0]
    statuses = await offset_delete(admin, group_id, args.topic)
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
        sys.stderr.write(f"{PROG}: error: {error_line}\n")
    else:
        topics = ", ".join(args.topic)
        print(f"Request succeed for deleting offsets with topic {topics} group {group_id}")
    lines = [f"{'TOPIC':<30} {'PARTITION':<15} {'STATUS':<15}"]
    for (topic, partition), code in ordered:
        shown = str(partition) if partition >= 0 else "Not Provided"
        lines.append(f"{topic:<30} {shown:<15} {delete_status(code):<15}")
    sys.stdout.write("\n" + "\n".join(lines) + "\n")
    return EXIT_FAILURE if error_line else 0


# -- main ---------------------------------------------------------------------------------------


async def execute(args: argparse.Namespace) -> int:
    check_args(args)
    async with KafkaAdmin(connection_from(args)) as admin:
        if args.list:
            return await list_groups(admin, args)
        if args.describe:
            return await describe(admin, args)
        if args.reset_offsets:
            return await reset_offsets(admin, args)
        if args.delete:
            return await delete_groups(admin, args)
        return await delete_offsets(admin, args)


def main(argv: list[str]) -> None:
    p = parser()
    args = p.parse_args(kafka_style(argv, p))
    run(PROG, lambda: execute(args))
