"""`kwb produce` and `kwb consume` run the primer's console-producer/-consumer lines, and
Kafka's console-tool rules around them, against a real localbroker; confluent-kafka checks
what was really stored and committed."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from waiting import TIMEOUT, wait_until

from localbroker.protocol.names import GroupState
from localbroker.records.batch import read_header

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
TIMED_OUT = (
    "ERROR Error processing message, terminating consumer process: \n"
    "org.apache.kafka.common.errors.TimeoutException: null\n"
)
"""How Kafka's console consumer (and kwb consume) ends when --timeout-ms runs out."""


# -- helpers ---------------------------------------------------------------------------------


def read_back(bootstrap: str, topic: str, count: int, partition: int = 0) -> list[tuple]:
    """(key, value, headers) of the first `count` records, read by confluent-kafka."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "check", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, partition, 0)])
    got: list[tuple] = []
    deadline = time.monotonic() + TIMEOUT
    try:
        while len(got) < count and time.monotonic() < deadline:
            for m in consumer.consume(count - len(got), 1.0):
                assert m.error() is None, m.error()
                got.append((m.key(), m.value(), m.headers() or []))
    finally:
        consumer.close()
    return got


def committed(bootstrap: str, group: str, topic: str, partition: int = 0) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        (tp,) = consumer.committed([TopicPartition(topic, partition)], timeout=TIMEOUT)
        return int(tp.offset)
    finally:
        consumer.close()


def produce(bootstrap: str, topic: str, records: list[tuple[Any, ...]]) -> None:
    """(partition, key, value[, headers]) records, delivered before returning."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition, key, value, *headers in records:
        producer.produce(topic, value, key, partition=partition, headers=headers or None)
    assert producer.flush(TIMEOUT) == 0


def high_watermark(broker, topic: str, partition: int = 0) -> int:
    return broker.call(lambda: broker.state.partition_log(topic, partition).high_watermark)


def compressions(broker, topic: str) -> set[int]:
    def read() -> bytes:
        log = broker.state.partition_log(topic, 0)
        return log.read(log.log_start_offset, 64 * 1024 * 1024)

    data, found, position = broker.call(read), set(), 0
    while position < len(data):
        header = read_header(data, position)
        found.add(header.compression)
        position += header.size
    return found


def create_topic(kwb, bootstrap: str, topic: str, partitions: int = 1) -> None:
    made = kwb("topics", "--create", "--bootstrap-server", bootstrap, "--topic", topic,
               "--partitions", str(partitions))  # fmt: skip
    assert made.returncode == 0, made.stderr


def props(*items: str) -> list[str]:
    """--property flags."""
    return [arg for item in items for arg in ("--property", item)]


def on(kwb, command: str, bootstrap: str):
    """`kwb <command> --bootstrap-server B ...` as a function of the remaining flags."""
    return lambda *flags, **kw: kwb(command, "--bootstrap-server", bootstrap, *flags, **kw)


def one_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The single stderr line of a failed run (no traceback)."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def popen(*args: str, stdin: Any = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- the primer ------------------------------------------------------------------------------


def test_primer_console_producer_and_consumer(broker, kwb) -> None:
    b = broker.bootstrap
    sent = kwb("produce", "--broker-list", b, "--topic", "test", input="hello\nworld\n")
    assert (sent.returncode, sent.stdout, sent.stderr) == (0, "", "")
    assert read_back(b, "test", 2) == [(None, b"hello", []), (None, b"world", [])]
    got = kwb("consume", "--bootstrap-server", b, "--topic", "test", "--from-beginning",
              "--group", "my-group", "--max-messages", "2")  # fmt: skip
    assert (got.returncode, got.stdout) == (0, "hello\nworld\n"), got.stderr
    assert got.stderr == "Processed a total of 2 messages\n"
    assert committed(b, "my-group", "test") == 2


# -- produce ---------------------------------------------------------------------------------


def test_keys_headers_and_null_marker_round_trip(broker, kwb) -> None:
    b, produce_ = broker.bootstrap, on(kwb, "produce", broker.bootstrap)
    lines = [
        "h1:v1,h2:v2\tk1\tvalue one",
        "NULL\tk2\tNULL",  # no headers, null value
        "h:NULL,e:\tNULL\ttab\there",  # null header value, empty one, null key
        "NULL\tNULL\tNULL",  # neither key nor value: Kafka sends it all the same
        "a:1,\tk5\t",  # a trailing header separator is dropped, as String.split does
    ]
    parse = props("parse.key=true", "parse.headers=true", "null.marker=NULL")
    sent = produce_("--topic", "kv", *parse, input="\n".join(lines) + "\n")
    assert (sent.returncode, sent.stderr) == (0, "")
    assert read_back(b, "kv", 5) == [
        (b"k1", b"value one", [("h1", b"v1"), ("h2", b"v2")]),
        (b"k2", None, []),
        (None, b"tab\there", [("h", None), ("e", b"")]),
        (None, None, []),
        (b"k5", b"", [("a", b"1")]),
    ]
    separator = props("parse.key=true", "key.separator= => ")
    custom = produce_("--topic", "sep", *separator, input="k => v => w\r\nlast => one")
    assert custom.returncode == 0, custom.stderr
    assert read_back(b, "sep", 2) == [(b"k", b"v => w", []), (b"last", b"one", [])]


def test_reader_errors_are_kafkas(broker, kwb) -> None:
    b, produce_ = broker.bootstrap, on(kwb, "produce", broker.bootstrap)
    bad = produce_("--topic", "r", *props("parse.key=true"), input="a\tb\nnokey\nc\td\n")
    assert one_error(bad) == "kwb produce: error: No key separator found on line number 2: 'nokey'"
    assert read_back(b, "r", 1) == [(b"a", b"b", [])]  # what was read before is delivered
    assert high_watermark(broker, "r") == 1
    ignore = props("parse.key=true", "ignore.error=true")
    assert produce_("--topic", "r", *ignore, input="nokey\n").returncode == 0
    assert read_back(b, "r", 2)[1] == (None, b"nokey", [])
    header = produce_("--topic", "r", *props("parse.headers=true"), input="oops\tv\n")
    assert one_error(header) == (
        "kwb produce: error: No header key separator found in pair 'oops' on line number 1"
    )
    same = produce_("--topic", "r", *props("null.marker=\t"), input="")
    assert one_error(same) == "kwb produce: error: null.marker and key.separator may not be equal"


@pytest.mark.parametrize("codec", [*CODECS, ""])
def test_compression_codec_is_stored_as_chosen(broker, kwb, codec: str) -> None:
    topic = f"codec-{codec or 'default'}"
    flag = ["--compression-codec", codec] if codec else ["--compression-codec"]  # bare: gzip
    lines = [f"record {i}" for i in range(50)]
    sent = kwb("produce", "--topic", topic, *flag, "--bootstrap-server", broker.bootstrap,
               input="\n".join(lines))  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert compressions(broker, topic) == {CODECS[codec or "gzip"]}
    assert [v for _, v, _ in read_back(broker.bootstrap, topic, 50)] == [
        line.encode() for line in lines
    ]


def test_acks_sync_and_json(broker, kwb) -> None:
    b, produce_ = broker.bootstrap, on(kwb, "produce", broker.bootstrap)
    for acks in ("0", "1", "all", "-1"):
        sent = produce_("--topic", "acks", "--request-required-acks", acks, input="x\ny\n")
        assert (sent.returncode, sent.stderr) == (0, ""), acks
    wait_until(lambda: high_watermark(broker, "acks") == 8, "8 records")  # acks=0: no answer
    bad = produce_("--topic", "acks", "--producer-property", "acks=2", input="x\n")
    assert one_error(bad) == (
        "kwb produce: error: Invalid value 2 for configuration acks: String must be one of:"
        " all, -1, 0, 1"
    )
    sync = produce_("--topic", "sync", "--sync", "--output", "json", input="1\n2\n3\n")
    assert sync.returncode == 0, sync.stderr
    assert sync.stdout.replace(" ", "").replace("\n", "") == '{"topic":"sync","sent":3,"failed":0}'
    assert [v for _, v, _ in read_back(b, "sync", 3)] == [b"1", b"2", b"3"]


def test_a_large_pipe_goes_through_and_back(broker, kwb) -> None:
    b, lines = broker.bootstrap, "".join(f"line-{i}\n" for i in range(100_000))
    sent = kwb("produce", "--bootstrap-server", b, "--topic", "big", input=lines, timeout=60)
    assert (sent.returncode, sent.stderr) == (0, "")
    assert high_watermark(broker, "big") == 100_000
    got = kwb("consume", "--bootstrap-server", b, "--topic", "big", "--from-beginning",
              "--max-messages", "100000", timeout=60)  # fmt: skip
    assert got.stdout == lines
    assert got.stderr == "Processed a total of 100000 messages\n"


def test_ctrl_c_delivers_what_was_read(broker, kwb) -> None:
    """A big first record fills its batch and leaves at once; the second lingers a minute
    (--timeout 60000) until SIGINT makes the producer flush it."""
    b, first = broker.bootstrap, "x" * 300
    create_topic(kwb, b, "int")
    process = popen("produce", "--bootstrap-server", b, "--topic", "int", "--timeout", "60000",
                    "--batch-size", "100", stdin=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdin is not None
        process.stdin.write(f"{first}\nsecond\n")
        process.stdin.flush()
        wait_until(lambda: high_watermark(broker, "int") == 1, "the first record")
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 130
    finally:
        process.kill()
    assert [v for _, v, _ in read_back(b, "int", 2)] == [first.encode(), b"second"]


# -- consume ---------------------------------------------------------------------------------


def test_formatter_properties_print_kafkas_lines(broker, kwb) -> None:
    b = broker.bootstrap
    records = [(0, b"k1", b"v1", ("h1", b"a"), ("h2", None)), (0, None, b"v2"), (0, b"k3", None)]
    produce(b, "fmt", records)
    consume_ = on(kwb, "consume", b)

    def lines(*flags: str) -> list[str]:
        got = consume_("--topic", "fmt", "--from-beginning", "--max-messages", "3", *flags)
        assert got.stderr.endswith("Processed a total of 3 messages\n"), got.stderr
        return got.stdout.split("\n")[:-1] if got.stdout.endswith("\n") else [got.stdout]

    assert lines() == ["v1", "v2", "null"]
    full = lines(*props("print.timestamp=true", "print.partition=true", "print.offset=true",
                        "print.headers=true", "print.key=true"))  # fmt: skip
    assert [re.sub(r"CreateTime:\d{13}", "CreateTime:T", line) for line in full] == [
        "CreateTime:T\tPartition:0\tOffset:0\th1:a,h2:null\tk1\tv1",
        "CreateTime:T\tPartition:0\tOffset:1\tNO_HEADERS\tnull\tv2",
        "CreateTime:T\tPartition:0\tOffset:2\tNO_HEADERS\tk3\tnull",
    ]
    keys = props("print.key=true", "key.separator=|", "print.value=false",
                 "print.delivery=true", "null.literal=-")  # fmt: skip
    assert lines(*keys) == [
        "Delivery:NOT_PRESENT|k1",
        "Delivery:NOT_PRESENT|-",
        "Delivery:NOT_PRESENT|k3",
    ]
    assert lines(*props("print.headers=true", "headers.separator=;", "line.separator=#")) == [
        "h1:a;h2:null\tv1#NO_HEADERS\tv2#NO_HEADERS\tnull#"
    ]
    integers = "org.apache.kafka.common.serialization.IntegerDeserializer"
    skipped = consume_("--topic", "fmt", "--from-beginning", "--max-messages", "3",
                       "--value-deserializer", integers, "--skip-message-on-error")  # fmt: skip
    assert skipped.stdout == "1853189228\n"  # "null" read as a 4-byte int, as Kafka does
    assert skipped.stderr.splitlines() == [
        "Error processing message, skipping this message: Size of data received by"
        " IntegerDeserializer is not 4",
    ] * 2 + ["Processed a total of 3 messages"]


def test_partition_and_offset(broker, kwb) -> None:
    b = broker.bootstrap
    create_topic(kwb, b, "two", partitions=2)
    produce(b, "two", [(p, None, f"p{p}-{i}".encode()) for p in (0, 1) for i in range(3)])
    base = ("consume", "--bootstrap-server", b, "--topic", "two", "--partition", "1")
    at = kwb(*base, "--offset", "1", "--max-messages", "2", *props("print.offset=true"))
    assert at.stdout == "Offset:1\tp1-1\nOffset:2\tp1-2\n", at.stderr
    earliest = kwb(*base, "--offset", "earliest", "--timeout-ms", "1000")
    assert earliest.stdout == "p1-0\np1-1\np1-2\n"
    assert earliest.stderr == TIMED_OUT + "Processed a total of 3 messages\n"
    latest = kwb(*base, "--timeout-ms", "500")  # --offset latest is the default
    assert (latest.returncode, latest.stdout) == (0, "")
    assert latest.stderr == TIMED_OUT + "Processed a total of 0 messages\n"
    beginning = kwb(*base, "--from-beginning", "--max-messages", "1")
    assert beginning.stdout == "p1-0\n"
    missing = kwb(*base[:-1], "5", "--timeout-ms", "500")
    assert one_error(missing) == "kwb consume: error: topic two has no partition 5"
    every = kwb("consume", "--bootstrap-server", b, "--include", "t.o|nothing", "--from-beginning",
                "--max-messages", "6", "--output", "json")  # fmt: skip
    document = json.loads(every.stdout)
    assert document["processed"] == 6 and every.stderr == "Processed a total of 6 messages\n"
    assert sorted((r["partition"], r["offset"], r["value"]) for r in document["records"]) == [
        (p, i, f"p{p}-{i}") for p in (0, 1) for i in range(3)
    ]


def test_a_group_continues_where_it_stopped(broker, kwb) -> None:
    b = broker.bootstrap
    produce(b, "g", [(0, None, f"m{i}".encode()) for i in range(5)])
    base = ("consume", "--bootstrap-server", b, "--topic", "g", "--group", "grp")
    first = kwb(*base, "--from-beginning", "--max-messages", "3")
    assert first.stdout == "m0\nm1\nm2\n", first.stderr
    assert committed(b, "grp", "g") == 3
    second = kwb(*base, "--timeout-ms", "1500")  # no --from-beginning needed: committed
    assert second.stdout == "m3\nm4\n"
    assert second.stderr == TIMED_OUT + "Processed a total of 2 messages\n"
    assert committed(b, "grp", "g") == 5
    anonymous = kwb(*base[:-2], "--from-beginning", "--max-messages", "5")
    assert anonymous.stdout.split() == [f"m{i}" for i in range(5)]
    groups = broker.call(lambda: dict(broker.state.groups))
    generated = [g for g in groups if g.startswith("console-consumer-")]
    assert len(generated) == 1 and re.fullmatch(r"console-consumer-\d{1,5}", generated[0])
    assert committed(b, generated[0], "g") < 0  # a generated group commits nothing


def test_ctrl_c_leaves_the_group_and_prints_the_total(broker) -> None:
    b = broker.bootstrap
    produce(b, "live", [(0, None, f"r{i}".encode()) for i in range(4)])
    process = popen("consume", "--bootstrap-server", b, "--topic", "live", "--group",
                    "live-group", "--from-beginning")  # fmt: skip
    try:
        assert process.stdout is not None
        assert [process.stdout.readline() for _ in range(4)] == ["r0\n", "r1\n", "r2\n", "r3\n"]
        state = broker.call(lambda: broker.state.groups["live-group"].state)
        assert state == GroupState.STABLE
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()
    assert process.returncode == 130
    assert stderr == "Processed a total of 4 messages\n"
    # LeaveGroup went out before the exit: the group is Empty at once, not after a session
    assert broker.call(lambda: broker.state.groups["live-group"].state) == GroupState.EMPTY
    assert committed(b, "live-group", "live") == 4


# -- failures --------------------------------------------------------------------------------

CONSUME_USAGE = {
    ("--offset", "1"): "The partition is required when offset is specified.",
    ("--partition", "0", "--group", "g"): (
        "Options group and partition cannot be specified together."
    ),
    ("--partition", "0", "--offset", "-3"): (
        "The provided offset value '-3' is incorrect. Valid values are 'earliest', 'latest',"
        " or a non-negative long."
    ),
    ("--from-beginning", "--consumer-property", "auto.offset.reset=latest"): (
        "Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest',"
        " please remove one option"
    ),
    ("--formatter", "kafka.tools.LoggingMessageFormatter"): (
        "--formatter kafka.tools.LoggingMessageFormatter is not available; kwb has only"
        " org.apache.kafka.tools.consumer.DefaultMessageFormatter and Confluent's"
        " io.confluent.kafka.formatter.AvroMessageFormatter,"
        " io.confluent.kafka.formatter.protobuf.ProtobufMessageFormatter,"
        " io.confluent.kafka.formatter.json.JsonSchemaMessageFormatter"
    ),
    ("--isolation-level", "dirty"): (
        "Invalid value dirty for configuration isolation.level: String must be one of:"
        " read_committed, read_uncommitted"
    ),
}


def test_failures_are_one_line(start_broker, kwb) -> None:
    b = start_broker({"auto.create.topics.enable": "false"}).bootstrap
    produce_, consume_ = on(kwb, "produce", b), on(kwb, "consume", b)
    assert one_error(produce_("--topic", "nope", input="x\n")).startswith(
        "kwb produce: error: topic nope: UNKNOWN_TOPIC_OR_PARTITION: Topic 'nope' does not exist"
    )
    assert "UNKNOWN_TOPIC_OR_PARTITION" in one_error(consume_("--topic", "nope"))
    for command in ("produce", "consume"):
        away = kwb(command, "--bootstrap-server", "127.0.0.1:1", "--topic", "t", input="x\n")
        assert one_error(away).startswith(f"kwb {command}: error: cannot connect to 127.0.0.1:1")
    for flags, message in CONSUME_USAGE.items():
        got = consume_("--topic", "t", *flags)
        assert one_error(got) == f"kwb consume: error: {message}", flags
    neither = consume_()
    assert one_error(neither) == "kwb consume: error: Exactly one of --include/--topic is required."
    for command in ("produce", "consume"):
        bad_flag = kwb(command, "--topic", "t", "--frobnicate")
        assert "unrecognized arguments: --frobnicate" in one_error(bad_flag, code=2)
    codec = produce_("--topic", "t", "--compression-codec", "xz")
    assert "--compression-codec" in one_error(codec, code=2)
