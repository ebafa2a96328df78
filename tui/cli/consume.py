"""`kwb consume`: kafka-console-consumer.sh — print records to standard output.

Options, defaults and checks are ConsoleConsumerOptions': without --group a throw-away
`console-consumer-NNNNN` group that commits nothing; with --group Kafka's auto commit, so a
second run continues where the first stopped; --partition/--offset read one partition
without a group. Records are printed by a port of DefaultMessageFormatter (print.key,
print.timestamp, print.partition, print.offset, print.headers, separators, null.literal; see
message_formatter.py). With --schema-registry URL (or Confluent's formatters:
`--formatter io.confluent.kafka.formatter.AvroMessageFormatter --property
schema.registry.url=URL`), keys and values are decoded as kafka-avro-console-consumer prints
them (schema_console.py), print.schema.ids and schema.id.separator included.
At the end, however it comes (--max-messages, --timeout-ms, Ctrl-C, an error), the consumer
commits, leaves its group and "Processed a total of N messages" goes to stderr, as in Kafka
(which first logs a TimeoutException as an error when --timeout-ms runs out; kwb too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError as AIOKafkaError

from localbroker.public import ListOffsetsTimestamp

from ..kafka.admin import KafkaAdmin
from ..kafka.clients import consumer_args, new_consumer, partitions_for, start
from ..kafka.connection import Connection, read_properties
from ..kafka.errors import KafkaToolError
from ..kafka.schema_registry.reader import SchemaReader
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    error,
    parse_key_values,
    print_json,
    run_command,
)
from .interrupts import Interrupted, Interrupts
from .message_formatter import DefaultMessageFormatter, FormatError, record_json
from .schema_console import FORMATTERS as SCHEMA_FORMATTERS
from .schema_console import SchemaMessageFormatter, settings_from

PROG = "kwb consume"
FORMATTERS = (
    "org.apache.kafka.tools.consumer.DefaultMessageFormatter",
    "kafka.tools.DefaultMessageFormatter",
)
_POLL_MS = 1000
TERMINATING = "Error processing message, terminating consumer process: "
TIMED_OUT = "org.apache.kafka.common.errors.TimeoutException: null"
CLOSE_TIMEOUT_S = 30


# -- options -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """ConsoleConsumerOptions after its checks: what to read, how far, and as which group."""

    topic: str | None
    include: str | None
    partition: int | None
    offset: int
    group_id: str
    props: dict[str, str]
    max_messages: int | None
    timeout_ms: int | None


def parse_offset(text: str) -> int:
    lowered = text.lower()
    if lowered in ("earliest", "latest"):
        return (
            ListOffsetsTimestamp.EARLIEST if lowered == "earliest" else ListOffsetsTimestamp.LATEST
        )
    try:
        offset = int(text)
    except ValueError:
        offset = -1
    if offset < 0:
        raise UsageError(
            f"The provided offset value '{text}' is incorrect. Valid values are 'earliest',"
            " 'latest', or a non-negative long."
        )
    return offset


def options_from(args: argparse.Namespace) -> ConsumerOptions:
    """Kafka's checks, in Kafka's order and words."""
    if (args.topic is None) == (args.include is None):
        raise UsageError("Exactly one of --include/--topic is required.")
    if args.partition is not None:
        if args.topic is None:
            raise UsageError("The topic is required when partition is specified.")
        if args.from_beginning and args.offset is not None:
            raise UsageError("Options from-beginning and offset cannot be specified together.")
    elif args.offset is not None:
        raise UsageError("The partition is required when offset is specified.")
    from_file = read_properties(args.client_config)
    extra = parse_key_values(args.consumer_property, "--consumer-property", literal=True)
    groups = {
        g for g in (args.group, from_file.get("group.id"), extra.get("group.id")) if g is not None
    }
    if len(groups) > 1:
        raise UsageError(
            "The group ids provided in different places (directly using '--group', via"
            " '--consumer-property', or via '--consumer.config') do not match. Detected group"
            f" ids: {', '.join(repr(g) for g in sorted(groups))}"
        )
    if groups and args.partition is not None:
        raise UsageError("Options group and partition cannot be specified together.")
    props = {**from_file, **extra}
    reset = props.get("auto.offset.reset")
    if reset is None:
        props["auto.offset.reset"] = "earliest" if args.from_beginning else "latest"
    elif args.from_beginning and reset != "earliest":
        raise UsageError(
            f"Can't simultaneously specify --from-beginning and 'auto.offset.reset={reset}',"
            " please remove one option"
        )
    props.setdefault("client.id", "console-consumer")
    if args.isolation_level is not None or "isolation.level" not in props:
        props["isolation.level"] = args.isolation_level or "read_uncommitted"
    if groups:
        group_id = groups.pop()
    else:
        group_id = f"console-consumer-{random.randrange(100000)}"
        props.setdefault("enable.auto.commit", "false")  # a throw-away group keeps nothing
    props["group.id"] = group_id
    if args.offset is not None:
        offset = parse_offset(args.offset)
    else:
        offset = (
            ListOffsetsTimestamp.EARLIEST if args.from_beginning else ListOffsetsTimestamp.LATEST
        )
    timeout = args.timeout_ms if args.timeout_ms is not None and args.timeout_ms >= 0 else None
    return ConsumerOptions(
        args.topic,
        args.include,
        args.partition,
        offset,
        group_id,
        props,
        args.max_messages if args.max_messages is not None and args.max_messages >= 0 else None,
        timeout,
    )


def formatter_from(args: argparse.Namespace) -> DefaultMessageFormatter:
    """Kafka's DefaultMessageFormatter, or Confluent's SchemaMessageFormatter with a
    registry (--schema-registry, or one of Confluent's formatter classes)."""
    schema_formatter = args.formatter in SCHEMA_FORMATTERS or args.schema_registry is not None
    if args.formatter is not None and args.formatter not in FORMATTERS and not schema_formatter:
        raise UsageError(
            f"--formatter {args.formatter} is not available; kwb has only {FORMATTERS[0]}"
            f" and Confluent's {', '.join(SCHEMA_FORMATTERS)}"
        )
    props = read_properties(args.formatter_config)
    if args.key_deserializer:
        props["key.deserializer"] = args.key_deserializer
    if args.value_deserializer:
        props["value.deserializer"] = args.value_deserializer
    props.update(parse_key_values(args.property, "--property", literal=True))
    if schema_formatter:
        reader = SchemaReader(settings_from(args.schema_registry, props), console=True)
        return SchemaMessageFormatter(props, reader)
    return DefaultMessageFormatter(props)


# -- the command ---------------------------------------------------------------------------


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG,
        description="Read records from Kafka and print them to standard output"
        " (like kafka-console-consumer.sh).",
    )
    p.add_argument("--topic", help="the topic to consume")
    p.add_argument("--include", metavar="REGEX", help="consume every topic this regex matches")
    p.add_argument("--partition", type=int, help="read this partition only (with --topic)")
    p.add_argument(
        "--offset",
        help="where --partition starts: earliest, latest (the default) or an offset",
    )
    p.add_argument("--group", help="the consumer group (offsets are committed)")
    p.add_argument(
        "--from-beginning",
        action="store_true",
        help="without a committed offset start at the earliest record, not the latest",
    )
    p.add_argument("--max-messages", type=int, help="exit after this many records")
    p.add_argument("--timeout-ms", type=int, help="exit when no record arrived for this many ms")
    p.add_argument(
        "--isolation-level",
        help="read_committed or read_uncommitted (the default)",
    )
    p.add_argument(
        "--skip-message-on-error",
        action="store_true",
        help="skip a record that cannot be printed instead of stopping",
    )
    p.add_argument(
        "--formatter",
        metavar="CLASS",
        help="Kafka's DefaultMessageFormatter, or Confluent's AvroMessageFormatter,"
        " protobuf.ProtobufMessageFormatter, json.JsonSchemaMessageFormatter",
    )
    p.add_argument(
        "--schema-registry",
        metavar="URL",
        help="decode Confluent-framed keys and values through this Schema Registry, as"
        " kafka-avro-console-consumer does (schema.registry.url)",
    )
    p.add_argument(
        "--property",
        action="append",
        metavar="KEY=VALUE",
        help="formatter settings: print.key, print.value, print.timestamp, print.partition,"
        " print.offset, print.headers, print.delivery, print.epoch, key.separator,"
        " line.separator, headers.separator, null.literal, key/value/headers.deserializer;"
        " with a registry print.schema.ids, schema.id.separator, basic.auth.user.info,"
        " basic.auth.credentials.source",
    )
    p.add_argument("--formatter-config", type=Path, metavar="FILE", help="formatter properties")
    p.add_argument("--key-deserializer", metavar="CLASS", help="deserializer for keys")
    p.add_argument("--value-deserializer", metavar="CLASS", help="deserializer for values")
    p.add_argument(
        "--consumer-property",
        action="append",
        metavar="KEY=VALUE",
        help="a consumer property (auto.offset.reset, enable.auto.commit, ...); repeatable",
    )
    add_connection_options(p, "--consumer.config")
    return p


class ConsoleConsumer:
    """Polls, prints and counts; the count survives whatever ends the loop."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        formatter: DefaultMessageFormatter,
        options: ConsumerOptions,
        skip_on_error: bool,
        out: BinaryIO | None,
    ) -> None:
        self.consumer = consumer
        self.formatter = formatter
        self.options = options
        self.skip_on_error = skip_on_error
        self.out = out
        self.count = 0
        self.collected: list[dict[str, Any]] = []

    def _remaining(self) -> int | None:
        if self.options.max_messages is None:
            return None
        return self.options.max_messages - self.count

    async def seek(self) -> None:
        assert self.options.topic is not None and self.options.partition is not None
        tp = TopicPartition(self.options.topic, self.options.partition)
        if self.options.offset == ListOffsetsTimestamp.EARLIEST:
            await self.consumer.seek_to_beginning(tp)
        elif self.options.offset == ListOffsetsTimestamp.LATEST:
            await self.consumer.seek_to_end(tp)
        else:
            self.consumer.seek(tp, self.options.offset)

    async def loop(self, interrupts: Interrupts) -> None:
        timeout = self.options.timeout_ms
        deadline = None if timeout is None else time.monotonic() + timeout / 1000
        while (remaining := self._remaining()) is None or remaining > 0:
            wait_ms = (
                _POLL_MS if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            )
            fetched = await interrupts.race(
                self.consumer.getmany(timeout_ms=wait_ms, max_records=remaining)
            )
            records = [r for batch in fetched.values() for r in batch]
            if records and isinstance(self.formatter, SchemaMessageFormatter):
                await self.formatter.reader.learn(
                    data for r in records for data in (r.key, r.value)
                )
            if records:
                self.write(records)
                if timeout is not None:
                    deadline = time.monotonic() + timeout / 1000
            elif deadline is not None and time.monotonic() >= deadline:
                # how Kafka's tool ends on --timeout-ms: it logs the consumer's TimeoutException
                sys.stderr.write(f"ERROR {TERMINATING}\n{TIMED_OUT}\n")
                return

    def write(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        lines = []
        for record in records:
            self.count += 1
            if self.out is None:
                self.collected.append(record_json(record))
                continue
            try:
                lines.append(self.formatter.format(record))
            except FormatError as exc:
                if not self.skip_on_error:
                    self._emit(lines)
                    raise KafkaToolError(f"Error processing message: {exc}") from None
                sys.stderr.write(f"Error processing message, skipping this message: {exc}\n")
        self._emit(lines)

    def _emit(self, lines: list[bytes]) -> None:
        if self.out is not None and lines:
            self.out.write(b"".join(lines))
            self.out.flush()


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


async def execute(args: argparse.Namespace) -> int:
    interrupts = Interrupts()  # first: a Ctrl-C while connecting still ends cleanly
    interrupts.install()
    options = options_from(args)
    formatter = formatter_from(args)
    connection = connection_from(args, options.props)
    kwargs, _ = consumer_args(connection, options.props)  # the console consumer ignores the others
    if options.partition is not None:
        kwargs["group_id"] = None  # one partition, read without a group
    include = None
    if options.include is not None:
        try:
            include = re.compile(f"(?:{options.include})\\Z")
        except re.error as exc:
            raise UsageError(f"--include {options.include}: {exc}") from None
    async with KafkaAdmin(connection) as admin:  # fails fast on an unreachable cluster
        if options.topic is not None:
            partitions = await partitions_for(admin, options.topic, explain_missing=True)
            if options.partition is not None and options.partition not in (
                partitions or [options.partition]
            ):
                raise KafkaToolError(f"topic {options.topic} has no partition {options.partition}")
    consumer = new_consumer(kwargs)
    if options.partition is not None:
        consumer.assign([TopicPartition(str(options.topic), options.partition)])
    elif options.topic is not None:
        consumer.subscribe([options.topic])
    elif include is not None:
        consumer.subscribe(pattern=include.pattern)
    out = None if args.output == "json" else sys.stdout.buffer
    console = ConsoleConsumer(consumer, formatter, options, args.skip_message_on_error, out)
    return await consume(console, connection, interrupts, args.output == "json")


async def consume(
    console: ConsoleConsumer, connection: Connection, interrupts: Interrupts, as_json: bool
) -> int:
    """Start, loop, and always close (commit, LeaveGroup) and report the total."""
    consumer = console.consumer
    with contextlib.suppress(Interrupted):  # a signal while starting still closes cleanly
        await interrupts.race(start(consumer, connection))
    code = 0
    try:
        if interrupts.signum is None:
            if console.options.partition is not None:
                await console.seek()
            await console.loop(interrupts)
    except Interrupted:
        pass
    except BrokenPipeError:
        _silence_stdout()
        sys.stderr.write("Unable to write to standard out, closing consumer.\n")
    except (AIOKafkaError, KafkaToolError) as exc:  # aiokafka's errors name themselves
        error(PROG, exc)
        code = 1
    finally:
        try:
            # Kafka's close() gives up after 30 s too (a cluster gone takes no commit)
            await asyncio.wait_for(consumer.stop(), CLOSE_TIMEOUT_S)
        except TimeoutError:
            error(PROG, "could not commit and leave the group in time")
            code = 1
        finally:
            if isinstance(console.formatter, SchemaMessageFormatter):
                await console.formatter.reader.close()
            if as_json:
                print_json({"processed": console.count, "records": console.collected})
            sys.stderr.write(f"Processed a total of {console.count} messages\n")
    return interrupts.exit_code or code


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
