"""`kwb topics`: kafka-topics.sh — create, list, describe, alter and delete topics.

It prints what Kafka 4.1's TopicCommand prints, failures included: `Error while executing
topic command : <message>` on stdout and exit status 1 (Kafka's tool logs the exception as an
ERROR with its stack trace on stderr; kwb logs `ERROR <message>`). One addition: `--alter
--config` sets topic configs, as the primer expects, where Kafka 4 refers to kafka-configs.sh.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kio.schema.errors import ErrorCode

from localbroker.public import ConfigResourceType, ConfigSource

from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError
from ..kafka.models import ConfigInfo, TopicInfo
from ..kafka.topic_descriptions import describe_topics
from .common import (
    EXIT_FAILURE,
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    parse_key_values,
    print_json,
    run_command,
)
from .java_order import hash_map_order

PROG = "kwb topics"
FAILED = "Error while executing topic command : "
COLLISION_WARNING = (
    "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_')"
    " could collide. To avoid issues it is best to use either, but not both."
)
MAX_REPLICATION_FACTOR = 32767


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


def non_defaults(configs: list[ConfigInfo]) -> str:
    """The `Configs:` of a description: every config not at its default, in the order Kafka's
    tool iterates them (the admin client's HashMap, filled in the broker's order)."""
    by_name = {c.name: c for c in configs}
    shown = [by_name[name] for name in hash_map_order(list(by_name))]
    return ",".join(f"{c.name}={c.value}" for c in shown if not c.is_default)


def replicas(nodes: tuple[int, ...] | None) -> str:
    return "N/A" if nodes is None else ",".join(map(str, nodes))


def describe_lines(topic: TopicInfo, configs: list[ConfigInfo], only: str | None) -> list[str]:
    lines = []
    if only is None:
        topic_id = f"\tTopicId: {topic.topic_id}" if topic.topic_id else ""
        lines.append(
            f"Topic: {topic.name}{topic_id}\tPartitionCount: {len(topic.partitions)}\t"
            f"ReplicationFactor: {topic.replication_factor}\tConfigs: {non_defaults(configs)}"
        )
    for p in topic.partitions:
        if only == "under-replicated" and len(p.isr) >= p.replication_factor:
            continue
        if only == "unavailable" and p.leader >= 0:
            continue
        moving = p.reassignment
        lines.append(
            f"\tTopic: {topic.name}\tPartition: {p.partition}\tLeader: "
            f"{p.leader if p.leader >= 0 else 'none'}\t"
            f"Replicas: {replicas(p.replicas)}\tIsr: {replicas(p.isr)}\t"
            + (
                ""
                if moving is None
                else f"Adding Replicas: {replicas(moving.adding)}\t"
                f"Removing Replicas: {replicas(moving.removing)}\t"
            )
            + f"Elr: {replicas(p.elr)}\tLastKnownElr: {replicas(p.last_known_elr)}"
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
        try:
            if args.create:
                return await create(admin, args)
            if args.list:
                return await list_topics(admin, args)
            if args.describe:
                return await describe(admin, args)
            if args.alter:
                return await alter(admin, args)
            return await delete(admin, args)
        except KafkaToolError as exc:
            if args.output == "json":
                raise
            print(FAILED + exc.detail)
            sys.stdout.flush()
            sys.stderr.write(f"ERROR {exc.detail}\n")  # where Kafka's tool logs the stack trace
            return EXIT_FAILURE


async def list_topics(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    topics = await admin.topics(include_internal=not args.exclude_internal)
    names = [t.name for t in _matching(topics, args.topic)]
    if args.output == "json":
        print_json(names)
    else:
        print("\n".join(names))  # an empty line when there are none, as in Kafka
    return 0


def absent(topic: str) -> KafkaToolError:
    """Kafka's verdict on a --topic that matches no topic (without --if-exists)."""
    return KafkaToolError(f"Topic '{topic}' does not exist as expected")


def _require_topic(args: argparse.Namespace, action: str) -> str:
    if not args.topic:
        raise UsageError(f"--{action} needs --topic")
    return str(args.topic)


async def create(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    name = _require_topic(args, "create")
    if args.output != "json" and ("." in name or "_" in name):
        print(COLLISION_WARNING)
    rf = args.replication_factor
    if rf is not None and not 1 <= rf <= MAX_REPLICATION_FACTOR:
        raise KafkaToolError(
            f"The replication factor must be between 1 and {MAX_REPLICATION_FACTOR} inclusive"
        )
    if args.partitions is not None and args.partitions < 1:
        raise KafkaToolError("The partitions must be greater than 0")
    configs = parse_key_values(args.config, "--config")
    try:
        await admin.create_topic(name, args.partitions or -1, rf or -1, configs)
    except KafkaToolError as exc:
        if args.if_not_exists and exc.code == ErrorCode.topic_already_exists:
            return 0
        raise
    if args.output == "json":
        print_json({"created": name})
    else:
        print(f"Created topic {name}.")
    return 0


async def describe(admin: KafkaAdmin, args: argparse.Namespace) -> int:
    listed = await admin.topics(include_internal=not args.exclude_internal)
    names = [t.name for t in _matching(listed, args.topic)]
    if args.topic and not names:
        if args.if_exists:
            return 0
        raise absent(args.topic)
    only = (
        "under-replicated"
        if args.under_replicated_partitions
        else "unavailable"
        if args.unavailable_partitions
        else None
    )
    described = [
        (t, await admin.describe_configs(ConfigResourceType.TOPIC, t.name, in_broker_order=True))
        for t in await describe_topics(admin, names)
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
        raise absent(name)
    configs = parse_key_values(args.config, "--config")
    if args.partitions is None and not configs and not args.delete_config:
        raise UsageError("--alter needs --partitions, --config or --delete-config")
    if args.partitions is not None:
        await admin.create_partitions(name, args.partitions)
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
        raise absent(pattern)
    for topic in topics:
        await admin.delete_topic(topic.name)
    if args.output == "json":
        print_json({"deleted": [t.name for t in topics]})
    return 0


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
