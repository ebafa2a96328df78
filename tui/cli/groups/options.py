"""`kwb groups` flags: the parser, Kafka's checks of flag combinations, and flag values.

The checks and their messages are ConsumerGroupCommandOptions.checkArgs'; the value parsers
(states, types, `topic:0,1`, datetimes, ISO-8601 durations) read what Kafka's tool reads.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from localbroker.public import GroupState

from ...kafka.admin import KafkaAdmin
from ...kafka.group_lag import consumer_groups
from ...kafka.models import TopicSelection
from ..common import KwbParser, UsageError, add_connection_options

PROG = "kwb groups"
CONSUMER_STATES = (
    GroupState.PREPARING_REBALANCE,
    GroupState.COMPLETING_REBALANCE,
    GroupState.STABLE,
    GroupState.DEAD,
    GroupState.EMPTY,
    GroupState.ASSIGNING,
    GroupState.RECONCILING,
)
"""The states kafka-consumer-groups.sh --state accepts, in the order its message lists them."""
GROUP_TYPES = ("Consumer", "Classic", "Share")
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


def parse_topic_partitions(arg: str) -> TopicSelection:
    """`topic` (all partitions) or `topic:0,1,2`, as Kafka's --topic takes them."""
    if ":" not in arg:
        return TopicSelection(arg)
    parts = arg.split(":")
    if len(parts) != 2 or not parts[1]:
        raise UsageError(f"Invalid topic arg '{arg}', expected topic name and partitions")
    partitions = []
    for text in parts[1].split(","):
        try:
            partitions.append(int(text))
        except ValueError:
            raise UsageError(f"Invalid partition '{text}' specified in topic arg '{arg}'") from None
    return TopicSelection(parts[0], tuple(partitions))


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


async def group_ids(admin: KafkaAdmin, args: argparse.Namespace) -> list[str]:
    if args.all_groups:
        return [g.group_id for g in await consumer_groups(admin)]
    return list(dict.fromkeys(args.group))
