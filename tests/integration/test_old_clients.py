"""Clients that still speak the request versions Kafka 4.0 removed (KIP-896): served as Kafka 3.9
served them by default, refused as Kafka 4 refuses them with `localbroker.api.versions.of`.

The real one is Debian's Sarama 1.22 (golang-github-shopify-sarama-dev), whose consumer group
commits with OffsetCommit v1: tests/go/sarama_group is built once in GOPATH mode against
Debian's sources into ~/.cache/kafka-workbench. Without Go or that package its test is skipped
with the reason, unless KWB_REQUIRE_SARAMA=1 (which .ci/run sets): then it fails. The other
removed versions are spoken by hand (tests/wire.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpPartition
from kio.schema.errors import ErrorCode
from reference_kafka import CACHE
from wire import RawClient, request_body

from localbroker.protocol.names import ApiKey
from tui.embedded import EmbeddedBroker

SARAMA_SOURCE = Path(__file__).resolve().parents[1] / "go" / "sarama_group" / "main.go"
DEBIAN_GOPATH = Path("/usr/share/gocode")
SARAMA_PACKAGE = DEBIAN_GOPATH / "src" / "github.com" / "Shopify" / "sarama"
REQUIRED = "KWB_REQUIRE_SARAMA"
BUILD_TIMEOUT = 600.0
"""Seconds for the first build: a minute here (cgo for zstd), more on a loaded machine."""
RUN_TIMEOUT = 120.0
TIMEOUT = 30.0
RECORDS = 20


def sarama_group_program() -> Path:
    """tests/go/sarama_group built against Debian's Sarama, cached by a hash of its source."""
    go = shutil.which("go")
    if go is None or not SARAMA_PACKAGE.is_dir():
        reason = "needs go and Debian's golang-github-shopify-sarama-dev (.ci/run installs them)"
        if os.environ.get(REQUIRED) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    digest = hashlib.sha256(SARAMA_SOURCE.read_bytes()).hexdigest()[:16]
    program = CACHE / f"sarama-group-{digest}" / "sarama_group"
    if not program.exists():
        program.parent.mkdir(parents=True, exist_ok=True)
        scratch = program.with_suffix(".partial")
        environment = {**os.environ, "GO111MODULE": "off", "GOPATH": str(DEBIAN_GOPATH)}
        subprocess.run(
            [go, "build", "-o", str(scratch), "."],
            cwd=SARAMA_SOURCE.parent,
            env=environment,
            check=True,
            timeout=BUILD_TIMEOUT,
            capture_output=True,
        )
        scratch.rename(program)
    return program


def create_topic_with_records(bootstrap: str, topic: str, count: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(TIMEOUT)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(count):
        producer.produce(topic, f"record {i}".encode())
    assert producer.flush(TIMEOUT) == 0


def committed(bootstrap: str, group: str, topic: str) -> tuple[ErrorCode, int]:
    """(error, committed offset) of partition 0, asked with OffsetFetch v1 (Kafka 4 keeps it)."""
    with RawClient(bootstrap) as client:
        response = client.call(
            ApiKey.OFFSET_FETCH,
            1,
            {"group_id": group, "topics": [{"name": topic, "partition_indexes": [0]}]},
        )
    partition = response.topics[0].partitions[0]
    return partition.error_code, partition.committed_offset


@pytest.mark.timeout(BUILD_TIMEOUT + RUN_TIMEOUT + 60)
def test_sarama_122_consumer_group_commits_its_offsets(broker: EmbeddedBroker) -> None:
    """Sarama 1.22 commits with OffsetCommit v1; before, the broker closed its connection and
    the group consumed every record and committed none."""
    program = sarama_group_program()
    create_topic_with_records(broker.bootstrap, "old-sarama", RECORDS)
    run = subprocess.run(
        [str(program), broker.bootstrap, "old-sarama", "sarama-group", str(RECORDS)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["consumed"] == RECORDS
    assert committed(broker.bootstrap, "sarama-group", "old-sarama") == (ErrorCode.none, RECORDS)


OLD_PRODUCERS = [((0, 8, 2), None), ((0, 9), "gzip"), ((0, 10, 1), "snappy"), ((0, 10, 1), "lz4")]
"""kafka-python pinned to old brokers: Produce v0 and v1 with magic 0 messages, v2 with magic 1,
compressed in wrapper messages."""


@pytest.mark.parametrize(("api_version", "codec"), OLD_PRODUCERS, ids=str)
def test_produce_v0_to_v2_message_sets_are_stored_as_record_batches(
    broker: EmbeddedBroker, api_version: tuple[int, ...], codec: str | None
) -> None:
    """As Kafka 3.9 converted them; a consumer of today reads them back (magic 0 has no
    timestamps: -1, as Kafka stores them)."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("old-produce", 1, 1)])["old-produce"].result(TIMEOUT)
    magic_1 = api_version >= (0, 10)
    producer = KafkaProducer(
        bootstrap_servers=broker.bootstrap,
        api_version=api_version,
        compression_type=codec,
        linger_ms=50,
    )
    try:
        sent = [
            producer.send(
                "old-produce",
                key=f"k{i}".encode(),
                value=f"v{i}".encode(),
                timestamp_ms=1_700_000_000_000 + i if magic_1 else None,
            )
            for i in range(3)
        ]
        assert [future.get(TIMEOUT).offset for future in sent] == [0, 1, 2]
    finally:
        producer.close(TIMEOUT)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "old-produce"})
    try:
        consumer.assign([TopicPartition("old-produce", 0, 0)])
        read = []
        deadline = time.monotonic() + TIMEOUT
        while len(read) < 3 and time.monotonic() < deadline:
            record = consumer.poll(1.0)
            if record is not None and record.error() is None:
                read.append((record.key(), record.value(), record.timestamp()[1]))
    finally:
        consumer.close()
    assert read == [
        (f"k{i}".encode(), f"v{i}".encode(), 1_700_000_000_000 + i if magic_1 else -1)
        for i in range(3)
    ]


def commit_request(offset: int) -> dict[str, Any]:
    partition = {
        "partition_index": 0,
        "committed_offset": offset,
        "commit_timestamp": -1,
        "committed_metadata": "by hand",
    }
    return {
        "group_id": "by-hand",
        "generation_id_or_member_epoch": -1,
        "member_id": "",
        "topics": [{"name": "old-commits", "partitions": [partition]}],
    }


def test_offset_commit_and_fetch_at_removed_versions(broker: EmbeddedBroker) -> None:
    """v1 commits as v2 does; v0 (ZooKeeper's) is answered UNSUPPORTED_VERSION per partition,
    as Kafka 3.9 in KRaft mode answers it."""
    create_topic_with_records(broker.bootstrap, "old-commits", 3)
    with RawClient(broker.bootstrap) as client:
        response = client.call(ApiKey.OFFSET_COMMIT, 1, commit_request(2))
        assert response.topics[0].partitions[0].error_code == ErrorCode.none
        response = client.call(ApiKey.OFFSET_COMMIT, 0, commit_request(3))
        assert response.topics[0].partitions[0].error_code == ErrorCode.unsupported_version
        fetch = {
            "group_id": "by-hand",
            "topics": [{"name": "old-commits", "partition_indexes": [0]}],
        }
        response = client.call(ApiKey.OFFSET_FETCH, 0, fetch)
        assert response.topics[0].partitions[0].error_code == ErrorCode.unsupported_version
        response = client.call(ApiKey.OFFSET_FETCH, 1, fetch)
    partition = response.topics[0].partitions[0]
    assert (partition.error_code, partition.committed_offset, partition.metadata) == (
        ErrorCode.none,
        2,
        "by hand",
    )


def list_offsets_v0(client: RawClient, timestamp: int, max_num_offsets: int) -> Any:
    partition = {"partition_index": 0, "timestamp": timestamp, "max_num_offsets": max_num_offsets}
    response = client.call(
        ApiKey.LIST_OFFSETS,
        0,
        {"replica_id": -1, "topics": [{"name": "old-offsets", "partitions": [partition]}]},
    )
    return response.topics[0].partitions[0]


def test_list_offsets_v0_lists_segment_offsets(broker: EmbeddedBroker) -> None:
    """As Kafka 3.9's legacyFetchOffsetsBefore: segment base offsets and the log end offset
    last modified by the timestamp, newest first, at most max_num_offsets."""
    create_topic_with_records(broker.bootstrap, "old-offsets", 5)
    an_hour_on = int(time.time() * 1000) + 3_600_000
    with RawClient(broker.bootstrap) as client:
        assert list_offsets_v0(client, -1, 10).old_style_offsets == (5, 0)
        assert list_offsets_v0(client, -1, 1).old_style_offsets == (5,)
        assert list_offsets_v0(client, -2, 10).old_style_offsets == (0,)
        assert list_offsets_v0(client, an_hour_on, 10).old_style_offsets == (5, 0)
        assert list_offsets_v0(client, 0, 10).old_style_offsets == ()
        assert list_offsets_v0(client, -3, 1).error_code == ErrorCode.unsupported_version


Check = Callable[[Any], None]
_LITERAL = 3
_CLUSTER, _TOPIC = 4, 2
_ANY, _READ, _ALLOW = 1, 3, 3
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
REMOVED_VERSIONS: list[tuple[int, int, dict[str, Any], Check]] = [
    (
        ApiKey.CREATE_TOPICS,
        0,
        {
            "topics": [
                {"name": "made-by-v0", "num_partitions": 2, "replication_factor": 1,
                 "assignments": [], "configs": []}
            ],
            "timeout": 5000,
        },
        lambda r: _equal(r.topics[0].error_code, ErrorCode.none),
    ),
    (
        ApiKey.DELETE_TOPICS,
        0,
        {"topic_names": ["old-admin"], "timeout": 5000},
        lambda r: _equal(r.responses[0].error_code, ErrorCode.none),
    ),
    (
        ApiKey.DESCRIBE_CONFIGS,
        0,
        {"resources": [{"resource_type": _TOPIC, "resource_name": "old-admin",
                        "configuration_keys": ["cleanup.policy"]}]},
        lambda r: _equal(
            [(c.name, c.value, c.is_default) for c in r.results[0].configs],
            [("cleanup.policy", "delete", True)],
        ),
    ),
    (
        ApiKey.DESCRIBE_LOG_DIRS,
        0,
        {"topics": [{"topic": "old-admin", "partitions": [0]}]},
        lambda r: _equal([t.name for t in r.results[0].topics], ["old-admin"]),
    ),
    (
        ApiKey.OFFSET_FOR_LEADER_EPOCH,
        0,
        {"topics": [{"topic": "old-admin", "partitions": [{"partition": 0, "leader_epoch": 0}]}]},
        lambda r: _equal(r.topics[0].partitions[0].end_offset, 4),
    ),
    (
        ApiKey.DESCRIBE_ACLS,
        0,
        {"resource_type_filter": _CLUSTER, "resource_name_filter": None,
         "principal_filter": None, "host_filter": None, "operation": 1, "permission_type": 1},
        lambda r: _equal(r.error_code, ErrorCode.security_disabled),  # no authorizer here
    ),
]  # fmt: skip


def _equal(actual: Any, expected: Any) -> None:
    assert actual == expected


@pytest.mark.parametrize(
    ("api_key", "version", "request_data", "check"),
    REMOVED_VERSIONS,
    ids=[f"{ApiKey(k).kafka_name}-v{v}" for k, v, _, _ in REMOVED_VERSIONS],
)
def test_removed_admin_versions_are_served(
    broker: EmbeddedBroker, api_key: int, version: int, request_data: dict[str, Any], check: Check
) -> None:
    create_topic_with_records(broker.bootstrap, "old-admin", 4)
    with RawClient(broker.bootstrap) as client:
        check(client.call(api_key, version, request_data))


def test_kafka_4_rules_refuse_removed_versions_and_name_the_client(
    start_broker: Callable[..., EmbeddedBroker], caplog: pytest.LogCaptureFixture
) -> None:
    """With localbroker.api.versions.of=4.0, OffsetCommit v1 closes the connection as Kafka 4.0
    does, and the log line says who sent it and what to upgrade."""
    caplog.set_level(logging.WARNING, logger="localbroker.server")
    broker = start_broker({"localbroker.api.versions.of": "4.0"})
    software = {"client_software_name": "sarama", "client_software_version": "1.22.1"}
    with RawClient(broker.bootstrap, client_id="billing-consumer") as client:
        response = client.call(ApiKey.API_VERSIONS, 3, software)
        advertised = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
        assert advertised[ApiKey.OFFSET_COMMIT] == (2, 9)
        assert advertised[ApiKey.PRODUCE][0] == 0  # advertised, refused: KAFKA-18659
        client.send(request_body(ApiKey.OFFSET_COMMIT, 1, commit_request(1)))
        client.expect_closed()
    produce = {"acks": 1, "timeout": 5000, "topic_data": []}
    with RawClient(broker.bootstrap) as client:
        client.send(request_body(ApiKey.PRODUCE, 2, produce))
        client.expect_closed()
    lines = [r.getMessage() for r in caplog.records if "refused OffsetCommit v1" in r.getMessage()]
    assert len(lines) == 1, caplog.text
    assert "client.id 'billing-consumer', sarama 1.22.1" in lines[0]
    assert "localbroker.api.versions.of=4.0 serves OffsetCommit v2-v9" in lines[0]
    assert "Upgrade it to a release that speaks Kafka 2.1's protocol or later" in lines[0]
    assert "refused Produce v2" in caplog.text


def test_acls_at_v0_mean_literal_patterns(start_broker: Callable[..., EmbeddedBroker]) -> None:
    """CreateAcls, DescribeAcls and DeleteAcls v0 predate prefixed ACLs (KIP-290): Kafka 3.9
    read them as literal patterns."""
    broker = start_broker({"authorizer.class.name": AUTHORIZER, "super.users": "User:ANONYMOUS"})
    acl = {"principal": "User:alice", "host": "*", "operation": _READ, "permission_type": _ALLOW}
    topic = {"resource_type": _TOPIC, "resource_name": "orders"}
    with RawClient(broker.bootstrap) as client:
        created = client.call(ApiKey.CREATE_ACLS, 0, {"creations": [{**topic, **acl}]})
        assert created.results[0].error_code == ErrorCode.none
        literal = {
            "resource_type_filter": _TOPIC,
            "resource_name_filter": "orders",
            "pattern_type_filter": _LITERAL,
            "principal_filter": None,
            "host_filter": None,
            "operation": _ANY,
            "permission_type": _ANY,
        }
        described = client.call(ApiKey.DESCRIBE_ACLS, 1, literal)
        assert [(r.resource_name, r.pattern_type) for r in described.resources] == [
            ("orders", _LITERAL)
        ]
        deleted = client.call(ApiKey.DELETE_ACLS, 0, {"filters": [literal]})
        assert len(deleted.filter_results[0].matching_acls) == 1


OLD_CONSUMERS = [((0, 10, 1), "none"), ((0, 10, 1), "gzip"), ((0, 9), "snappy"), ((0, 9), "lz4")]
"""kafka-python pinned to old brokers: Fetch v3 (magic 1 messages) and v1 (magic 0), reading
batches stored uncompressed and compressed."""


@pytest.mark.parametrize(("api_version", "codec"), OLD_CONSUMERS, ids=str)
def test_fetch_v0_to_v3_down_convert_stored_batches(
    broker: EmbeddedBroker, api_version: tuple[int, ...], codec: str
) -> None:
    """As Kafka 3.9 down-converted them, from the middle of a batch: keys, values, offsets and
    (magic 1) timestamps as produced."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("old-fetch", 1, 1)])["old-fetch"].result(TIMEOUT)
    producer = Producer(
        {"bootstrap.servers": broker.bootstrap, "compression.type": codec, "linger.ms": 50}
    )
    for i in range(5):
        producer.produce("old-fetch", key=f"k{i}".encode(), value=f"v{i}".encode(), timestamp=i)
    assert producer.flush(TIMEOUT) == 0
    consumer = KafkaConsumer(
        bootstrap_servers=broker.bootstrap, api_version=api_version, enable_auto_commit=False
    )
    read: list[tuple[int, bytes, bytes, int | None]] = []
    try:
        partition = KpPartition("old-fetch", 0)
        consumer.assign([partition])
        consumer.seek(partition, 2)
        deadline = time.monotonic() + TIMEOUT
        while len(read) < 3 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                read += [(r.offset, r.key, r.value, r.timestamp) for r in records]
    finally:
        consumer.close()
    magic_1 = api_version >= (0, 10)
    assert read == [
        (i, f"k{i}".encode(), f"v{i}".encode(), i if magic_1 else None) for i in range(2, 5)
    ]
