"""`kwb transactions`: kafka-transactions.sh (org.apache.kafka.tools.TransactionsCommand,
Kafka 4.1) — see and recover transactions.

    kwb transactions --bootstrap-server localhost:9092 list
    kwb transactions --bootstrap-server localhost:9092 describe --transactional-id payer
    kwb transactions --bootstrap-server localhost:9092 describe-producers --topic orders \\
        --partition 0
    kwb transactions --bootstrap-server localhost:9092 find-hanging --topic orders
    kwb transactions --bootstrap-server localhost:9092 abort --topic orders --partition 0 \\
        --start-offset 42

Commands, flags, tables (ToolsUtils.prettyPrintTable: each cell padded to its column and
followed by a tab) and failure lines (`...: <cause>. Enable debug logging for additional
detail.`) are TransactionsCommand's. `list` lists brokers in id order, where Kafka prints
them in hash order.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..kafka.admin import KafkaAdmin
from ..kafka.errors import KafkaToolError
from ..kafka.hanging_transactions import find_hanging
from ..kafka.transaction_admin import (
    AbortSpec,
    ProducerState,
    abort_transaction,
    describe_producers,
    describe_transaction,
    list_transactions,
)
from .common import KwbParser, connection_from, run_command

PROG = "kwb transactions"
EXIT_FAILURE = 1


class CommandFailed(Exception):
    """TransactionsCommand.printErrorAndExit: the line to print on stderr before exit 1."""


def failed(message: str, cause: KafkaToolError) -> CommandFailed:
    return CommandFailed(f"{message}: {cause.detail}. Enable debug logging for additional detail.")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """ToolsUtils.prettyPrintTable."""
    widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        print("".join(cell.ljust(width) + "\t" for cell, width in zip(row, widths, strict=True)))


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG,
        description="This tool is used to analyze the transactional state of producers in the"
        " cluster. It can be used to detect and recover from hanging transactions.",
    )
    p.add_argument(
        "--command-config",
        dest="client_config",
        type=Path,
        metavar="FILE",
        help="property file containing configs to be passed to admin client",
    )
    p.add_argument(
        "--bootstrap-server",
        metavar="host:port",
        required=True,
        help="hostname and port for the broker to connect to",
    )
    commands = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    commands.required = True
    listing = commands.add_parser("list", help="list transactions")
    listing.add_argument(
        "--duration-filter",
        type=int,
        default=-1,
        help="only transactions running longer than this many ms",
    )
    describe = commands.add_parser(
        "describe", help="describe the state of an active transactional-id"
    )
    describe.add_argument("--transactional-id", required=True, help="transactional id")
    producers = commands.add_parser(
        "describe-producers", help="describe the states of active producers for a topic partition"
    )
    producers.add_argument("--broker-id", type=int, help="describe the state on this replica")
    producers.add_argument("--topic", required=True, help="topic name")
    producers.add_argument("--partition", type=int, required=True, help="partition number")
    abort = commands.add_parser(
        "abort", help="abort a hanging transaction (requires administrative privileges)"
    )
    abort.add_argument("--topic", required=True, help="topic name")
    abort.add_argument("--partition", type=int, required=True, help="partition number")
    abort.add_argument("--start-offset", type=int, help="start offset of the transaction")
    abort.add_argument("--producer-id", type=int, help="producer id (brokers before 3.0)")
    abort.add_argument("--producer-epoch", type=int, help="producer epoch")
    abort.add_argument("--coordinator-epoch", type=int, help="coordinator epoch")
    hanging = commands.add_parser("find-hanging", help="find hanging transactions")
    hanging.add_argument("--broker-id", type=int, help="broker id to search")
    hanging.add_argument(
        "--max-transaction-timeout",
        type=int,
        default=15,
        help="maximum transaction timeout in minutes (15 by default)",
    )
    hanging.add_argument("--topic", help="topic name to limit search to")
    hanging.add_argument("--partition", type=int, help="partition number")
    return p


async def list_command(admin: KafkaAdmin, args: argparse.Namespace) -> None:
    try:
        listings = await list_transactions(admin, args.duration_filter)
    except KafkaToolError as exc:
        raise failed("Failed to list transactions", exc) from None
    print_table(
        ("TransactionalId", "Coordinator", "ProducerId", "TransactionState"),
        [(t.transactional_id, str(t.coordinator), str(t.producer_id), t.state) for t in listings],
    )


async def describe_command(admin: KafkaAdmin, args: argparse.Namespace) -> None:
    tid = args.transactional_id
    try:
        found = await describe_transaction(admin, tid)
    except KafkaToolError as exc:
        raise failed(
            f"Failed to describe transaction state of transactional-id `{tid}`", exc
        ) from None
    start = found.start_ms
    duration = "None" if start is None else str(int(time.time() * 1000) - start)
    print_table(
        (
            "CoordinatorId",
            "TransactionalId",
            "ProducerId",
            "ProducerEpoch",
            "TransactionState",
            "TransactionTimeoutMs",
            "CurrentTransactionStartTimeMs",
            "TransactionDurationMs",
            "TopicPartitions",
        ),
        [
            (
                str(found.coordinator),
                tid,
                str(found.producer_id),
                str(found.producer_epoch),
                found.state,
                str(found.timeout_ms),
                "None" if start is None else str(start),
                duration,
                ",".join(f"{t}-{p}" for t, p in found.partitions),
            )
        ],
    )


async def producers_of(
    admin: KafkaAdmin, topic: str, partition: int, broker: int | None = None
) -> list[ProducerState]:
    where = "leader" if broker is None else f"broker {broker}"
    try:
        found = await describe_producers(admin, [(topic, partition)], broker)
    except KafkaToolError as exc:
        raise failed(
            f"Failed to describe producers for partition {topic}-{partition} on {where}", exc
        ) from None
    return found.get((topic, partition), [])


async def describe_producers_command(admin: KafkaAdmin, args: argparse.Namespace) -> None:
    states = await producers_of(admin, args.topic, args.partition, args.broker_id)
    print_table(
        (
            "ProducerId",
            "ProducerEpoch",
            "LatestCoordinatorEpoch",
            "LastSequence",
            "LastTimestamp",
            "CurrentTransactionStartOffset",
        ),
        [
            (
                str(s.producer_id),
                str(s.producer_epoch),
                str(s.coordinator_epoch),
                str(s.last_sequence),
                str(s.last_timestamp),
                "None" if s.transaction_start is None else str(s.transaction_start),
            )
            for s in states
        ],
    )


async def abort_spec(admin: KafkaAdmin, args: argparse.Namespace) -> AbortSpec:
    """The marker to write, from the flags or (--start-offset) the producer whose open
    transaction starts there."""
    where = (args.topic, args.partition)
    if args.start_offset is None and args.producer_id is None:
        raise CommandFailed(
            "The transaction to abort must be identified either with --start-offset (for"
            " brokers on 3.0 or above) or with --producer-id, --producer-epoch, and"
            " --coordinator-epoch (for older brokers)"
        )
    if args.start_offset is None:
        if args.producer_epoch is None:
            raise CommandFailed("Missing required argument --producer-epoch")
        if args.coordinator_epoch is None:
            raise CommandFailed("Missing required argument --coordinator-epoch")
        epoch = max(args.coordinator_epoch, 0)  # -1: no marker yet; 0 is safe (Kafka's note)
        return AbortSpec(where, args.producer_id, args.producer_epoch, epoch)
    try:
        states = (await describe_producers(admin, [where]))[where]
    except KafkaToolError as exc:
        raise failed(
            f"Failed to validate producer state for partition {args.topic}-{args.partition}", exc
        ) from None
    for state in states:
        if state.transaction_start == args.start_offset:
            epoch = max(state.coordinator_epoch, 0)
            return AbortSpec(where, state.producer_id, state.producer_epoch, epoch)
    raise CommandFailed(
        f"Could not find any open transactions starting at offset {args.start_offset}"
        f" on partition {args.topic}-{args.partition}"
    )


async def abort_command(admin: KafkaAdmin, args: argparse.Namespace) -> None:
    spec = await abort_spec(admin, args)
    try:
        await abort_transaction(admin, spec)
    except KafkaToolError as exc:
        raise failed(f"Failed to abort transaction {spec}", exc) from None


async def find_hanging_command(admin: KafkaAdmin, args: argparse.Namespace) -> None:
    if args.topic is None and args.broker_id is None:
        raise CommandFailed(
            "The `find-hanging` command requires either --topic or --broker-id to limit the"
            " scope of the search"
        )
    if args.partition is not None and args.topic is None:
        raise CommandFailed("The --partition argument requires --topic to be provided")
    try:
        found = await find_hanging(
            admin, args.topic, args.partition, args.broker_id, args.max_transaction_timeout
        )
    except KafkaToolError as exc:
        raise failed("Failed to find hanging transactions", exc) from None
    now = int(time.time() * 1000)
    rows = [
        (
            topic,
            str(partition),
            str(s.producer_id),
            str(s.producer_epoch),
            str(s.coordinator_epoch),
            str(s.transaction_start),
            str(s.last_timestamp),
            str((now - s.last_timestamp) // 60_000),
        )
        for (topic, partition), s in found
    ]
    print_table(
        (
            "Topic",
            "Partition",
            "ProducerId",
            "ProducerEpoch",
            "CoordinatorEpoch",
            "StartOffset",
            "LastTimestamp",
            "Duration(min)",
        ),
        rows,
    )


COMMANDS = {
    "list": list_command,
    "describe": describe_command,
    "describe-producers": describe_producers_command,
    "abort": abort_command,
    "find-hanging": find_hanging_command,
}


async def execute(args: argparse.Namespace) -> int:
    async with KafkaAdmin(connection_from(args)) as admin:
        try:
            await COMMANDS[args.command](admin, args)
        except CommandFailed as exc:
            sys.stderr.write(f"{exc}\n")
            return EXIT_FAILURE
    return 0


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
