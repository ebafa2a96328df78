"""`kwb configs`: kafka-configs.sh — describe and alter topic and broker configs.

The output is Kafka 4.0's ConfigCommand, line for line: `Dynamic configs for topic t are:`
(or `All configs ...` with --all) and one `  name=value sensitive=false synonyms={...}` line
per config, sorted by name; `Completed updating config for topic t.` after --alter. Entity
types other than topics, brokers and users' SCRAM credentials (configs_users.py) are not
supported.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from pathlib import Path
from typing import Any

from localbroker.public import ConfigResourceType, ConfigSource

from ..kafka.admin import KafkaAdmin
from ..kafka.connection import read_properties
from ..kafka.errors import KafkaToolError
from ..kafka.models import ConfigInfo
from . import configs_users
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    print_json,
    run_command,
)

PROG = "kwb configs"
TOPICS, BROKERS, USERS = "topics", "brokers", "users"
KAFKA_ENTITY_TYPES = (
    TOPICS,
    "clients",
    USERS,
    BROKERS,
    "ips",
    "client-metrics",
    "groups",
    "broker-loggers",
)
RESOURCE_TYPES = {TOPICS: ConfigResourceType.TOPIC, BROKERS: ConfigResourceType.BROKER}
BROKER_DEFAULT = ""
# The config source that --describe (without --all) shows, per entity.
DYNAMIC_SOURCE = {
    TOPICS: ConfigSource.DYNAMIC_TOPIC_CONFIG,
    BROKERS: ConfigSource.DYNAMIC_BROKER_CONFIG,
}
# Kafka splits --add-config on commas and `=` outside square brackets.
_OUTSIDE_BRACKETS = r"(?=[^\]]*(?:\[|$))"
_CONFIG_KEY = re.compile(r"[a-zA-Z0-9._-]*")


def parser() -> KwbParser:
    p = KwbParser(prog=PROG, description="Describe and alter topic and broker configs.")
    actions = p.add_mutually_exclusive_group(required=True)
    actions.add_argument("--describe", action="store_true", help="list configs of the entity")
    actions.add_argument("--alter", action="store_true", help="alter configs of the entity")
    p.add_argument("--all", action="store_true", help="--describe every config, not only dynamic")
    p.add_argument(
        "--entity-type", action="append", metavar="TYPE", help="topics, brokers or users"
    )
    p.add_argument(
        "--entity-name", action="append", metavar="NAME", help="topic, broker id or user"
    )
    p.add_argument(
        "--entity-default", action="store_true", help="the cluster-wide default (brokers)"
    )
    p.add_argument(
        "--add-config",
        metavar="K=V,...",
        help="configs to set: 'k1=v1,k2=[v1,v2],k3=v3' (brackets group values with commas)",
    )
    p.add_argument("--add-config-file", type=Path, metavar="FILE", help="configs to set")
    p.add_argument(
        "--delete-config",
        action="append",
        metavar="K1,K2",
        help="config overrides to remove; repeatable",
    )
    p.add_argument("--topic", help="shorthand for --entity-type topics --entity-name TOPIC")
    p.add_argument("--broker", help="shorthand for --entity-type brokers --entity-name ID")
    p.add_argument("--user", help="shorthand for --entity-type users --entity-name USER")
    p.add_argument(
        "--broker-defaults",
        action="store_true",
        help="shorthand for --entity-type brokers --entity-default",
    )
    p.add_argument("--force", action="store_true", help="accepted for compatibility")
    add_connection_options(p, "--command-config")
    return p


def entity(args: argparse.Namespace) -> tuple[str, str | None]:
    """The entity type and name (None: every entity of the type), checked as Kafka checks."""
    shorthands = [
        (flag, kind, value)
        for flag, kind, value in (
            ("--topic", TOPICS, args.topic),
            ("--broker", BROKERS, args.broker),
            ("--user", USERS, args.user),
            ("--broker-defaults", BROKERS, BROKER_DEFAULT if args.broker_defaults else None),
        )
        if value is not None
    ]
    generic = args.entity_type or args.entity_name or args.entity_default
    types = list(args.entity_type or []) + [kind for _, kind, _ in shorthands]
    if len(types) != len(set(types)):
        duplicates = sorted({t for t in types if types.count(t) > 1})
        raise UsageError(f"Duplicate entity type(s) specified: {','.join(duplicates)}")
    if not types:
        raise UsageError("At least one entity type must be specified")
    for kind in types:
        if kind not in KAFKA_ENTITY_TYPES:
            raise UsageError(
                f"Invalid entity type {kind}, the entity type must be one of"
                f" {', '.join(KAFKA_ENTITY_TYPES)} with a --bootstrap-server argument"
            )
        if kind not in RESOURCE_TYPES and kind != USERS:
            raise UsageError(f"kwb configs supports topics, brokers and users, not {kind}")
    if len(types) > 1:
        raise UsageError("Only 'users' and 'clients' entity types may be specified together")
    if generic and shorthands:
        raise UsageError(
            "--entity-{type,name,default} should not be used in conjunction with specific"
            " entity flags"
        )
    (kind,) = types
    names = [value for _, _, value in shorthands] or list(args.entity_name or [])
    if args.entity_default:
        names.append(BROKER_DEFAULT)
    if len(names) > 1:
        raise UsageError("An entity name must be specified only once")
    name = names[0] if names else None
    if kind == BROKERS and name:
        try:
            int(name)
        except ValueError:
            raise UsageError(
                f"The entity name for brokers must be a valid integer broker id, but it is: {name}"
            ) from None
    if kind == TOPICS and name == BROKER_DEFAULT:
        action = "--describe" if args.describe else "--alter"
        raise UsageError(f"--entity-default must not be specified with {action} of topics")
    return kind, name


def parse_add_config(text: str) -> dict[str, str]:
    """Kafka's --add-config: `k1=v1,k2=[v1,v2]` (brackets are removed from values)."""
    pairs = re.split("," + _OUTSIDE_BRACKETS, text)
    while pairs and pairs[-1] == "":  # Java's split drops trailing empty strings
        pairs.pop()
    configs: dict[str, str] = {}
    for pair in pairs:
        parts = re.split(r"\s*=\s*" + _OUTSIDE_BRACKETS, pair)
        if len(parts) != 2:
            raise UsageError(
                'Invalid entity config: all configs to be added must be in the format "key=val"'
                ' or  "key=[val1,val2]" to group values which contain commas.'
            )
        configs[parts[0].strip()] = re.sub(r"[\[\]]", "", parts[1]).strip()
    return configs


def configs_to_add(args: argparse.Namespace) -> dict[str, str]:
    configs = read_properties(args.add_config_file)
    if args.add_config is not None:
        configs.update(parse_add_config(args.add_config))
    for key in configs:
        if not _CONFIG_KEY.fullmatch(key):
            raise UsageError(f"Invalid character found for config key: {key}")
    return configs


def configs_to_delete(args: argparse.Namespace) -> list[str]:
    return [key.strip() for item in args.delete_config or () for key in item.split(",")]


def dynamic_source(kind: str, name: str) -> ConfigSource:
    if kind == BROKERS and not name:
        return ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
    return DYNAMIC_SOURCE[kind]


def null(value: str | None) -> str:
    """Kafka prints a missing (sensitive) value as Java prints null."""
    return "null" if value is None else value


def config_line(config: ConfigInfo) -> str:
    synonyms = ", ".join(
        f"{source.name}:{name}={null(value)}" for name, value, source in config.synonyms
    )
    return (
        f"  {config.name}={null(config.value)} sensitive={str(config.sensitive).lower()}"
        f" synonyms={{{synonyms}}}"
    )


def config_json(config: ConfigInfo) -> dict[str, Any]:
    return {
        "name": config.name,
        "value": config.value,
        "source": config.source.name,
        "sensitive": config.sensitive,
        "read_only": config.read_only,
        "synonyms": [
            {"name": name, "value": value, "source": source.name}
            for name, value, source in config.synonyms
        ],
    }


async def entity_names(admin: KafkaAdmin, kind: str) -> list[str]:
    """Every topic (internal ones too), or every broker then the cluster default."""
    if kind == TOPICS:
        return [t.name for t in await admin.topics(include_internal=True)]
    brokers = sorted(b.node_id for b in (await admin.cluster()).brokers)
    return [str(b) for b in brokers] + [BROKER_DEFAULT]


async def resource_configs(
    admin: KafkaAdmin, kind: str, name: str, *, everything: bool, synonyms: bool = True
) -> list[ConfigInfo]:
    configs = await admin.describe_configs(RESOURCE_TYPES[kind], name, include_synonyms=synonyms)
    if everything:
        return configs
    return [c for c in configs if c.source == dynamic_source(kind, name)]


def heading(kind: str, name: str, everything: bool) -> str:
    if kind == BROKERS and name == BROKER_DEFAULT:
        return f"Default configs for {kind} in the cluster are:"
    return f"{'All' if everything else 'Dynamic'} configs for {kind[:-1]} {name} are:"


async def describe(admin: KafkaAdmin, args: argparse.Namespace, kind: str, name: str | None) -> int:
    if args.add_config is not None or args.delete_config or args.add_config_file is not None:
        raise UsageError("--describe cannot be used with --add-config or --delete-config")
    if name and not args.all and name not in await entity_names(admin, kind):
        print(f"The {kind[:-1]} '{name}' doesn't exist and doesn't have dynamic config.")
        return 0
    names = [name] if name is not None else await entity_names(admin, kind)
    documents = []
    for entity_name in names:
        configs = await resource_configs(admin, kind, entity_name, everything=args.all)
        if args.output == "json":
            documents.append(
                {
                    "entity_type": kind,
                    "entity_name": entity_name or None,
                    "configs": [config_json(c) for c in configs],
                }
            )
            continue
        print(heading(kind, entity_name, args.all))
        for config in configs:
            print(config_line(config))
    if args.output == "json":
        print_json(documents)
    return 0


async def alter(admin: KafkaAdmin, args: argparse.Namespace, kind: str, name: str | None) -> int:
    if name is None:
        if kind == BROKERS:
            raise UsageError(
                "An entity-name or default entity must be specified with --alter of users,"
                " clients, brokers or ips"
            )
        raise UsageError(f"An entity name must be specified with --alter of {kind}")
    if args.add_config is not None and args.add_config_file is not None:
        raise UsageError("Only one of --add-config or --add-config-file must be specified")
    if args.add_config is None and args.add_config_file is None and not args.delete_config:
        raise UsageError(
            "At least one of --add-config, --add-config-file, or --delete-config must be"
            " specified with --alter"
        )
    adds, deletes = configs_to_add(args), configs_to_delete(args)
    current = {
        c.name for c in await resource_configs(admin, kind, name, everything=False, synonyms=False)
    }
    missing = [key for key in deletes if key not in current]
    if missing:
        raise UsageError(f"Invalid config(s): {','.join(missing)}")
    await admin.alter_configs(RESOURCE_TYPES[kind], name, set_=adds, delete=deletes)
    if args.output == "json":
        print_json(
            {
                "entity_type": kind,
                "entity_name": name or None,
                "added": adds,
                "deleted": deletes,
            }
        )
    elif name:
        print(f"Completed updating config for {kind[:-1]} {name}.")
    else:
        print(f"Completed updating default config for {kind} in the cluster.")
    return 0


async def execute(args: argparse.Namespace) -> int:
    kind, name = entity(args)
    async with KafkaAdmin(connection_from(args)) as admin:
        if kind == USERS:
            return await users(admin, args, name)
        if args.describe:
            return await describe(admin, args, kind, name)
        return await alter(admin, args, kind, name)


async def users(admin: KafkaAdmin, args: argparse.Namespace, name: str | None) -> int:
    if args.describe:
        if args.add_config is not None or args.delete_config or args.add_config_file:
            raise UsageError("--describe cannot be used with --add-config or --delete-config")
        return await configs_users.describe(admin, args, name)
    if name is None:
        raise UsageError(
            "An entity-name or default entity must be specified with --alter of users,"
            " clients, brokers or ips"
        )
    return await configs_users.alter(
        admin, args, name, configs_to_add(args), configs_to_delete(args)
    )


def report_failure(argv: list[str], exc: Exception) -> None:
    """As ConfigCommand.main reports a failure: a refused argument or config by its message
    alone; a request the cluster refused by the command line and the exception (kwb prints
    its message, Kafka its stack trace)."""
    if isinstance(exc, KafkaToolError) and exc.code is not None:
        sys.stderr.write(f"Error while executing config command with args '{' '.join(argv)}'\n")
        sys.stderr.write(f"{exc.detail}\n")
    else:
        sys.stderr.write(f"{exc}\n")


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv, functools.partial(report_failure, argv))
