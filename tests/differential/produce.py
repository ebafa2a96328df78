"""Produce: the happy path (acks all, leader and none, compressed, log append time) and every
way a batch is refused (unknown topic or partition, CRC damage, a wrong record count, oversize,
invalid acks, create times out of bounds, a transactional batch outside a transaction,
idempotent sequence gaps, duplicates and stale epochs)."""

from __future__ import annotations

import dataclasses
import re
import struct
import time
from typing import Any

from crc32c import crc32c
from wire import request_body

from localbroker.protocol.names import ApiKey
from localbroker.records.batch import CRC_START, HEADER, HEADER_SIZE, read_header
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records

from .scenario import Peer, scenario

CLOCK = re.compile(r"-?\d{12,}")
"""Times in milliseconds, in messages that hold the broker's clock."""
T = 1_700_000_000_000
"""Records' create times: fixed, so both brokers store and answer the same ones."""


def batch(count: int = 3, start: int = 0, size: int = 8, **kwargs: Any) -> bytes:
    records = [
        NewRecord(
            f"v{start + i}".encode().ljust(size, b"."),
            key=f"k{start + i}".encode(),
            headers=[("h", b"x")] if i == 0 else [],
            timestamp=T + 10 * (start + i),
        )
        for i in range(count)
    ]
    return build_batch(records, now_ms=T, **kwargs)


def rewritten(data: bytes, **fields: int) -> bytes:
    """`data` with header fields changed and its CRC made right again."""
    header = dataclasses.replace(read_header(data), **fields)
    values = dataclasses.astuple(header)[1:]
    out = bytearray(HEADER.pack(*values) + data[HEADER_SIZE:])
    struct.pack_into(">I", out, 17, crc32c(memoryview(out)[CRC_START:]))
    return bytes(out)


def batches(records: bytes | None) -> list[dict[str, Any]]:
    """Fetched bytes as batches (header fields) with their records, for field-by-field diffs.

    Producer ids are each broker's own numbering (Kafka's counter also moves with every other
    test that uses the session's reference broker), so they are named by first appearance,
    `-1` kept; a CRC, which covers the producer id, is compared by being right."""
    out: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    position = 0
    data = records or b""
    while position + HEADER_SIZE <= len(data):
        header = read_header(data, position)
        one = data[position : position + header.size]
        fields = dataclasses.asdict(header)
        del fields["position"]
        if header.producer_id >= 0:
            fields["producer_id"] = names.setdefault(header.producer_id, f"<pid {len(names)}>")
        if crc32c(one[CRC_START:]) == header.crc:
            fields["crc"] = "<right>"
        fields["records"] = [dataclasses.asdict(r) for r in iter_records(one)]
        out.append(fields)
        position += header.size
    return out


def log_of(peer: Peer, topic: str) -> list[dict[str, Any]]:
    """What a consumer reads of partition 0 from offset 0, batch by batch."""
    answer = peer.call(
        ApiKey.FETCH,
        12,
        {
            "replica_id": -1,
            "max_wait": 0,
            "min_bytes": 0,
            "max_bytes": 1 << 20,
            "isolation_level": 0,
            "session_id": 0,
            "session_epoch": -1,
            "topics": [
                {
                    "topic": topic,
                    "partitions": [
                        {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}
                    ],
                }
            ],
            "forgotten_topics_data": [],
            "rack_id": "",
        },
    )
    return batches(answer["responses"][0]["partitions"][0]["records"])


@scenario(ApiKey.PRODUCE, since=3)
def produce_and_read_back(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic)
    answers = [
        peer.produce(topic, batch(3), version=version, acks=-1),
        peer.produce(topic, batch(2, start=3), version=version, acks=1),
        peer.produce(
            topic, batch(4, start=5, compression=2), version=version
        ),  # snappy: same bytes
        peer.produce(topic, batch(1, start=9, compression=4), version=version),  # zstd: v7 on
    ]
    return {"answers": answers, "log": log_of(peer, topic)}


@scenario(ApiKey.PRODUCE, since=3)
def acks_zero_is_not_answered(peer: Peer, version: int) -> Any:
    """The next answer on the connection is the next request's."""
    topic = peer.name()
    peer.create_topic(topic)
    request = {
        "transactional_id": None,
        "acks": 0,
        "timeout": 30000,
        "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": batch(2)}]}],
    }
    peer.client.send(request_body(ApiKey.PRODUCE, version, request))
    return log_of(peer, topic)


@scenario(ApiKey.PRODUCE, since=3)
def acks_zero_refused_closes_the_connection(peer: Peer, version: int) -> Any:
    """With nothing to answer, a refusal can only be told by closing the connection."""
    request = {
        "transactional_id": None,
        "acks": 0,
        "timeout": 30000,
        "topic_data": [
            {"name": peer.name("missing"), "partition_data": [{"index": 0, "records": batch(1)}]}
        ],
    }
    peer.client.send(request_body(ApiKey.PRODUCE, version, request))
    return {"closed": peer.client.recv_frame() is None}


@scenario(ApiKey.PRODUCE, since=3)
def transactional_batch_without_a_transaction(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic)
    producer_id, epoch = peer.producer_id()
    data = batch(1, producer_id=producer_id, producer_epoch=epoch, base_sequence=0, attributes=0x10)
    return {"answer": peer.produce(topic, data, version=version), "log": log_of(peer, topic)}


@scenario(ApiKey.PRODUCE, since=3)
def log_append_time(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, configs={"message.timestamp.type": "LogAppendTime"})
    answer = peer.produce(topic, batch(2), version=version)
    log = log_of(peer, topic)
    stamped = log[0]["max_timestamp"] == answer["log_append_time"]
    for b in log:  # the clock's: compared by being the answer's log_append_time
        b["max_timestamp"] = b["crc"] = "<now>"
        for record in b["records"]:
            record["timestamp"] = "<now>"
    return {"answer": answer, "log": log, "stamped": stamped}


@scenario(ApiKey.PRODUCE, since=3)
def unknown_topic_and_partition(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic)
    return [
        peer.produce(peer.name("missing"), batch(1), version=version),
        peer.produce(topic, batch(1), partition=5, version=version),
        peer.produce(topic, batch(1), partition=-1, version=version),
    ]


@scenario(ApiKey.PRODUCE, since=3)
def invalid_acks(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic)
    return [peer.produce(topic, batch(1), version=version, acks=2), log_of(peer, topic)]


@scenario(ApiKey.PRODUCE, since=3)
def damaged_batches(peer: Peer, version: int) -> Any:
    """CRC damage, a record count the records do not match (CRC right), a base offset other
    than 0, a wrong magic, a batch length beyond the data: each refused, nothing stored."""
    topic = peer.name()
    peer.create_topic(topic)
    good = batch(3)
    flipped = bytearray(good)
    flipped[-3] ^= 0xFF
    answers = {
        "crc": peer.produce(topic, bytes(flipped), version=version),
        "count-high": peer.produce(topic, rewritten(good, record_count=4), version=version),
        "count-low": peer.produce(topic, rewritten(good, record_count=2), version=version),
        "base-offset": peer.produce(topic, rewritten(good, base_offset=7), version=version),
        "magic-1": peer.produce(topic, rewritten(good, magic=1), version=version),
        "cut": peer.produce(topic, good[:-5], version=version),
        "empty": peer.produce(topic, b"", version=version),
    }
    return {"answers": answers, "log": log_of(peer, topic)}


@scenario(ApiKey.PRODUCE, since=3)
def oversize_batch(peer: Peer, version: int) -> Any:
    topic = peer.name()
    peer.create_topic(topic, configs={"max.message.bytes": "200"})
    return {
        "fits": peer.produce(topic, batch(1, size=50), version=version),
        "too-large": peer.produce(topic, batch(3, size=100), version=version),
        "log": log_of(peer, topic),
    }


@scenario(ApiKey.PRODUCE, since=3)
def idempotent_sequences(peer: Peer, version: int) -> Any:
    """In order, a duplicate of the last batch, a gap, a stale epoch, an epoch bump starting
    anywhere but 0, an unknown producer id."""
    topic = peer.name()
    peer.create_topic(topic)
    producer_id, epoch = peer.producer_id()

    def send(start: int, count: int, sequence: int, at_epoch: int = epoch, pid: int = -2) -> Any:
        data = batch(
            count,
            start=start,
            producer_id=producer_id if pid == -2 else pid,
            producer_epoch=at_epoch,
            base_sequence=sequence,
        )
        return peer.produce(topic, data, version=version)

    answers = {
        "first": send(0, 2, 0),
        "second": send(2, 2, 2),
        "duplicate-last": send(2, 2, 2),
        "duplicate-first": send(0, 2, 0),
        "gap": send(4, 1, 9),
        "next": send(4, 1, 4),
        "bumped-epoch-not-at-0": send(5, 1, 5, epoch + 1),
        "bumped-epoch": send(5, 1, 0, epoch + 1),
        "stale-epoch": send(6, 1, 5, epoch),
        "unknown-producer-not-at-0": send(6, 1, 3, 0, producer_id + 1000),
    }
    return {"answers": answers, "log": log_of(peer, topic)}


@scenario(ApiKey.PRODUCE, since=3)
def timestamp_out_of_range(peer: Peer, version: int) -> Any:
    """Create times two hours past the broker's clock, and one two hours old in the middle of
    a batch (message.timestamp.after.max.ms and before.max.ms one hour): the records out of
    range are named, their bounds (the clock's) set aside."""
    topic = peer.name()
    bounds = {
        "message.timestamp.after.max.ms": "3600000",
        "message.timestamp.before.max.ms": "3600000",
    }
    peer.create_topic(topic, configs=bounds)
    now = int(time.time() * 1000)
    answers = []
    old, future = now - 7_200_000, now + 7_200_000
    for stamps in ([future], [now, old, now], [old, now, future]):
        records = [NewRecord(b"v", timestamp=stamp) for stamp in stamps]
        answer = peer.produce(topic, build_batch(records, now_ms=T), version=version)
        for error in answer.get("record_errors", []):
            error["batch_index_error_message"] = CLOCK.sub(
                "<time>", error["batch_index_error_message"]
            )
        answers.append(answer)
    return answers
