"""A follower's log fed a real leader's batches: what real clients produced to a localbroker
(plain, idempotent, an aborted and a committed transaction, more than one segment), fetched
back by offset as a replica fetcher fetches, appended with `append_as_follower` into a log of
its own. Its segments must be the leader's byte for byte, its transaction index and
leader-epoch checkpoint too, and Kafka's DumpLogSegments must read them as the leader's.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kio.schema.errors import ErrorCode
from reference_kafka import KafkaTool
from wire import RawClient

from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.protocol.names import ApiKey
from tui.embedded import EmbeddedBroker

TOPIC = "replicated"
SEGMENT_BYTES = 1 << 20  # Kafka's least segment.bytes: two segments take ~1.2 MB
NOW = 1_700_000_000_000


def produce(bootstrap: str) -> None:
    plain = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(1200):
        plain.produce(TOPIC, b"%04d" % i * 250, b"k%d" % (i % 7))
    plain.flush(30)
    idempotent = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(20):
        idempotent.produce(TOPIC, b"idempotent-%d" % i)
    idempotent.flush(30)
    txn = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"f-{uuid.uuid4()}"})
    txn.init_transactions(30)
    for commit in (False, True):
        txn.begin_transaction()
        for i in range(5):
            txn.produce(TOPIC, b"txn-%d-%d" % (commit, i))
        txn.flush(30)
        if commit:
            txn.commit_transaction(30)
        else:
            txn.abort_transaction(30)


def fetch(client: RawClient, offset: int) -> tuple[bytes, int]:
    """One Fetch (v12, read_uncommitted) at `offset`: the records and the high watermark."""
    response = client.call(
        ApiKey.FETCH,
        12,
        {
            "replica_id": -1,
            "max_wait": 0,
            "min_bytes": 0,
            "max_bytes": 300_000,
            "isolation_level": 0,
            "session_id": 0,
            "session_epoch": -1,
            "topics": [
                {
                    "topic": TOPIC,
                    "partitions": [
                        {
                            "partition": 0,
                            "current_leader_epoch": -1,
                            "fetch_offset": offset,
                            "last_fetched_epoch": -1,
                            "log_start_offset": -1,
                            "partition_max_bytes": 100_000,
                        }
                    ],
                }
            ],
            "forgotten_topics_data": [],
            "rack_id": "",
        },
    )
    partition = response.responses[0].partitions[0]
    assert partition.error_code == ErrorCode.none
    return partition.records or b"", partition.high_watermark


def dump(kafka_tool: KafkaTool, directory: Path) -> list[str]:
    """DumpLogSegments' batches and records, with the file names set aside."""
    files = sorted(str(p) for p in directory.glob("*.log"))
    done = kafka_tool("kafka-dump-log", ["--files", ",".join(files), "--print-data-log"])
    assert done.returncode == 0, done.stderr
    assert "isvalid: false" not in done.stdout
    lines = [line for line in done.stdout.splitlines() if line.startswith(("baseOffset", "| "))]
    return [re.sub(re.escape(str(directory)), "<dir>", line) for line in lines]


def test_a_follower_of_a_real_leader_stores_its_bytes(
    broker: EmbeddedBroker, tmp_path: Path, kafka_tool: KafkaTool
) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    configs = {"segment.bytes": str(SEGMENT_BYTES)}
    admin.create_topics([NewTopic(TOPIC, 1, 1, config=configs)])[TOPIC].result(timeout=30)
    produce(broker.bootstrap)
    follower = PartitionLog(
        tmp_path / "follower" / f"{TOPIC}-0",
        TOPIC,
        0,
        LogConfig(segment_bytes=SEGMENT_BYTES),
        now_ms=NOW,
        leader_epoch=None,
    )
    try:
        with RawClient(broker.bootstrap) as client:
            high_watermark = -1
            while follower.log_end_offset != high_watermark:
                records, high_watermark = fetch(client, follower.log_end_offset)
                follower.append_as_follower(records, NOW)
                follower.set_high_watermark(high_watermark)
        follower.close()
    finally:
        for segment in follower.segments:
            segment.close()
    leader_dir = broker.data_dir / f"{TOPIC}-0"
    broker.stop()
    assert follower.high_watermark == high_watermark > 1200
    logs = sorted(p.name for p in leader_dir.glob("*.log"))
    assert len(logs) == 2, "the leader rolled a segment, the follower where it did"
    for suffix in (".log", ".txnindex", ".index", ".timeindex"):
        for name in sorted(p.name for p in leader_dir.glob(f"*{suffix}")):
            ours = (follower.directory / name).read_bytes()
            assert ours == (leader_dir / name).read_bytes(), name
    checkpoint = "leader-epoch-checkpoint"
    assert (follower.directory / checkpoint).read_text() == "0\n1\n0 0\n"
    assert (leader_dir / checkpoint).read_text() == "0\n1\n0 0\n"
    assert dump(kafka_tool, follower.directory) == dump(kafka_tool, leader_dir)
