"""Helpers of the tests that stop, kill and restart `python -m localbroker` processes and read
back what survived through real clients (confluent-kafka): topics, acknowledged records at
their offsets, watermarks, and the segment files themselves."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brokers import BrokerProcess
from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic
from wire import RawClient

from localbroker.records.batch import HEADER_SIZE, read_header
from localbroker.records.reader import iter_records

CLIENT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
Launch = Callable[..., BrokerProcess]


def restart(launch: Launch, old: BrokerProcess) -> BrokerProcess:
    """A new broker process on the stopped broker's data directory and port (and log)."""
    assert old.process is not None and old.process.poll() is not None, "old broker still runs"
    return launch(old.data_dir, old.overrides, old.port, old.log_path, old.env)


def create_topic(
    bootstrap: str, name: str, partitions: int, configs: Mapping[str, str] | None = None
) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(name, partitions, 1, config=dict(configs or {}))],
        request_timeout=CLIENT_TIMEOUT,
    )
    futures[name].result(CLIENT_TIMEOUT)


def consumer_for(bootstrap: str) -> Consumer:
    """A manually assigned consumer: group.id is required by librdkafka but never used."""
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "durability-tests",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "error",
            "fetch.wait.max.ms": 50,
        }
    )


def watermarks(bootstrap: str, topic: str, partitions: int) -> dict[int, tuple[int, int]]:
    """(log start offset, high watermark) of every partition, from ListOffsets."""
    consumer = consumer_for(bootstrap)
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=CLIENT_TIMEOUT)
            for p in range(partitions)
        }
    finally:
        consumer.close()


def read_partitions(
    bootstrap: str, topic: str, partitions: int
) -> dict[int, list[tuple[int, bytes | None]]]:
    """Every (offset, value) of every partition, from the beginning up to the high watermark."""
    ends = watermarks(bootstrap, topic, partitions)
    records: dict[int, list[tuple[int, bytes | None]]] = {p: [] for p in range(partitions)}
    pending = {p for p, (low, high) in ends.items() if high > low}
    consumer = consumer_for(bootstrap)
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        deadline = time.monotonic() + READ_TIMEOUT
        while pending:
            assert time.monotonic() < deadline, f"timed out reading {topic}: still {pending}"
            for message in consumer.consume(num_messages=1000, timeout=0.5):
                error = message.error()
                if error is not None:
                    raise KafkaException(error)
                partition, offset = message.partition(), message.offset()
                records[partition].append((offset, message.value()))
                if offset >= ends[partition][1] - 1:
                    pending.discard(partition)
    finally:
        consumer.close()
    return records


def first_message_at(consumer: Consumer, topic: str, offset: int) -> Message:
    """Assign the partition at `offset` and return the first message fetched."""
    consumer.assign([TopicPartition(topic, 0, offset)])
    deadline = time.monotonic() + READ_TIMEOUT
    while True:
        assert time.monotonic() < deadline, f"no message fetched from {topic}-0 at {offset}"
        message = consumer.poll(0.5)
        if message is None:
            continue
        error = message.error()
        if error is not None:
            raise KafkaException(error)
        return message


@dataclass
class Deliveries:
    """What delivery reports said: acknowledged (partition, offset, value) and failures."""

    acked: list[tuple[int, int, bytes]] = field(default_factory=list)
    failed: list[KafkaError] = field(default_factory=list)

    def report(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.failed.append(error)
        else:
            self.acked.append((message.partition(), message.offset(), message.value()))


def produce_and_flush(
    bootstrap: str,
    topic: str,
    items: list[tuple[int, bytes, int | None]],
    extra: Mapping[str, object] | None = None,
) -> list[tuple[int, int, bytes]]:
    """Produce (partition, value, timestamp) items one record per batch; their acks in order."""
    deliveries = Deliveries()
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 0,
            "batch.num.messages": 1,
            "message.timeout.ms": 20000,
            **(extra or {}),
        }
    )
    for partition, value, timestamp in items:
        if timestamp is None:
            producer.produce(topic, value=value, partition=partition, on_delivery=deliveries.report)
        else:
            producer.produce(
                topic,
                value=value,
                partition=partition,
                timestamp=timestamp,
                on_delivery=deliveries.report,
            )
        producer.poll(0)
    assert producer.flush(READ_TIMEOUT) == 0, "producer did not finish in time"
    assert deliveries.failed == []
    assert len(deliveries.acked) == len(items)
    return deliveries.acked


def batch_bounds(path: Path) -> list[tuple[int, int, int]]:
    """(position, size, last offset) of every whole batch in a segment file."""
    data = path.read_bytes()
    bounds = []
    position = 0
    while position + HEADER_SIZE <= len(data):
        header = read_header(data, position)
        if position + header.size > len(data):
            break
        bounds.append((position, header.size, header.last_offset))
        position += header.size
    return bounds


def segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.log"))


# -- raw Produce and Fetch --------------------------------------------------------------------

PRODUCE, PRODUCE_VERSION, FETCH, FETCH_VERSION = 0, 9, 1, 12


def produce_raw(
    client: RawClient, topic: str, batches: dict[int, bytes]
) -> dict[int, tuple[int, int]]:
    """One acks=all Produce (v9) of a batch per partition: (error code, base offset) of each
    partition, as the broker answered."""
    data = [{"index": partition, "records": batch} for partition, batch in batches.items()]
    response = client.call(
        PRODUCE,
        PRODUCE_VERSION,
        {"acks": -1, "timeout": 5000, "topic_data": [{"name": topic, "partition_data": data}]},
    )
    return {
        answer.index: (int(answer.error_code), int(answer.base_offset))
        for answer in response.responses[0].partition_responses
    }


def fetch_at(client: RawClient, topic: str, partition: int, offset: int) -> Any:
    """The partition's answer to one Fetch (v12, no wait) at `offset`, as a client gets it:
    error_code, high_watermark, records..."""
    wanted = {"partition": partition, "fetch_offset": offset, "partition_max_bytes": 1 << 20}
    response = client.call(
        FETCH,
        FETCH_VERSION,
        {
            "max_wait": 0,
            "min_bytes": 0,
            "topics": [{"topic": topic, "partitions": [wanted]}],
            "forgotten_topics_data": [],
        },
    )
    [answer] = response.responses[0].partitions
    return answer


def fetch_everything(
    bootstrap: str, topic: str, partition: int, end: int, start: int = 0
) -> tuple[dict[int, bytes | None], dict[int, int]]:
    """Fetch offsets `start`..`end` - 1 one after the other as a consumer would, stepping
    over each offset that answers an error: (value by offset, error code by offset)."""
    values: dict[int, bytes | None] = {}
    errors: dict[int, int] = {}
    offset = start
    with RawClient(bootstrap) as client:
        while offset < end:
            answer = fetch_at(client, topic, partition, offset)
            if answer.error_code:
                errors[offset] = int(answer.error_code)
                offset += 1
                continue
            records = [r for r in iter_records(bytes(answer.records)) if r.offset >= offset]
            assert records, f"no record fetched at {topic}-{partition}@{offset}"
            values.update((r.offset, r.value) for r in records)
            offset = records[-1].offset + 1
    return values, errors
