"""`kwb groups --list` and `--describe`: Kafka's tables of groups, members, offsets and lag.

The numbers come from the access layer (tui.kafka.group_lag), which the workbench shares;
this module lays them out as ConsumerGroupCommand does: widths, "-" for missing values, the
blank line before each table and the note on stderr for a group that is not Stable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from localbroker.public import GroupState

from ...kafka.admin import KafkaAdmin
from ...kafka.group_lag import (
    PartitionLag,
    consumer_groups,
    coordinator_node,
    describe_consumer_group,
    partition_lags,
)
from ...kafka.models import BrokerNode, GroupInfo, MemberInfo
from ..common import print_json
from .options import CONSUMER_STATES, GROUP_TYPES, group_ids, parse_choices

MISSING = "-"
REBALANCING = (
    GroupState.PREPARING_REBALANCE,
    GroupState.COMPLETING_REBALANCE,
    GroupState.ASSIGNING,
    GroupState.RECONCILING,
)


def state_notice(group_id: str, state: str) -> None:
    """Kafka's note on stderr before a group's table when the group is not Stable."""
    message = None
    if state == GroupState.EMPTY:
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


def owner_cells(lag: PartitionLag) -> tuple[str, str, str]:
    """CONSUMER-ID, HOST and CLIENT-ID of the partition's member; "-" without one."""
    if lag.owner is None:
        return MISSING, MISSING, MISSING
    return lag.owner.member_id, lag.owner.host, lag.owner.client_id


def offsets_table(lags: list[PartitionLag], verbose: bool) -> str:
    """Kafka's printOffsets: GROUP, TOPIC, CONSUMER-ID and HOST grow to fit (at least 15)."""
    owners = [owner_cells(lag) for lag in lags]
    widths = [
        max([15, *(len(r.group_id) for r in lags)]),
        max([15, *(len(r.topic) for r in lags)]),
        10,
        *([15] if verbose else []),
        15,
        15,
        15,
        max([15, *(len(consumer) for consumer, _, _ in owners)]),
        max([15, *(len(host) for _, host, _ in owners)]),
        0,
    ]
    header = ["GROUP", "TOPIC", "PARTITION", *(["LEADER-EPOCH"] if verbose else [])]
    header += ["CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"]
    table = [header]
    for r, owner in zip(lags, owners, strict=True):
        values = [r.group_id, r.topic, str(r.partition)]
        values += [cell(r.leader_epoch)] if verbose else []
        values += [cell(r.committed), cell(r.log_end), cell(r.lag)]
        table.append([*values, *owner])
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


def state_table(info: GroupInfo, coordinator: BrokerNode, verbose: bool) -> str:
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


def lag_json(r: PartitionLag) -> dict[str, Any]:
    return {
        "topic": r.topic,
        "partition": r.partition,
        "current_offset": r.committed,
        "log_end_offset": r.log_end,
        "lag": r.lag,
        "leader_epoch": r.leader_epoch,
        "consumer_id": r.owner.member_id if r.owner else None,
        "host": r.owner.host if r.owner else None,
        "client_id": r.owner.client_id if r.owner else None,
    }


async def describe_offsets(
    admin: KafkaAdmin, info: GroupInfo, args: argparse.Namespace
) -> dict[str, Any] | str:
    """The default view (--offsets): one row per partition with lag."""
    lags = await partition_lags(admin, info)
    if args.output == "json":
        return {
            "group": info.group_id,
            "state": info.state,
            "partitions": [lag_json(r) for r in lags],
        }
    return offsets_table(lags, args.verbose) if lags else ""


async def describe_members(
    admin: KafkaAdmin, info: GroupInfo, args: argparse.Namespace
) -> dict[str, Any] | str:
    if args.output == "json":
        members = [member_json(m) for m in info.members]
        return {"group": info.group_id, "state": info.state, "members": members}
    return members_table(info, args.verbose)  # the header even without members, as Kafka


async def describe_state(
    admin: KafkaAdmin, info: GroupInfo, args: argparse.Namespace
) -> dict[str, Any] | str:
    coordinator = await coordinator_node(admin, info.group_id)
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
