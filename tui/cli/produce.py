"""`kwb produce`: kafka-console-producer.sh — every line of standard input becomes a record.

Lines end where Java's BufferedReader ends them (tui/kafka/lines.py) and are parsed exactly
as Kafka's LineMessageReader parses them (parse.key, parse.headers, their separators,
ignore.error, null.marker; see line_reader.py), and the producer is
configured the way ConsoleProducer configures it (with --schema-registry URL, or Confluent's
`--line-reader io.confluent.kafka.formatter.AvroMessageReader --property schema.registry.url=`,
each line's key and value are JSON encoded as kafka-avro-console-producer encodes them:
schema_console.py): acks=-1, linger.ms=1000, batch.size=16384,
client.id console-producer, a flag given explicitly beating --producer-property beating
--producer.config beating the flag's default.

kwb is meant to be a fast pipe: records are handed to aiokafka without waiting for each
answer (aiokafka bounds what is in flight: one open batch per partition, one request per
broker), unless --sync asks for one record at a time. Each record that cannot be delivered
is reported as one line on stderr and makes the exit status 1. EOF and Ctrl-C both deliver
what was read before the producer closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError as AIOKafkaError
from aiokafka.errors import KafkaTimeoutError

from localbroker.public import SchemaType

from ..kafka.admin import KafkaAdmin
from ..kafka.clients import CODECS, new_producer, partitions_for, producer_args, start
from ..kafka.connection import read_properties
from ..kafka.errors import KafkaToolError
from ..kafka.lines import line_batches
from ..kafka.outgoing import OutgoingRecord
from ..kafka.partitioner import StickyPartitioner
from ..kafka.producing import describe
from ..kafka.schema_registry.client import RegistryClient
from .common import (
    KwbParser,
    UsageError,
    add_connection_options,
    connection_from,
    parse_key_values,
    print_json,
    run_command,
)
from .interrupts import Interrupted, Interrupts
from .line_reader import LineMessageReader, ReaderError, StdinChunks
from .schema_console import READERS, SchemaMessageReader, settings_from

PROG = "kwb produce"
LINE_READERS = ("org.apache.kafka.tools.LineMessageReader", "kafka.tools.LineMessageReader")
_CLOSE_TIMEOUT_S = 10


# -- the producer --------------------------------------------------------------------------


def merged_producer_props(args: argparse.Namespace, props: dict[str, str]) -> dict[str, str]:
    """ConsoleProducer.producerProps: an explicit flag wins, then the properties, then the
    flag's default (CommandLineUtils.maybeMergeOptions)."""
    merged = dict(props)
    flags = {
        "linger.ms": (args.timeout, 1000),
        "acks": (args.request_required_acks, "-1"),
        "request.timeout.ms": (args.request_timeout_ms, 1500),
        "retries": (args.message_send_max_retries, 3),
        "retry.backoff.ms": (args.retry_backoff_ms, 100),
        "send.buffer.bytes": (args.socket_buffer_size, 102400),
        "buffer.memory": (args.max_memory_bytes, 33554432),
        "batch.size": (args.max_partition_memory_bytes or args.batch_size, 16384),
        "metadata.max.age.ms": (args.metadata_expiry_ms, 300000),
        "max.block.ms": (args.max_block_ms, 60000),
    }
    for name, (explicit, default) in flags.items():
        if explicit is not None:
            merged[name] = str(explicit)
        elif name not in merged:
            merged[name] = str(default)
    if args.compression_codec is not None:
        merged["compression.type"] = args.compression_codec or "gzip"
    merged.setdefault("compression.type", "none")
    merged.setdefault("client.id", "console-producer")
    return merged


class Deliveries:
    """Counts answers and reports each failed record as Kafka's ErrorLoggingCallback does.

    It also keeps the records still waiting for an answer: aiokafka retries a batch for a
    broker that is gone for ever (its expiry only covers partitions without a leader), so
    kwb itself gives up on them after delivery.timeout.ms, as a Java producer would.
    """

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.sent = 0
        self.failed = 0
        self.pending: dict[asyncio.Future[Any], OutgoingRecord] = {}

    def report(self, record: OutgoingRecord, error: BaseException) -> None:
        self.failed += 1
        key = "null" if record.key is None else f"{len(record.key)} bytes"
        value = "null" if record.value is None else f"{len(record.value)} bytes"
        sys.stderr.write(
            f"{PROG}: error: Error when sending message to topic {self.topic} with key: {key},"
            f" value: {value} with error: {describe(error)}\n"
        )

    def watch(self, record: OutgoingRecord, future: asyncio.Future[Any]) -> None:
        self.pending[future] = record
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[Any]) -> None:
        record = self.pending.pop(future, None)
        if record is None:
            return  # already reported as expired
        if future.cancelled():
            self.report(record, asyncio.CancelledError("cancelled"))
        elif (error := future.exception()) is not None:
            self.report(record, error)
        else:
            self.sent += 1

    def expire(self, timeout_ms: int) -> None:
        """Report every record still without an answer."""
        expired = KafkaTimeoutError(f"not delivered within delivery.timeout.ms={timeout_ms}")
        for record in self.pending.values():
            self.report(record, expired)
        self.pending.clear()


class ConsoleProducer:
    """Hands records to aiokafka and closes the way Kafka's producer.close() does."""

    def __init__(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        partitioner: StickyPartitioner,
        sync: bool,
        delivery_timeout_ms: int,
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.partitioner = partitioner
        self.deliveries = Deliveries(topic)
        self.sync = sync
        self.delivery_timeout_ms = delivery_timeout_ms

    async def send(self, record: OutgoingRecord) -> None:
        try:
            if record.key is None and record.value is None:
                future = await self._send_empty(record)
            else:
                future = await self.producer.send(
                    self.topic, record.value, key=record.key, headers=list(record.headers)
                )
        except KafkaTimeoutError as exc:
            # no room for a delivery timeout: the cluster is gone; reading on only waits
            self.deliveries.report(record, exc)
            raise KafkaToolError(f"cannot deliver to topic {self.topic}: giving up") from None
        except AIOKafkaError as exc:
            self.deliveries.report(record, exc)  # this record only (too large, ...)
            return
        self.partitioner.account(record.key, record.value)
        self.deliveries.watch(record, future)
        if self.sync:
            await asyncio.wait({future}, timeout=self.delivery_timeout_ms / 1000)
            if not future.done():
                self.deliveries.expire(self.delivery_timeout_ms)
                raise KafkaToolError(f"cannot deliver to topic {self.topic}: giving up")

    async def _send_empty(self, record: OutgoingRecord) -> asyncio.Future[Any]:
        """A record with neither key nor value (null.marker lines): Kafka sends it, but
        aiokafka's send() refuses it, so it goes as its own batch (order is kept)."""
        partitions = sorted(await self.producer.partitions_for(self.topic))
        batch = self.producer.create_batch()
        batch.append(timestamp=None, key=None, value=None, headers=list(record.headers))
        batch.close()
        partition = self.partitioner(None, partitions, partitions)
        future: asyncio.Future[Any] = await self.producer.send_batch(
            batch, self.topic, partition=partition
        )
        return future

    async def _flush(self) -> None:
        """Send what lingers now and wait for every answer.

        aiokafka's flush() waits out linger.ms; closing the open batches first (as Kafka's
        close() does) makes the last records of a pipe leave at once, not a second later.
        """
        accumulator = getattr(self.producer, "_message_accumulator", None)
        flush_now = getattr(accumulator, "flush_for_commit", None)
        await (flush_now() if flush_now is not None else self.producer.flush())

    async def close(self) -> None:
        """Deliver what was read (bounded by delivery.timeout.ms), then close."""
        try:
            await asyncio.wait_for(self._flush(), self.delivery_timeout_ms / 1000)
        except TimeoutError:
            self.deliveries.expire(self.delivery_timeout_ms)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.producer.stop(), _CLOSE_TIMEOUT_S)


# -- the command ---------------------------------------------------------------------------


def parser() -> KwbParser:
    p = KwbParser(
        prog=PROG,
        description="Read lines from standard input and publish them to Kafka, one record a"
        " line (like kafka-console-producer.sh).",
    )
    p.add_argument("--topic", required=True, help="REQUIRED: the topic to produce to")
    p.add_argument("--sync", action="store_true", help="send each record and wait for its answer")
    p.add_argument(
        "--compression-codec",
        nargs="?",
        const="gzip",
        metavar="CODEC",
        choices=[*CODECS, ""],
        help="none, gzip, snappy, lz4 or zstd; without a value gzip",
    )
    p.add_argument("--batch-size", type=int, help="batch.size in bytes (default 16384)")
    p.add_argument(
        "--message-send-max-retries",
        type=int,
        help="retries (default 3; accepted for Kafka's sake: aiokafka retries until the"
        " delivery timeout)",
    )
    p.add_argument("--retry-backoff-ms", type=int, help="retry.backoff.ms (default 100)")
    p.add_argument(
        "--timeout", type=int, metavar="MS", help="linger.ms: how long a batch waits (1000)"
    )
    p.add_argument(
        "--request-required-acks", metavar="ACKS", help="acks: all, -1, 0 or 1 (default -1)"
    )
    p.add_argument(
        "--request-timeout-ms",
        type=int,
        help="request.timeout.ms (default 1500; kwb waits delivery.timeout.ms per record)",
    )
    p.add_argument("--metadata-expiry-ms", type=int, help="metadata.max.age.ms (300000)")
    p.add_argument("--max-block-ms", type=int, help="max.block.ms (accepted)")
    p.add_argument("--max-memory-bytes", type=int, help="buffer.memory (accepted)")
    p.add_argument(
        "--max-partition-memory-bytes", type=int, help="batch.size (overrides --batch-size)"
    )
    p.add_argument("--socket-buffer-size", type=int, help="send.buffer.bytes (accepted)")
    p.add_argument(
        "--line-reader",
        metavar="CLASS",
        help="Kafka's LineMessageReader (the default), or Confluent's AvroMessageReader,"
        " protobuf.ProtobufMessageReader, json.JsonSchemaMessageReader",
    )
    p.add_argument(
        "--schema-registry",
        metavar="URL",
        help="encode each line's JSON key and value with key.schema/value.schema through"
        " this Schema Registry, as kafka-avro-console-producer does (schema.registry.url)",
    )
    p.add_argument(
        "--property",
        action="append",
        metavar="KEY=VALUE",
        help="line reader settings: parse.key, key.separator, parse.headers,"
        " headers.delimiter, headers.separator, headers.key.separator, ignore.error,"
        " null.marker; with a registry value.schema, value.schema.id, value.schema.file,"
        " key.schema, key.schema.id, key.schema.file, auto.register, use.latest.version,"
        " basic.auth.user.info, basic.auth.credentials.source",
    )
    p.add_argument("--reader-config", type=Path, metavar="FILE", help="line reader properties")
    p.add_argument(
        "--producer-property",
        action="append",
        metavar="KEY=VALUE",
        help="a producer property (acks, linger.ms, ...); repeatable",
    )
    add_connection_options(p, "--producer.config", broker_list=True)
    return p


def reader_from(args: argparse.Namespace) -> tuple[LineMessageReader, dict[str, str]]:
    """Kafka's LineMessageReader and the properties it was made from (Confluent's readers
    parse lines with the same rules)."""
    if args.line_reader is not None and args.line_reader not in (*LINE_READERS, *READERS):
        raise UsageError(
            f"--line-reader {args.line_reader} is not available; kwb has only"
            f" {LINE_READERS[0]} and Confluent's {', '.join(READERS)}"
        )
    props = read_properties(args.reader_config)
    props.update(parse_key_values(args.property, "--property", literal=True))
    return LineMessageReader(props), props


async def schema_reader(
    args: argparse.Namespace, lines: LineMessageReader, props: dict[str, str]
) -> LineMessageReader | SchemaMessageReader:
    """With a registry, Confluent's SchemaMessageReader, its schemas found (or registered)
    before the first line; else the line reader as it is."""
    if args.line_reader not in READERS and args.schema_registry is None:
        return lines
    kind = READERS.get(args.line_reader or "", SchemaType.AVRO)
    async with RegistryClient(settings_from(args.schema_registry, props)) as client:
        return await SchemaMessageReader.open(client, lines, props, args.topic, kind)


async def execute(args: argparse.Namespace) -> int:
    interrupts = Interrupts()  # first: a Ctrl-C while connecting still ends cleanly
    interrupts.install()
    lines, reader_properties = reader_from(args)
    properties = read_properties(args.client_config)
    properties.update(parse_key_values(args.producer_property, "--producer-property", literal=True))
    props = merged_producer_props(args, properties)
    connection = connection_from(args, props)
    kwargs, _ = producer_args(connection, props)  # the console producer ignores the others
    if args.sync:
        kwargs["linger_ms"] = 0
    async with KafkaAdmin(connection) as admin:
        await partitions_for(admin, args.topic, explain_missing=True)
    reader = await schema_reader(args, lines, reader_properties)
    partitioner = StickyPartitioner(kwargs["max_batch_size"])
    producer = await start(new_producer(kwargs, partitioner=partitioner), connection)
    console = ConsoleProducer(
        producer, args.topic, partitioner, args.sync, kwargs["request_timeout_ms"]
    )
    failure: KafkaToolError | None = None
    try:
        await pump(console, reader, interrupts)
    except Interrupted:
        pass
    except (ReaderError, KafkaToolError) as exc:
        failure = KafkaToolError(str(exc))
    finally:
        await console.close()
    deliveries = console.deliveries
    if args.output == "json":
        print_json({"topic": args.topic, "sent": deliveries.sent, "failed": deliveries.failed})
    if failure is not None:
        raise failure
    if interrupts.signum is not None:
        return interrupts.exit_code
    return 1 if deliveries.failed else 0


async def pump(
    console: ConsoleProducer,
    reader: LineMessageReader | SchemaMessageReader,
    interrupts: Interrupts,
) -> None:
    """Lines to records to sends, until EOF or a signal; Kafka's '>' prompt on a terminal."""
    prompt = sys.stdin.isatty() and sys.stdout.isatty()
    chunks = StdinChunks(sys.stdin.fileno())

    def show_prompt() -> None:
        if prompt:
            sys.stdout.write(">")
            sys.stdout.flush()

    show_prompt()
    batches = line_batches(lambda: interrupts.race(chunks.get()))
    async for lines in batches:
        for line in lines:
            if interrupts.signum is not None:
                raise Interrupted
            await console.send(reader.read(line))
        show_prompt()


def main(argv: list[str]) -> None:
    run_command(PROG, parser, execute, argv)
