"""`kwb perf` and `kwb consumer-perf` against a real localbroker, checked with confluent-kafka.

The output lines are ProducerPerformance's and ConsumerPerformance's; the records they
report are counted and read back with another client.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

NUM = r"\d+\.\d"
WINDOW = re.compile(
    rf"\d+ records sent, {NUM} records/sec \({NUM}\d MB/sec\), {NUM} ms avg latency,"
    rf" {NUM} ms max latency\."
)
TOTAL = re.compile(
    rf"(\d+) records sent, ({NUM}) records/sec \({NUM}\d MB/sec\), {NUM}\d ms avg latency,"
    rf" {NUM}\d ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\."
)
METRIC = re.compile(r"([\w-]+:[\w-]+:\{client-id=perf-producer-client(?:, topic=\w+)?\}) +: (\S+)")
CONSUMER_HEADER = (
    "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,"
    " rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
)
DATE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}"
F4 = r"\d+\.\d{4}"
CONSUMER_LINE = re.compile(
    rf"({DATE}), ({DATE}), ({F4}), {F4}, (\d+), {F4}, (\d+), (\d+), {F4}, {F4}"
)
DETAILED_LINE = re.compile(rf"{DATE}, 0, {F4}, {F4}, \d+, {F4}, \d+, -?\d+, {F4}, {F4}")
PRODUCER_METRICS = {
    f"producer-metrics:{name}:{{client-id=perf-producer-client}}"
    for name in (
        "batch-size-avg",
        "batch-size-max",
        "compression-rate-avg",
        "record-error-rate",
        "record-error-total",
        "record-send-rate",
        "record-send-total",
        "record-size-avg",
        "record-size-max",
        "records-per-request-avg",
        "request-latency-avg",
        "request-latency-max",
    )
} | {
    f"producer-topic-metrics:{name}:{{client-id=perf-producer-client, topic=test}}"
    for name in ("byte-rate", "byte-total", "record-send-rate", "record-send-total")
}


def read_records(bootstrap: str, topic: str, expected: int, timeout: float = 20) -> list[Message]:
    """Every record of partition 0 from the beginning, until `expected` or the deadline."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check", "log_level": 0})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    records: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                records.append(message)
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    finally:
        consumer.close()
    assert (low, high) == (0, len(records))
    return records


def read_values(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    return [record.value() for record in read_records(bootstrap, topic, expected)]


def create_topic(kwb, bootstrap: str, topic: str) -> None:
    created = kwb("topics", "--create", "--bootstrap-server", bootstrap, "--topic", topic)
    assert created.returncode == 0, created.stderr


def test_primer_perf_line(broker, kwb) -> None:
    b = broker.bootstrap
    create_topic(kwb, b, "test")
    launched_ms = time.time() * 1000
    perf = kwb(
        "perf",
        "--num-records",
        "1000",
        "--throughput",
        "100",
        "--record-size",
        "100",
        "--print-metric",
        "--topic",
        "test",
        "--producer-props",
        f"bootstrap.servers={b}",
    )
    assert (perf.returncode, perf.stderr) == (0, "")
    lines = perf.stdout.splitlines()
    blank = lines.index("")
    windows, (total,) = lines[: blank - 1], lines[blank - 1 : blank]
    assert 1 <= len(windows) <= 2 and all(WINDOW.fullmatch(w) for w in windows), windows
    sent, rate = TOTAL.fullmatch(total).groups()
    assert sent == "1000" and float(rate) <= 101.0
    assert re.fullmatch(r"Metric Name +Value", lines[blank + 1])
    metrics = dict(METRIC.fullmatch(line).groups() for line in lines[blank + 2 :])
    assert set(metrics) == PRODUCER_METRICS
    assert list(metrics) == sorted(metrics)
    client = "{client-id=perf-producer-client}"
    assert metrics[f"producer-metrics:record-send-total:{client}"] == "1000.000"
    assert metrics[f"producer-metrics:record-error-total:{client}"] == "0.000"
    assert metrics[f"producer-metrics:compression-rate-avg:{client}"] == "1.000"
    records = read_records(b, "test", 1000)
    values = [record.value() for record in records]
    assert len(values) == 1000
    # The throttle's pace on the records' own clock (CreateTime, set as each is sent): Kafka's
    # throttler sends record k no earlier than (k - 1) / 100 s after it starts, which is after
    # the launch, so the last record is stamped at least 9.98 s after it (1 ms: rounding).
    _, last_stamp_ms = records[-1].timestamp()
    assert last_stamp_ms - launched_ms >= (1000 - 2) / 100 * 1000 - 1
    assert all(re.fullmatch(rb"[A-Z]{100}", v) for v in values)
    assert len(set(values)) == 1000  # a fresh random payload per record, as Kafka's


def test_payload_file_and_delimiter(broker, kwb, tmp_path: Path) -> None:
    b = broker.bootstrap
    create_topic(kwb, b, "words")
    words = tmp_path / "words.txt"
    words.write_text("alpha;beta;gamma")
    perf = kwb(
        "perf",
        "--topic",
        "words",
        "--num-records",
        "60",
        "--throughput",
        "-1",
        "--payload-file",
        str(words),
        "--payload-delimiter",
        ";",
        "--bootstrap-server",
        b,
    )
    assert (perf.returncode, perf.stderr) == (0, "")
    lines = perf.stdout.splitlines()
    assert lines[:2] == [f"Reading payloads from: {words}", "Number of messages read: 3"]
    assert TOTAL.fullmatch(lines[2]).group(1) == "60" and len(lines) == 3
    assert set(read_values(b, "words", 60)) == {b"alpha", b"beta", b"gamma"}
    lines_file = tmp_path / "lines.txt"
    lines_file.write_text("one\ntwo\n")  # the default delimiter is a newline
    perf = kwb(
        "perf",
        "--topic",
        "lines",
        "--num-records",
        "20",
        "--throughput",
        "-1",
        "--payload-file",
        str(lines_file),
        "--producer-props",
        f"bootstrap.servers={b}",
        "acks=1",
    )
    assert perf.returncode == 0, perf.stderr
    assert perf.stdout.splitlines()[1] == "Number of messages read: 2"
    assert set(read_values(b, "lines", 20)) == {b"one", b"two"}


def test_consumer_perf_counts_what_perf_sent(broker, kwb) -> None:
    b = broker.bootstrap
    create_topic(kwb, b, "load")
    perf = kwb(
        "perf",
        "--topic",
        "load",
        "--num-records",
        "500",
        "--throughput",
        "-1",
        "--record-size",
        "100",
        "--producer-props",
        f"bootstrap.servers={b}",
    )
    assert perf.returncode == 0, perf.stderr
    args = ["consumer-perf", "--bootstrap-server", b, "--topic", "load", "--group", "perf-g"]
    consumed = kwb(*args, "--messages", "500")
    assert (consumed.returncode, consumed.stderr) == (0, "")
    header, line = consumed.stdout.splitlines()
    assert header == CONSUMER_HEADER
    start, end, mb, count, rebalance, fetch = CONSUMER_LINE.fullmatch(line).groups()
    assert (mb, count) == (f"{500 * 100 / 1024 / 1024:.4f}", "500")
    assert start <= end and int(rebalance) >= 0 and int(fetch) >= 0
    # The group committed its offsets: the same group finds nothing left and says so.
    again = kwb(*args, "--messages", "500", "--timeout", "500", "--hide-header")
    warning, line = again.stdout.splitlines()
    assert warning == (
        "WARNING: Exiting before consuming the expected number of messages: timeout (500 ms)"
        " exceeded. You can use the --timeout option to increase the timeout."
    )
    assert CONSUMER_LINE.fullmatch(line).group(3, 4) == ("0.0000", "0")
    detailed = kwb(
        "consumer-perf",
        "--bootstrap-server",
        b,
        "--topic",
        "load",
        "--messages",
        "500",
        "--show-detailed-stats",
        "--reporting-interval",
        "1",
        "--print-metrics",
    )
    lines = detailed.stdout.splitlines()
    assert lines[0] == CONSUMER_HEADER.replace("start.time, end.time", "time, threadId")
    blank = lines.index("")
    assert blank > 1 and all(DETAILED_LINE.fullmatch(x) for x in lines[1:blank]), lines
    assert re.fullmatch(r"Metric Name +Value", lines[blank + 1])
    assert re.search(
        r"^consumer-fetch-manager-metrics:records-consumed-total:"
        r"\{client-id=perf-consumer-client\} +: 500\.000$",
        detailed.stdout,
        re.MULTILINE,
    )


def test_progress_bar_on_a_terminal(broker) -> None:
    """On a terminal a rich bar replaces the window lines; the summary is printed after it."""
    leader, follower = pty.openpty()
    command = ["perf", "--topic", "tty", "--num-records", "1000", "--throughput", "500"]
    command += ["--record-size", "10", "--bootstrap-server", broker.bootstrap]
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", *command],
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if not select.select([leader], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command exited
                break
            if not chunk:
                break
            output += chunk
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        os.close(leader)
    text = output.decode(errors="replace")
    assert "records sent" in text and "/1000" in text  # the bar: records sent, done/total
    assert TOTAL.search(text).group(1) == "1000"


def test_refusals_are_one_line_and_non_zero(broker, kwb) -> None:
    b = broker.bootstrap
    base = ["perf", "--topic", "t", "--num-records", "5", "--throughput", "-1"]
    missing = kwb(*base, "--producer-props", f"bootstrap.servers={b}")
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1
    assert "one of the arguments --record-size --payload-file" in missing.stderr
    both = kwb(*base, "--record-size", "5", "--payload-file", "x", "--bootstrap-server", b)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    txn = kwb(*base, "--record-size", "5", "--transactional-id", "x", "--bootstrap-server", b)
    assert (txn.returncode, txn.stderr) == (
        1,
        "kwb perf: error: --transactional-id is not supported:"
        " kwb perf does not produce in transactions\n",
    )
    unreachable = kwb(
        *base, "--record-size", "5", "--producer-props", "bootstrap.servers=127.0.0.1:1"
    )
    assert unreachable.returncode == 1 and len(unreachable.stderr.splitlines()) == 1
    assert unreachable.stderr.startswith("kwb perf: error: cannot connect to 127.0.0.1:1")
    no_messages = kwb("consumer-perf", "--bootstrap-server", b, "--topic", "t")
    assert no_messages.returncode == 2 and "--messages" in no_messages.stderr
    gone = kwb(
        "consumer-perf", "--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--messages", "1"
    )
    assert (gone.returncode, gone.stdout) == (1, "") and len(gone.stderr.splitlines()) == 1
    assert gone.stderr.startswith("kwb consumer-perf: error: cannot connect to 127.0.0.1:1")
    everything = missing.stderr + both.stderr + txn.stderr + unreachable.stderr + gone.stderr
    assert "Traceback" not in everything


def test_missing_topic_fails_fast(start_broker, kwb) -> None:
    b = start_broker({"auto.create.topics.enable": "false"}).bootstrap
    base = ["perf", "--topic", "nosuch", "--num-records", "5", "--throughput", "-1"]
    missing = kwb(*base, "--record-size", "5", "--bootstrap-server", b, timeout=20)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == (
        "kwb perf: error: topic nosuch: UNKNOWN_TOPIC_OR_PARTITION: This server does not host"
        " this topic-partition. (check the topic name with `kwb topics --list`)\n"
    )


@pytest.mark.parametrize("engine", ["librdkafka", "aiokafka"])
def test_perf_on_each_engine_sends_what_it_reports(broker, kwb, monkeypatch, engine) -> None:
    """librdkafka, the engine when installed, and aiokafka, the fallback (forced by
    KWB_PRODUCER_ENGINE): each sends N records of the size asked, all of them acknowledged,
    and prints ProducerPerformance's summary line; a property it cannot apply is named in a
    warning that names the engine, which shows which one ran."""
    b = broker.bootstrap
    create_topic(kwb, b, "engine")
    monkeypatch.setenv("KWB_PRODUCER_ENGINE", engine)
    perf = kwb(
        "perf", "--topic", "engine", "--num-records", "3000", "--throughput", "-1",
        "--record-size", "150", "--producer-props", f"bootstrap.servers={b}", "acks=1",
        "buffer.memory=33554432",
    )  # fmt: skip
    assert perf.returncode == 0, perf.stderr
    assert perf.stderr == (
        "kwb perf: warning: ignoring producer properties"
        f" {engine} has no equivalent for: buffer.memory\n"
    )
    *windows, total = perf.stdout.splitlines()
    assert all(WINDOW.fullmatch(w) for w in windows), windows
    assert TOTAL.fullmatch(total).group(1) == "3000", total
    values = read_values(b, "engine", 3000)
    assert len(values) == 3000 and {len(v) for v in values} == {150}
    assert all(re.fullmatch(rb"[A-Z]{150}", v) for v in values)


@pytest.mark.parametrize("engine", ["librdkafka", "aiokafka"])
def test_consumer_perf_on_each_engine_counts_what_was_sent(
    broker, kwb, monkeypatch, engine
) -> None:
    """consumer-perf on librdkafka (its engine when installed) and aiokafka (the fallback):
    each reads the N records in its group and counts their keys' and values' bytes.
    Mutation check: with librdkafka's _sizes counting values only, this fails."""
    b = broker.bootstrap
    create_topic(kwb, b, "read-back")
    produce = kwb("produce", "--bootstrap-server", b, "--topic", "read-back",
                  "--property", "parse.key=true", "--property", "key.separator=:",
                  input="k1:v1\nk2:v2\nk3:value3\n")  # fmt: skip
    assert produce.returncode == 0, produce.stderr
    monkeypatch.setenv("KWB_PRODUCER_ENGINE", engine)
    consumed = kwb("consumer-perf", "--bootstrap-server", b, "--topic", "read-back",
                   "--messages", "3", "--output", "json")  # fmt: skip
    assert consumed.returncode == 0, consumed.stderr
    total = json.loads(consumed.stdout)
    assert total["data.consumed.in.nMsg"] == 3
    assert round(total["data.consumed.in.MB"] * 1024 * 1024) == 3 * 2 + 2 + 2 + 6
