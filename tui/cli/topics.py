"""`kwb topics`: kafka-topics.sh — create, list, describe, alter and delete topics."""

from __future__ import annotations

import argparse
from typing import Any

from localbroker.public import ConfigResourceType, ConfigSource

from ..kafka.admin import KafkaAdmin
from ..kafka.models import ConfigInfo, TopicInfo
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    parse_key_values,
    print_json,
    run_command,
)

PROG = "kwb topics"
PARTITION_WARNING = (
    "WARNING: If partitions are increased for a topic that has a key, the partition logic or"
    " ordering of the messages will be affected"
)


def parser() -> KwbParser:
    p = KwbParser(prog=PROG, description="Create, list, describe, alter and delete topics.")
    actions = p.add_mutually_exclusive_group(required=True)
    for action in ("create", "list", "describe", "alter", "delete"):
        actions.add_argument(f"--{action}", action="store_true")
    p.add_argument("--topic", help="the topic (describe and list accept a regular expression)")
    p.add_argument("--partitions", type=int, help="partition count (create, alter)")
    p.add_argument("--replication-factor", type=int, help="replicas per partition (create)")
    p.add_argument(
        "--config",
        action="append",
        metavar="KEY=VALUE",
        help="a topic config (create, alter); repeatable",
    )
    p.add_argument(
        "--delete-config",
        action="append",
        metavar="KEY",
        help="remove a topic config override (alter)",
    )
    p.add_argument("--if-not-exists", action="store_true", help="create only if missing")
    p.add_argument("--if-exists", action="store_true", help="alter or delete only if present")
    p.add_argument(
        "--exclude-internal", action="store_true", help="leave out internal topics (list, describe)"
    )
    p.add_argument(
        "--under-replicated-partitions",
        action="store_true",
        help="describe only partitions missing in-sync replicas",
    )
    p.add_argument(
        "--unavailable-partitions",
        action="store_true",
        help="describe only partitions without a leader",
    )
    add_connection_options(p, "--command-config")
    return p


def overrides(configs: list[ConfigInfo]) -> str:
    return ",".join(
        f"{c.name}={c.value}" for c in configs if c.source == ConfigSource.DYNAMIC_TOPIC_CONFIG
    )


def describe_lines(topic: TopicInfo, configs: list[ConfigInfo], only: str | None) -> list[str]:
    lines = []
    if only is None:
        lines.append(
            f"Topic: {topic.name}\tTopicId: {topic.topic_id}\t"
            f"PartitionCount: {len(topic.partitions)}\t"
            f"ReplicationFactor: {topic.replication_factor}\t"
            f"Configs: {overrides(configs)}"
        )
    for p in topic.partitions:
        if only == "under-replicated" and len(p.isr) >= len(p.replicas):
            continue
        if only == "unavailable" and p.leader >= 0:
            continue
        lines.append(
            f"\tTopic: {topic.name}\tPartition: {p.partition}\tLeader: "
            f"{p.leader if p.leader >= 0 else 'none'}\t"
            f"Replicas: {','.join(map(str, p.replicas))}\t"
            f"Isr: {','.join(map(str, p.isr))}"
        )
    return lines


def topic_json(topic: TopicInfo, configs: list[ConfigInfo]) -> dict[str, Any]:
    return {
        "topic": topic.name,
        "topic_id": topic.topic_id,
        "internal": topic.internal,
        "partition_count": len(topic.partitions),
        "replication_factor": topic.replication_factor,
        "configs": {
            c.name: c.value for c in configs if c.source == ConfigSource.DYNAMIC_TOPIC_CONFIG
        },
        "partitions": [
            {
                "partition": p.partition,
                "leader": p.leader,
                "replicas": list(p.replicas),
                "isr": list(p.isr),
            }
            for p in topic.partitions
        ],
    }


def _matching(topics: list[TopicInfo], pattern: str | None) -> list[TopicInfo]:
    if pattern is None:
        return topics
    import re

    try:
        regex = re.compile(pattern)
    except re.error:
        return [t for t in topics if t.name == pattern]
    return [t for t in topics if regex.fullmatch(t.name)]


async def execute(args: argparse.Namespace) -> int:
    async with KafkaAdmin(connection_from(args)) as admin:
        if args.create:
            return await create(admin, args)
        if args.list:
            names = [
                t.name
                for t in _matching(
                    await admin.topics(include_internal=not args.exclude_internal), args.topic
                )
            ]
            if args.output == "json":
                print_json(names)
            else:
                for name in names:
                    print(name)
            return 0
        if args.describe:
            return await describe(admin, args)
        if args.alter:
            return await alter(admin, args)
        return await delete(admin, args)


def _require_topic(args: argparse.Namespace, action: str) -> str:
    if not args.topic:
        raise UsageError(f"--{action} needs --topic")
    return str(args.topic)


async def create(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    name = _require_topic(args, "create")
    if args.if_not_exists and any(
        t.name == name for t in await admin.topics(include_internal=True)
    ):
        return 0
    configs = parse_key_values(args.config, "--config")
    await admin.create_topic(name, args.partitions or -1, args.replication_factor or -1, configs)
    if args.output == "json":
        print_json({"created": name})
    else:
        print(f"Created topic {name}.")
    return 0


async def describe(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    topics = _matching(await admin.topics(include_internal=not args.exclude_internal), args.topic)
    if args.topic and not topics:
        raise UsageError(f"Topic '{args.topic}' does not exist as expected")
    only = (
        "under-replicated"
        if args.under_replicated_partitions
        else "unavailable"
        if args.unavailable_partitions
        else None
    )
    described = [
        (t, await admin.describe_configs(ConfigResourceType.TOPIC, t.name)) for t in topics
    ]
    if args.output == "json":
        print_json([topic_json(t, configs) for t, configs in described])
        return 0
    for topic, configs in described:
        for line in describe_lines(topic, configs, only):
            print(line)
    return 0


async def alter(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    name = _require_topic(args, "alter")
    existing = {t.name for t in await admin.topics(include_internal=True)}
    if name not in existing:
        if args.if_exists:
            return 0
        raise UsageError(f"Topic '{name}' does not exist as expected")
    configs = parse_key_values(args.config, "--config")
    if args.partitions is None and not configs and not args.delete_config:
        raise UsageError("--alter needs --partitions, --config or --delete-config")
    if args.partitions is not None:
        if args.output != "json":
            print(PARTITION_WARNING)
        await admin.create_partitions(name, args.partitions)
        if args.output != "json":
            print("Adding partitions succeeded!")
    if configs or args.delete_config:
        await admin.alter_configs(
            ConfigResourceType.TOPIC, name, set_=configs, delete=args.delete_config or ()
        )
        if args.output != "json":
            print(f"Completed updating config for topic {name}.")
    if args.output == "json":
        print_json(
            {
                "altered": name,
                "partitions": args.partitions,
                "configs": configs,
                "deleted_configs": args.delete_config or [],
            }
        )
    return 0


async def delete(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    pattern = _require_topic(args, "delete")
    topics = _matching(await admin.topics(include_internal=False), pattern)
    if not topics:
        if args.if_exists:
            return 0
        raise UsageError(f"Topic '{pattern}' does not exist as expected")
    for topic in topics:
        await admin.delete_topic(topic.name)
    if args.output == "json":
        print_json({"deleted": [t.name for t in topics]})
    return 0


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
