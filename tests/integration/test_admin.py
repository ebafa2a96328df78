"""Admin operations against localbroker with real admin clients.

confluent-kafka's AdminClient is used for every area, with kafka-python's KafkaAdminClient and
aiokafka's AIOKafkaAdminClient alongside. Answers are checked down to Kafka's error codes and
messages, and effects on the data directory are checked on disk.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions
from aiokafka.admin import NewTopic as AioNewTopic
from aiokafka.admin.config_resource import ConfigResource as AioResource
from aiokafka.admin.config_resource import ConfigResourceType as AioResourceType
from aiokafka.admin.records_to_delete import RecordsToDelete
from aiokafka.errors import InvalidPartitionsError
from aiokafka.structs import TopicPartition as AioTopicPartition
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicCollection
from confluent_kafka import KafkaError as Code
from confluent_kafka import TopicPartition as TP
from confluent_kafka.admin import AdminClient, ConfigEntry, ConfigResource, NewTopic, OffsetSpec
from confluent_kafka.admin import AlterConfigOpType as Op
from confluent_kafka.admin import NewPartitions as CkNewPartitions
from confluent_kafka.admin import ResourceType as Kind
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource as KpResource
from kafka.errors import OffsetOutOfRangeError
from kafka.structs import TopicPartition as KpTopicPartition
from waiting import wait_until

from tui.embedded import EmbeddedBroker

T = TypeVar("T")
TIMEOUT = 10.0
StartBroker = Callable[..., EmbeddedBroker]
Change = tuple[str, Op, str | None]


# DescribeConfigs config sources as on the wire, 1 to 5 (confluent-kafka reports plain ints).
Source = IntEnum(
    "Source",
    "DYNAMIC_TOPIC_CONFIG DYNAMIC_BROKER_CONFIG DYNAMIC_DEFAULT_BROKER_CONFIG"
    " STATIC_BROKER_CONFIG DEFAULT_CONFIG",
)


_MAX = "9223372036854775807"
# Every topic config Kafka 4.0 describes, with its default.
TOPIC_DEFAULTS = dict(
    item.split("=", 1)
    for item in (
        "cleanup.policy=delete compression.gzip.level=-1 compression.lz4.level=9"
        " compression.type=producer compression.zstd.level=3 delete.retention.ms=86400000"
        f" file.delete.delay.ms=60000 flush.messages={_MAX} flush.ms={_MAX}"
        " follower.replication.throttled.replicas= index.interval.bytes=4096"
        " leader.replication.throttled.replicas= local.retention.bytes=-2 local.retention.ms=-2"
        f" max.compaction.lag.ms={_MAX} max.message.bytes=1048588"
        f" message.timestamp.after.max.ms=3600000 message.timestamp.before.max.ms={_MAX}"
        " message.timestamp.type=CreateTime min.cleanable.dirty.ratio=0.5"
        " min.compaction.lag.ms=0 min.insync.replicas=1 preallocate=false"
        " remote.log.copy.disable=false remote.log.delete.on.disable=false"
        " remote.storage.enable=false retention.bytes=-1 retention.ms=604800000"
        " segment.bytes=1073741824 segment.index.bytes=10485760 segment.jitter.ms=0"
        " segment.ms=604800000 unclean.leader.election.enable=false"
    ).split()
)


# -- helpers ---------------------------------------------------------------------------------

_ADMINS: dict[str, AdminClient] = {}


@pytest.fixture(autouse=True)
def _drop_admin_clients() -> Iterator[None]:
    """Admin handles live until the test ends: a handle destroyed early fails its futures."""
    yield
    _ADMINS.clear()


def ck_admin(bootstrap: str) -> AdminClient:
    if bootstrap not in _ADMINS:
        _ADMINS[bootstrap] = AdminClient({"bootstrap.servers": bootstrap})
    return _ADMINS[bootstrap]


@contextmanager
def kp_admin(bootstrap: str) -> Iterator[KafkaAdminClient]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(TIMEOUT * 1000))
    try:
        yield admin
    finally:
        admin.close()


def kp_send(admin: KafkaAdminClient, request: Any) -> Any:
    """A raw request through kafka-python to the broker, not routed by resource name."""
    return admin._manager.run(admin._manager.send, request)


def with_aio(bootstrap: str, action: Callable[[AIOKafkaAdminClient], Awaitable[T]]) -> T:
    """Run `action` with a started AIOKafkaAdminClient on a fresh event loop, bounded in time."""

    async def run() -> T:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        await admin.start()
        try:
            return await action(admin)
        finally:
            await admin.close()

    return asyncio.run(asyncio.wait_for(run(), 3 * TIMEOUT))


def one(futures: dict[Any, Future[Any]]) -> Future[Any]:
    [future] = futures.values()
    return future


def ck_failure(future: Future[Any]) -> tuple[int, str]:
    """(error code, message) of a confluent-kafka admin future that must fail."""
    with pytest.raises(KafkaException) as raised:
        future.result(TIMEOUT)
    return raised.value.args[0].code(), raised.value.args[0].str()


def ck_create(bootstrap: str, name: str, partitions: int = 1, **configs: str) -> None:
    config = {key.replace("_", "."): value for key, value in configs.items()}
    topic = NewTopic(name, partitions, 1, config=config)
    one(ck_admin(bootstrap).create_topics([topic])).result(TIMEOUT)


def ck_alter(
    bootstrap: str, kind: Kind, name: str, *changes: Change, validate_only: bool = False
) -> Future[Any]:
    """IncrementalAlterConfigs of one resource through confluent-kafka."""
    entries = [ConfigEntry(n, v, incremental_operation=op) for n, op, v in changes]
    resource = ConfigResource(kind, name, incremental_configs=entries)
    admin = ck_admin(bootstrap)
    return one(admin.incremental_alter_configs([resource], validate_only=validate_only))


def ck_configs(bootstrap: str, kind: Kind, name: str) -> dict[str, ConfigEntry]:
    resource = ConfigResource(kind, name)
    return one(ck_admin(bootstrap).describe_configs([resource])).result(TIMEOUT)


def described(bootstrap: str, kind: Kind, name: str) -> dict[str, tuple[str | None, int]]:
    """Each config's (value, source) as confluent-kafka describes it."""
    return {n: (e.value, e.source) for n, e in ck_configs(bootstrap, kind, name).items()}


def overrides(broker: EmbeddedBroker, topic: str) -> dict[str, str]:
    return broker.call(lambda: dict(broker.state.topics[topic].configs))


def log_config(broker: EmbeddedBroker, topic: str) -> Any:
    return broker.call(lambda: broker.state.partition_log(topic, 0).config)


def ck_uuid(topic_id: Any) -> uuid.UUID:
    """confluent-kafka's Uuid (two signed 64-bit halves) as a uuid.UUID."""
    mask = (1 << 64) - 1
    high = topic_id.get_most_significant_bits() & mask
    return uuid.UUID(int=(high << 64) | (topic_id.get_least_significant_bits() & mask))


def produce(bootstrap: str, topic: str, records: list[bytes], partition: int = 0) -> list[int]:
    """Produce one record per batch (so small segments roll); the offsets acknowledged."""
    settings = {"linger.ms": 0, "batch.num.messages": 1, "enable.idempotence": True}
    producer = Producer({"bootstrap.servers": bootstrap, **settings})
    offsets: list[int] = []

    def delivered(error: Code | None, message: Any) -> None:
        assert error is None, error
        offsets.append(message.offset())

    for value in records:
        producer.produce(topic, value, partition=partition, on_delivery=delivered)
    assert producer.flush(TIMEOUT) == 0, "records not acknowledged in time"
    return offsets


def consume(bootstrap: str, topic: str, partition: int, count: int) -> list[tuple[int, bytes]]:
    """(offset, value) of up to `count` records from the earliest offset, manually assigned."""
    settings = {"group.id": "admin", "enable.auto.commit": False, "enable.auto.offset.store": False}
    consumer = Consumer({"bootstrap.servers": bootstrap, **settings})
    records: list[tuple[int, bytes]] = []
    try:
        consumer.assign([TP(topic, partition, OFFSET_BEGINNING)])
        deadline = time.monotonic() + TIMEOUT
        while len(records) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None:
                assert message.error() is None, message.error()
                records.append((message.offset(), message.value()))
    finally:
        consumer.close()
    return records


def earliest_latest(bootstrap: str, topic: str, partition: int = 0) -> tuple[int, int]:
    """ListOffsets earliest and latest through confluent-kafka's admin client."""
    tp, admin = TP(topic, partition), ck_admin(bootstrap)
    earliest = one(admin.list_offsets({tp: OffsetSpec.earliest()})).result(TIMEOUT).offset
    return earliest, one(admin.list_offsets({tp: OffsetSpec.latest()})).result(TIMEOUT).offset


def segment_bases(broker: EmbeddedBroker, topic: str) -> list[int]:
    """Base offsets of partition 0's .log segment files on disk, oldest first."""
    return sorted(int(path.stem) for path in (broker.data_dir / f"{topic}-0").glob("*.log"))


def dirs(broker: EmbeddedBroker, prefix: str = "") -> list[str]:
    """Partition directories of user topics in the data directory, by name.

    Consumers with a group.id make the broker create `__consumer_offsets` (as Kafka does on
    the first FindCoordinator); its directories are not the test's business.
    """
    found = (p.name for p in broker.data_dir.iterdir() if p.is_dir())
    return sorted(name for name in found if name.startswith(prefix) and not name.startswith("__"))


def values(count: int) -> list[bytes]:
    return [f"{i:04d}".encode().ljust(100, b".") for i in range(count)]


def rolled_topic(broker: EmbeddedBroker, topic: str, count: int, **configs: str) -> list[int]:
    """A topic with 2000-byte segments holding `count` 100-byte records; its segment bases."""
    ck_create(broker.bootstrap, topic, segment_bytes="2000", **configs)
    assert produce(broker.bootstrap, topic, values(count)) == list(range(count))
    return segment_bases(broker, topic)


# -- 1. CreateTopics -------------------------------------------------------------------------


def test_create_topics_honours_partitions_and_replication(broker: EmbeddedBroker) -> None:
    """Each client's CreateTopics gives exactly the partitions asked for, all on node 0."""
    ck_create(broker.bootstrap, "ck", partitions=3)
    with kp_admin(broker.bootstrap) as kp:
        kp.create_topics({"kp": {"num_partitions": 2, "replication_factor": 1}})
    response = with_aio(broker.bootstrap, lambda a: a.create_topics([AioNewTopic("aio", 5, 1)]))
    assert [tuple(t) for t in response.topic_errors] == [("aio", 0, None)]

    metadata = ck_admin(broker.bootstrap).list_topics(timeout=TIMEOUT)
    for name, count in {"ck": 3, "kp": 2, "aio": 5}.items():
        topic = metadata.topics[name]
        assert topic.error is None
        assert sorted(topic.partitions) == list(range(count))
        for partition in topic.partitions.values():
            assert (partition.leader, partition.replicas, partition.isrs) == (0, [0], [0])
        assert dirs(broker, f"{name}-") == [f"{name}-{i}" for i in range(count)]


def test_create_topics_applies_configs(broker: EmbeddedBroker) -> None:
    """Configs given at creation become the topic's overrides and its log obeys them."""
    ck_create(broker.bootstrap, "ck-configs", retention_ms="3600000", cleanup_policy="compact")
    with kp_admin(broker.bootstrap) as kp:
        created = kp.create_topics({"kp-configs": {"configs": {"segment.bytes": "2000"}}})
    answered = created["topics"][0]["configs"]  # CreateTopics v5+ answers with the configs
    assert answered["segment.bytes"]["value"] == "2000"
    assert answered["segment.bytes"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert answered["retention.ms"]["config_source"] == "DEFAULT_CONFIG"

    ck = described(broker.bootstrap, Kind.TOPIC, "ck-configs")
    assert ck["retention.ms"] == ("3600000", Source.DYNAMIC_TOPIC_CONFIG)
    assert ck["cleanup.policy"] == ("compact", Source.DYNAMIC_TOPIC_CONFIG)
    kp_configs = described(broker.bootstrap, Kind.TOPIC, "kp-configs")
    assert kp_configs["segment.bytes"] == ("2000", Source.DYNAMIC_TOPIC_CONFIG)
    ck_log = log_config(broker, "ck-configs")
    assert (ck_log.retention_ms, ck_log.cleanup_policy) == (3600000, ("compact",))
    assert log_config(broker, "kp-configs").segment_bytes == 2000


def test_create_topics_validate_only_creates_nothing(broker: EmbeddedBroker) -> None:
    """validate_only answers as a creation would, but no topic or directory appears."""
    admin = ck_admin(broker.bootstrap)
    specs = [NewTopic("dry-ck", 2, 1), NewTopic("dry-bad", 1, 3)]
    futures = admin.create_topics(specs, validate_only=True)
    assert futures["dry-ck"].result(TIMEOUT) is None
    assert ck_failure(futures["dry-bad"])[0] == Code.INVALID_REPLICATION_FACTOR
    with kp_admin(broker.bootstrap) as kp:
        [answer] = kp.create_topics({"dry-kp": {"num_partitions": 3}}, validate_only=True)["topics"]
    assert (answer["error_code"], answer["num_partitions"]) == (0, 3)
    assert not {"dry-ck", "dry-bad", "dry-kp"} & set(admin.list_topics(timeout=TIMEOUT).topics)
    assert dirs(broker) == []


LONG = "x" * 250
INVALID = "Topic name is invalid: "
RF3 = (
    "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be"
    " reached because only 1 broker(s) are registered."
)
CHARS = "contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
NOT_LONG = "Invalid value abc for configuration retention.ms: Not a number of type LONG"
POLICY = (
    "Invalid value foo for configuration cleanup.policy: String must be one of: compact, delete"
)
REFUSED: dict[str, tuple[int, dict[str, str], int, str]] = {  # name: (rf, configs, code, message)
    "rf3": (3, {}, Code.INVALID_REPLICATION_FACTOR, RF3),
    "existing": (1, {}, Code.TOPIC_ALREADY_EXISTS, "Topic 'existing' already exists."),
    "a b": (1, {}, Code.TOPIC_EXCEPTION, f"{INVALID}'a b' {CHARS}"),
    "..": (1, {}, Code.TOPIC_EXCEPTION, f"{INVALID}'..' is not allowed"),
    LONG: (
        1,
        {},
        Code.TOPIC_EXCEPTION,
        f"{INVALID}the length of '{LONG}' is longer than the max allowed length 249",
    ),
    "unknown-config": (1, {"x": "1"}, Code.INVALID_CONFIG, "Unknown topic config name: x"),
    "bad-retention": (1, {"retention.ms": "abc"}, Code.INVALID_CONFIG, NOT_LONG),
    "bad-policy": (1, {"cleanup.policy": "foo"}, Code.INVALID_CONFIG, POLICY),
}


def test_create_topics_refusals(broker: EmbeddedBroker) -> None:
    """Every refusal carries Kafka's error code and message, with each client; none creates."""
    ck_create(broker.bootstrap, "existing")
    expected = {name: (code, message) for name, (_, _, code, message) in REFUSED.items()}

    specs = [NewTopic(n, 1, rf, config=c) for n, (rf, c, _, _) in REFUSED.items()]
    futures = ck_admin(broker.bootstrap).create_topics(specs)
    assert {name: ck_failure(future) for name, future in futures.items()} == expected

    wanted = {n: {"replication_factor": rf, "configs": c} for n, (rf, c, _, _) in REFUSED.items()}
    with kp_admin(broker.bootstrap) as kp:
        answer = kp.create_topics(wanted, raise_errors=False)
    assert {t["name"]: (t["error_code"], t["error_message"]) for t in answer["topics"]} == expected

    aio_specs = [AioNewTopic(n, 1, rf, topic_configs=c) for n, (rf, c, _, _) in REFUSED.items()]
    response = with_aio(broker.bootstrap, lambda a: a.create_topics(aio_specs))
    assert {name: (code, message) for name, code, message in response.topic_errors} == expected

    assert broker.call(lambda: list(broker.state.topics)) == ["existing"]
    assert dirs(broker) == ["existing-0"]


def test_topic_ids_returned_and_stable(broker: EmbeddedBroker) -> None:
    """CreateTopics returns the topic id, and every Metadata answer shows that same id."""
    with kp_admin(broker.bootstrap) as kp:
        created = kp.create_topics({"ids": {"num_partitions": 2}})
        topic_id = uuid.UUID(created["topics"][0]["topic_id"])
        assert topic_id.int != 0
        for _ in range(2):
            assert uuid.UUID(kp.describe_topics(["ids"])[0]["topic_id"]) == topic_id
        assert kp.describe_topics([topic_id])[0]["name"] == "ids"  # Metadata by topic id
    futures = ck_admin(broker.bootstrap).describe_topics(TopicCollection(["ids"]))
    assert ck_uuid(futures["ids"].result(TIMEOUT).topic_id) == topic_id
    assert broker.call(lambda: broker.state.topics["ids"].topic_id) == topic_id


# -- 2. Auto-creation ------------------------------------------------------------------------


def test_metadata_auto_creates_topic_with_num_partitions(start_broker: StartBroker) -> None:
    """A Metadata request for an unknown topic creates it with the broker's num.partitions."""
    broker = start_broker({"num.partitions": "3"})
    metadata = Producer({"bootstrap.servers": broker.bootstrap}).list_topics("auto-ck", TIMEOUT)
    assert metadata.topics["auto-ck"].error is None
    assert sorted(metadata.topics["auto-ck"].partitions) == [0, 1, 2]
    topics = with_aio(broker.bootstrap, lambda a: a.describe_topics(["auto-aio"]))
    assert [(t["topic"], t["error_code"], len(t["partitions"])) for t in topics] == [
        ("auto-aio", 0, 3)
    ]
    assert dirs(broker) == [f"auto-{c}-{p}" for c in ("aio", "ck") for p in range(3)]


def test_metadata_without_auto_create(start_broker: StartBroker) -> None:
    """With auto.create.topics.enable=false an unknown topic stays unknown."""
    broker = start_broker({"auto.create.topics.enable": "false"})
    metadata = Producer({"bootstrap.servers": broker.bootstrap}).list_topics("nope", TIMEOUT)
    assert metadata.topics["nope"].error.code() == Code.UNKNOWN_TOPIC_OR_PART
    topics = with_aio(broker.bootstrap, lambda a: a.describe_topics(["nope2"]))
    assert [(t["topic"], t["error_code"]) for t in topics] == [("nope2", 3)]
    assert broker.call(lambda: list(broker.state.topics)) == []
    assert dirs(broker) == []


# -- 3. DeleteTopics -------------------------------------------------------------------------


def test_delete_topics_by_name_and_id(broker: EmbeddedBroker) -> None:
    """Topics deleted by name (confluent-kafka, aiokafka) or id (kafka-python) leave no trace."""
    for name in ("by-name", "by-id", "by-aio"):
        ck_create(broker.bootstrap, name, partitions=2)
        produce(broker.bootstrap, name, [b"v"])
    admin = ck_admin(broker.bootstrap)
    assert one(admin.delete_topics(["by-name"])).result(TIMEOUT) is None
    topic_id = broker.call(lambda: broker.state.topics["by-id"].topic_id)
    with kp_admin(broker.bootstrap) as kp:
        answer = kp.delete_topics([topic_id])  # DeleteTopics v6 by topic id
    assert answer["topics"] == [
        {"name": "by-id", "topic_id": str(topic_id), "error_code": 0, "error_message": None}
    ]
    response = with_aio(broker.bootstrap, lambda a: a.delete_topics(["by-aio"]))
    assert [tuple(t) for t in response.topic_error_codes] == [("by-aio", 0)]
    assert not {"by-name", "by-id", "by-aio"} & set(admin.list_topics(timeout=TIMEOUT).topics)
    assert dirs(broker) == []


def test_delete_unknown_topic(broker: EmbeddedBroker) -> None:
    """An unknown topic is UNKNOWN_TOPIC_OR_PARTITION by name, UNKNOWN_TOPIC_ID by id."""
    failure = ck_failure(one(ck_admin(broker.bootstrap).delete_topics(["ghost"])))
    assert failure[0] == Code.UNKNOWN_TOPIC_OR_PART
    with kp_admin(broker.bootstrap) as kp:
        answer = kp.delete_topics(["ghost", uuid.uuid4()], raise_errors=False)
    codes = [t["error_code"] for t in answer["topics"]]
    assert codes == [Code.UNKNOWN_TOPIC_OR_PART, Code.UNKNOWN_TOPIC_ID]
    response = with_aio(broker.bootstrap, lambda a: a.delete_topics(["ghost"]))
    assert [tuple(t) for t in response.topic_error_codes] == [("ghost", 3)]


def test_recreated_topic_has_new_id_and_empty_log(broker: EmbeddedBroker) -> None:
    """A topic deleted and created again under the same name starts from nothing."""
    with kp_admin(broker.bootstrap) as kp:
        first = kp.create_topics({"again": {}})["topics"][0]["topic_id"]
        assert produce(broker.bootstrap, "again", values(5)) == [0, 1, 2, 3, 4]
        kp.delete_topics(["again"])
        assert dirs(broker) == []
        second = kp.create_topics({"again": {}})["topics"][0]["topic_id"]
    assert second != first
    assert earliest_latest(broker.bootstrap, "again") == (0, 0)
    logs = [(p.name, p.stat().st_size) for p in (broker.data_dir / "again-0").glob("*.log")]
    assert logs == [("00000000000000000000.log", 0)]
    assert produce(broker.bootstrap, "again", [b"fresh"]) == [0]
    assert consume(broker.bootstrap, "again", 0, 1) == [(0, b"fresh")]


# -- 4. CreatePartitions ---------------------------------------------------------------------


def test_create_partitions_increase(broker: EmbeddedBroker) -> None:
    """New partitions appear in metadata and on disk, and take records."""
    ck_create(broker.bootstrap, "grow", partitions=2)
    admin = ck_admin(broker.bootstrap)
    assert one(admin.create_partitions([CkNewPartitions("grow", 5)])).result(TIMEOUT) is None
    assert produce(broker.bootstrap, "grow", [b"p4-a", b"p4-b"], partition=4) == [0, 1]
    assert consume(broker.bootstrap, "grow", 4, 2) == [(0, b"p4-a"), (1, b"p4-b")]
    with kp_admin(broker.bootstrap) as kp:
        response = kp.create_partitions({"grow": 6})
    assert [(r.name, r.error_code) for r in response.results] == [("grow", 0)]
    with_aio(broker.bootstrap, lambda a: a.create_partitions({"grow": NewPartitions(7)}))
    topic = admin.list_topics("grow", TIMEOUT).topics["grow"]
    assert sorted(topic.partitions) == list(range(7))
    assert all(p.leader == 0 and p.replicas == [0] for p in topic.partitions.values())
    assert dirs(broker) == [f"grow-{i}" for i in range(7)]


def test_create_partitions_refusals(broker: EmbeddedBroker) -> None:
    """Shrinking or keeping the count is INVALID_PARTITIONS, an unknown topic
    UNKNOWN_TOPIC_OR_PARTITION, with Kafka's messages."""
    ck_create(broker.bootstrap, "t", partitions=5)
    shrink = "The topic t currently has 5 partition(s); 2 would not be an increase."
    same = "Topic already has 5 partition(s)."
    admin = ck_admin(broker.bootstrap)
    for count, message in ((2, shrink), (5, same)):
        failure = ck_failure(one(admin.create_partitions([CkNewPartitions("t", count)])))
        assert failure == (Code.INVALID_PARTITIONS, message)
    failure = ck_failure(one(admin.create_partitions([CkNewPartitions("ghost", 3)])))
    assert failure[0] == Code.UNKNOWN_TOPIC_OR_PART
    with kp_admin(broker.bootstrap) as kp:
        response = kp.create_partitions({"t": 2, "ghost": 3}, raise_errors=False)
    # Kafka's controller refuses an unknown topic without a message of its own
    # (ReplicationControlManager: new UnknownTopicOrPartitionException()).
    answers = [(r.error_code, r.error_message) for r in response.results]
    assert answers == [(37, shrink), (3, None)]
    with pytest.raises(InvalidPartitionsError, match=r"Topic already has 5 partition\(s\)\."):
        with_aio(broker.bootstrap, lambda a: a.create_partitions({"t": NewPartitions(5)}))
    assert broker.call(lambda: broker.state.topics["t"].partitions) == 5


# -- 5. DescribeConfigs ----------------------------------------------------------------------


def test_describe_topic_configs_defaults(broker: EmbeddedBroker) -> None:
    """A topic without overrides shows every Kafka topic config at its default."""
    ck_create(broker.bootstrap, "plain")
    entries = ck_configs(broker.bootstrap, Kind.TOPIC, "plain")
    assert {name: entry.value or "" for name, entry in entries.items()} == TOPIC_DEFAULTS
    assert {entry.source for entry in entries.values()} == {Source.DEFAULT_CONFIG}
    assert not any(entry.is_read_only or entry.is_sensitive for entry in entries.values())
    with kp_admin(broker.bootstrap) as kp:
        configs = kp.describe_configs([KpResource("TOPIC", "plain")], config_filter="all")
    plain = configs["topic"]["plain"]
    assert {name: config["value"] for name, config in plain.items()} == TOPIC_DEFAULTS
    assert plain["retention.ms"]["config_type"] == "LONG"
    assert plain["cleanup.policy"]["config_type"] == "LIST"


def test_describe_topic_overrides_and_synonyms(broker: EmbeddedBroker) -> None:
    """Overrides are DYNAMIC_TOPIC_CONFIG; synonyms list the broker configs beneath them."""
    ck_create(broker.bootstrap, "syn", cleanup_policy="compact", retention_ms="1000")
    entries = ck_configs(broker.bootstrap, Kind.TOPIC, "syn")

    def synonyms(name: str) -> list[tuple[str, str | None, int]]:
        return [(s.name, s.value, s.source) for s in entries[name].synonyms.values()]

    assert entries["cleanup.policy"].source == Source.DYNAMIC_TOPIC_CONFIG
    assert synonyms("cleanup.policy") == [
        ("cleanup.policy", "compact", Source.DYNAMIC_TOPIC_CONFIG),
        ("log.cleanup.policy", "delete", Source.DEFAULT_CONFIG),
    ]
    assert synonyms("segment.bytes") == [("log.segment.bytes", "1073741824", 5)]
    # Like Kafka: log.retention.hours is no synonym of retention.ms unless log.retention.ms is set.
    assert synonyms("retention.ms") == [("retention.ms", "1000", Source.DYNAMIC_TOPIC_CONFIG)]

    with kp_admin(broker.bootstrap) as kp:
        configs = kp.describe_configs([KpResource("TOPIC", "syn")], include_synonyms=True)
    modified = configs["topic"]["syn"]  # kafka-python's default filter keeps overrides only
    assert sorted(modified) == ["cleanup.policy", "retention.ms"]
    assert [(s["name"], s["source"]) for s in modified["cleanup.policy"]["synonyms"]] == [
        ("cleanup.policy", "DYNAMIC_TOPIC_CONFIG"),
        ("log.cleanup.policy", "DEFAULT_CONFIG"),
    ]


def test_describe_broker_configs(broker: EmbeddedBroker) -> None:
    """Broker "0" shows Kafka's defaults and which configs can change at runtime."""
    entries = ck_configs(broker.bootstrap, Kind.BROKER, "0")
    expected = {
        "log.retention.hours": ("168", True),
        "num.partitions": ("1", True),
        "auto.create.topics.enable": ("true", True),
        "log.retention.ms": (None, False),
        "log.segment.bytes": ("1073741824", False),
    }
    for name, (value, read_only) in expected.items():
        entry = entries[name]
        assert (entry.value, entry.source, entry.is_read_only) == (value, 5, read_only), name
    with kp_admin(broker.bootstrap) as kp:
        configs = kp.describe_configs([KpResource("BROKER", "0")], config_filter="all")
    node = configs["broker"]["0"]
    assert {name: (node[name]["value"], node[name]["read_only"]) for name in expected} == expected


def test_static_broker_config_is_inherited(start_broker: StartBroker) -> None:
    """A server property is STATIC_BROKER_CONFIG on the broker and inherited by topics."""
    broker = start_broker({"log.retention.ms": "1234"})
    entry = ck_configs(broker.bootstrap, Kind.BROKER, "0")["log.retention.ms"]
    assert (entry.value, entry.source) == ("1234", Source.STATIC_BROKER_CONFIG)
    assert [(s.name, s.value, s.source) for s in entry.synonyms.values()] == [
        ("log.retention.ms", "1234", Source.STATIC_BROKER_CONFIG),
        ("log.retention.hours", "168", Source.DEFAULT_CONFIG),
    ]
    ck_create(broker.bootstrap, "inherits")
    retention = described(broker.bootstrap, Kind.TOPIC, "inherits")["retention.ms"]
    assert retention == ("1234", Source.STATIC_BROKER_CONFIG)
    assert log_config(broker, "inherits").retention_ms == 1234


def test_describe_configs_errors(broker: EmbeddedBroker) -> None:
    """An unknown topic is UNKNOWN_TOPIC_OR_PARTITION; another broker id is INVALID_REQUEST."""
    resource = ConfigResource(Kind.TOPIC, "ghost")
    failure = ck_failure(one(ck_admin(broker.bootstrap).describe_configs([resource])))
    assert failure[0] == Code.UNKNOWN_TOPIC_OR_PART
    # Clients send a broker resource to that broker, so send this one to node 0 directly.
    with kp_admin(broker.bootstrap) as kp:
        resources = [KpResource("TOPIC", "ghost"), KpResource("BROKER", "7")]
        response = kp_send(kp, kp._describe_configs_request(resources, include_synonyms=True))
    unexpected = "Unexpected broker id, expected 0 or empty string, but received 7"
    assert [(r.resource_name, r.error_code) for r in response.results] == [
        ("ghost", Code.UNKNOWN_TOPIC_OR_PART),
        ("7", Code.INVALID_REQUEST),
    ]
    assert response.results[1].error_message == unexpected


# -- 6. AlterConfigs and IncrementalAlterConfigs ---------------------------------------------

# Changes applied to a topic in turn, with the values DescribeConfigs shows afterwards.
STEPS: list[tuple[list[Change], dict[str, str]]] = [
    (
        [("retention.ms", Op.SET, "1000"), ("cleanup.policy", Op.APPEND, "compact")],
        {"retention.ms": "1000", "cleanup.policy": "delete,compact"},
    ),
    ([("cleanup.policy", Op.SUBTRACT, "delete")], {"cleanup.policy": "compact"}),
    ([("retention.ms", Op.DELETE, None)], {"retention.ms": "604800000"}),
    ([("cleanup.policy", Op.DELETE, None)], {"cleanup.policy": "delete"}),
]


def _alter_confluent(bootstrap: str, topic: str, changes: list[Change]) -> None:
    assert ck_alter(bootstrap, Kind.TOPIC, topic, *changes).result(TIMEOUT) is None


def _alter_kafka_python(bootstrap: str, topic: str, changes: list[Change]) -> None:
    configs = {name: (op.name, value) for name, op, value in changes}
    with kp_admin(bootstrap) as kp:
        answer = kp.alter_configs([KpResource("TOPIC", topic, configs)], incremental=True)
    assert answer == {"topic": {topic: "OK"}}


@pytest.mark.parametrize("alter", [_alter_confluent, _alter_kafka_python])
def test_incremental_alter_topic_configs(
    broker: EmbeddedBroker, alter: Callable[[str, str, list[Change]], None]
) -> None:
    """SET, APPEND and SUBTRACT (on the cleanup.policy list) and DELETE change the overrides."""
    ck_create(broker.bootstrap, "inc")
    for changes, expected in STEPS:
        alter(broker.bootstrap, "inc", changes)
        now = described(broker.bootstrap, Kind.TOPIC, "inc")
        assert {name: now[name][0] for name in expected} == expected, changes
    assert overrides(broker, "inc") == {}
    sources = {source for _, source in described(broker.bootstrap, Kind.TOPIC, "inc").values()}
    assert sources == {Source.DEFAULT_CONFIG}
    config = log_config(broker, "inc")
    assert (config.retention_ms, config.cleanup_policy) == (604800000, ("delete",))


def test_legacy_alter_configs_replaces_all_overrides(broker: EmbeddedBroker) -> None:
    """AlterConfigs sets exactly the configs sent: every other override goes back to default."""
    ck_create(broker.bootstrap, "legacy", retention_ms="1000", cleanup_policy="compact")
    resource = ConfigResource(Kind.TOPIC, "legacy", set_config={"segment.bytes": "5000"})
    assert one(ck_admin(broker.bootstrap).alter_configs([resource])).result(TIMEOUT) is None
    assert overrides(broker, "legacy") == {"segment.bytes": "5000"}
    retention = described(broker.bootstrap, Kind.TOPIC, "legacy")["retention.ms"]
    assert retention == ("604800000", Source.DEFAULT_CONFIG)
    aio_resource = AioResource(AioResourceType.TOPIC, "legacy", {"max.message.bytes": "2000"})
    [response] = with_aio(broker.bootstrap, lambda a: a.alter_configs([aio_resource]))
    assert [tuple(r) for r in response.resources] == [(0, None, 2, "legacy")]
    assert overrides(broker, "legacy") == {"max.message.bytes": "2000"}


def test_alter_configs_validate_only(broker: EmbeddedBroker) -> None:
    """validate_only checks the change, refusing bad values, and applies nothing."""
    ck_create(broker.bootstrap, "dry", retention_ms="1000")

    def check(value: str) -> Future[Any]:
        change = ("retention.ms", Op.SET, value)
        return ck_alter(broker.bootstrap, Kind.TOPIC, "dry", change, validate_only=True)

    assert check("5000").result(TIMEOUT) is None
    assert ck_failure(check("abc")) == (Code.INVALID_CONFIG, NOT_LONG)
    changes = [({"retention.ms": ("DELETE", None)}, True), ({"cleanup.policy": "compact"}, False)]
    with kp_admin(broker.bootstrap) as kp:
        for configs, incremental in changes:  # IncrementalAlterConfigs, then AlterConfigs
            resource = KpResource("TOPIC", "dry", configs)
            answer = kp.alter_configs([resource], validate_only=True, incremental=incremental)
            assert answer == {"topic": {"dry": "OK"}}
    retention = described(broker.bootstrap, Kind.TOPIC, "dry")["retention.ms"]
    assert retention == ("1000", Source.DYNAMIC_TOPIC_CONFIG)
    assert overrides(broker, "dry") == {"retention.ms": "1000"}


def test_alter_configs_unknown_topic(broker: EmbeddedBroker) -> None:
    """Altering a topic that does not exist is UNKNOWN_TOPIC_OR_PARTITION, naming the topic."""
    message = "The topic 'ghost' does not exist."
    future = ck_alter(broker.bootstrap, Kind.TOPIC, "ghost", ("retention.ms", Op.SET, "1000"))
    assert ck_failure(future) == (Code.UNKNOWN_TOPIC_OR_PART, message)
    with kp_admin(broker.bootstrap) as kp:
        resource = KpResource("TOPIC", "ghost", {"retention.ms": "1000"})
        answer = kp.alter_configs([resource], raise_on_unknown=False)
    assert answer == {"topic": {"ghost": f"[Error 3] UnknownTopicOrPartitionError: {message}"}}
    aio_resource = AioResource(AioResourceType.TOPIC, "ghost", {"retention.ms": "1000"})
    [response] = with_aio(broker.bootstrap, lambda a: a.alter_configs([aio_resource]))
    assert [tuple(r) for r in response.resources] == [(3, message, 2, "ghost")]


def test_dynamic_broker_configs(broker: EmbeddedBroker) -> None:
    """Per-broker and cluster-default dynamic configs resolve in Kafka's order; topics follow."""
    ck_create(broker.bootstrap, "follows")
    with kp_admin(broker.bootstrap) as kp:
        resource = KpResource("BROKER", "0", {"log.retention.ms": "7000"})
        assert kp.alter_configs([resource], incremental=True) == {"broker": {"0": "OK"}}
        # The cluster-wide default (an empty broker name) is not routed by kafka-python.
        default = KpResource("BROKER", "", {"log.retention.ms": "5000"})
        altered = kp_send(kp, kp._alter_configs_request([default], incremental=True))
        assert [r.error_code for r in altered.responses] == [0]
        described_default = kp_send(kp, kp._describe_configs_request([KpResource("BROKER", "")]))
        configs = kp.describe_configs([KpResource("BROKER", "0")], include_synonyms=True)
    [result] = described_default.results
    assert [(c.name, c.value, c.config_source) for c in result.configs] == [
        ("log.retention.ms", "5000", Source.DYNAMIC_DEFAULT_BROKER_CONFIG)
    ]
    # confluent-kafka keys synonyms by name, so the full list is read through kafka-python.
    synonyms = configs["broker"]["0"]["log.retention.ms"]["synonyms"]
    assert [(s["name"], s["value"], s["source"]) for s in synonyms] == [
        ("log.retention.ms", "7000", "DYNAMIC_BROKER_CONFIG"),
        ("log.retention.ms", "5000", "DYNAMIC_DEFAULT_BROKER_CONFIG"),
        ("log.retention.hours", "168", "DEFAULT_CONFIG"),
    ]
    node = described(broker.bootstrap, Kind.BROKER, "0")
    assert node["log.retention.ms"] == ("7000", Source.DYNAMIC_BROKER_CONFIG)
    topic = described(broker.bootstrap, Kind.TOPIC, "follows")
    assert topic["retention.ms"] == ("7000", Source.DYNAMIC_BROKER_CONFIG)

    delete = ("log.retention.ms", Op.DELETE, None)
    assert ck_alter(broker.bootstrap, Kind.BROKER, "0", delete).result(TIMEOUT) is None
    node = described(broker.bootstrap, Kind.BROKER, "0")
    assert node["log.retention.ms"] == ("5000", Source.DYNAMIC_DEFAULT_BROKER_CONFIG)
    topic = described(broker.bootstrap, Kind.TOPIC, "follows")
    assert topic["retention.ms"] == ("5000", Source.DYNAMIC_DEFAULT_BROKER_CONFIG)
    assert log_config(broker, "follows").retention_ms == 5000

    # A read-only broker config cannot change at runtime.
    future = ck_alter(broker.bootstrap, Kind.BROKER, "0", ("num.partitions", Op.SET, "5"))
    code, message = ck_failure(future)
    assert code == Code.INVALID_REQUEST
    assert message.startswith("Cannot update these configs dynamically: ")
    assert "num.partitions" in message
    assert described(broker.bootstrap, Kind.BROKER, "0")["num.partitions"] == ("1", 5)


# -- 7. Retention ----------------------------------------------------------------------------


def test_retention_bytes_deletes_old_segments_at_once(broker: EmbeddedBroker) -> None:
    """Lowering retention.bytes deletes the oldest segments during the config change."""
    bases = rolled_topic(broker, "by-size", 60)
    assert len(bases) >= 4, bases
    change = ("retention.bytes", Op.SET, "2000")
    assert ck_alter(broker.bootstrap, Kind.TOPIC, "by-size", change).result(TIMEOUT) is None

    remaining = segment_bases(broker, "by-size")  # at once, not at the next retention check
    assert bases[-1] in remaining, "the active segment must remain"
    assert 1 <= len(remaining) < len(bases)
    assert remaining == bases[len(bases) - len(remaining) :]
    # As in Kafka, a segment goes only if the log keeps at least retention.bytes without it.
    sizes = [(broker.data_dir / "by-size-0" / f"{b:020d}.log").stat().st_size for b in remaining]
    assert sum(sizes) >= 2000 > sum(sizes) - sizes[0]
    assert earliest_latest(broker.bootstrap, "by-size") == (remaining[0], 60)
    assert consume(broker.bootstrap, "by-size", 0, 1) == [(remaining[0], values(60)[remaining[0]])]


def test_retention_ms_deletes_expired_segments_at_once(broker: EmbeddedBroker) -> None:
    """retention.ms=1 expires every segment at once; the log restarts at the log end offset."""
    assert len(rolled_topic(broker, "by-time", 40)) >= 4
    time.sleep(0.05)  # the newest record's timestamp must fall more than 1 ms behind
    with kp_admin(broker.bootstrap) as kp:
        resource = KpResource("TOPIC", "by-time", {"retention.ms": "1"})
        assert kp.alter_configs([resource], incremental=True) == {"topic": {"by-time": "OK"}}
    # Kafka deletes an expired active segment too, after rolling a new, empty one.
    assert segment_bases(broker, "by-time") == [40]
    assert earliest_latest(broker.bootstrap, "by-time") == (40, 40)
    assert produce(broker.bootstrap, "by-time", [b"after"]) == [40]
    assert consume(broker.bootstrap, "by-time", 0, 1) == [(40, b"after")]


def test_retention_enforced_on_timer(start_broker: StartBroker) -> None:
    """With a short log.retention.check.interval.ms, expired segments go without any request."""
    broker = start_broker({"log.retention.check.interval.ms": "200"})
    rolled_topic(broker, "timer", 40, retention_ms="1000")
    wait_until(lambda: segment_bases(broker, "timer") == [40], "the expired segments deleted", 15.0)
    assert earliest_latest(broker.bootstrap, "timer") == (40, 40)


# -- 8. DeleteRecords ------------------------------------------------------------------------


def test_delete_records_moves_low_watermark(broker: EmbeddedBroker) -> None:
    """DeleteRecords moves the log start offset; ListOffsets and Fetch start from it."""
    bases, records = rolled_topic(broker, "trim", 60), values(60)
    assert len(bases) >= 4, bases
    deleted = one(ck_admin(broker.bootstrap).delete_records([TP("trim", 0, 7)]))
    assert deleted.result(TIMEOUT).low_watermark == 7
    assert earliest_latest(broker.bootstrap, "trim") == (7, 60)
    assert consume(broker.bootstrap, "trim", 0, 1) == [(7, records[7])]

    with kp_admin(broker.bootstrap) as kp:
        answer = kp.delete_records({KpTopicPartition("trim", 0): 30})
    assert answer[KpTopicPartition("trim", 0)]["low_watermark"] == 30
    wanted = {AioTopicPartition("trim", 0): RecordsToDelete(35)}
    assert with_aio(broker.bootstrap, lambda a: a.delete_records(wanted)) == {
        AioTopicPartition("trim", 0): 35
    }
    assert earliest_latest(broker.bootstrap, "trim") == (35, 60)
    assert consume(broker.bootstrap, "trim", 0, 2) == [(35, records[35]), (36, records[36])]
    # Whole segments below the new start are gone; the one holding offset 35 stays.
    holding = max(b for b in bases if b <= 35)
    assert segment_bases(broker, "trim") == [b for b in bases if b >= holding]


def test_delete_records_beyond_high_watermark(broker: EmbeddedBroker) -> None:
    """Deleting past the high watermark is OFFSET_OUT_OF_RANGE and moves nothing."""
    ck_create(broker.bootstrap, "short")
    produce(broker.bootstrap, "short", values(5))
    future = one(ck_admin(broker.bootstrap).delete_records([TP("short", 0, 100)]))
    assert ck_failure(future)[0] == Code.OFFSET_OUT_OF_RANGE
    with kp_admin(broker.bootstrap) as kp, pytest.raises(OffsetOutOfRangeError):
        kp.delete_records({KpTopicPartition("short", 0): 6})
    assert earliest_latest(broker.bootstrap, "short") == (0, 5)


# -- 9. DescribeCluster and DescribeLogDirs --------------------------------------------------


def test_describe_cluster(broker: EmbeddedBroker) -> None:
    """One node, 0, at the bootstrap address, which is also the controller."""
    host, port = broker.bootstrap.rsplit(":", 1)
    meta = (broker.data_dir / "meta.properties").read_text().splitlines()
    [cluster_id] = [line.split("=", 1)[1] for line in meta if line.startswith("cluster.id=")]
    assert cluster_id
    cluster = ck_admin(broker.bootstrap).describe_cluster().result(TIMEOUT)
    assert cluster.cluster_id == cluster_id
    assert [(n.id, n.host, n.port) for n in cluster.nodes] == [(0, host, int(port))]
    assert cluster.controller.id == 0
    with kp_admin(broker.bootstrap) as kp:
        answer = kp.describe_cluster()
    assert (answer["cluster_id"], answer["controller_id"]) == (cluster_id, 0)
    nodes = [(b["broker_id"], b["host"], b["port"]) for b in answer["brokers"]]
    assert nodes == [(0, host, int(port))]


def test_a_formatted_data_dir_keeps_its_cluster_id(start_broker: object, tmp_path: Path) -> None:
    """Like `kafka-storage.sh format -t ID`: a meta.properties written first names the cluster."""
    data_dir = tmp_path / "formatted"
    data_dir.mkdir()
    (data_dir / "meta.properties").write_text("cluster.id=MkU3OEVBNTcwNTJENDM2Qk\nnode.id=0\n")
    running = start_broker(None, data_dir)  # type: ignore[operator]
    cluster = ck_admin(running.bootstrap).describe_cluster().result(TIMEOUT)
    assert cluster.cluster_id == "MkU3OEVBNTcwNTJENDM2Qk"


def test_describe_log_dirs(broker: EmbeddedBroker) -> None:
    """DescribeLogDirs reports the data directory and each partition's size on disk."""
    ck_create(broker.bootstrap, "sized", partitions=2)
    produce(broker.bootstrap, "sized", values(10), partition=1)
    with kp_admin(broker.bootstrap) as kp:
        [answer] = kp.describe_log_dirs()
    assert answer["broker"] == 0
    [log_dir] = answer["log_dirs"]
    assert (log_dir["error_code"], Path(log_dir["log_dir"])) == (0, broker.data_dir.resolve())
    sizes = {
        (topic["name"], p["partition_index"]): p["partition_size"]
        for topic in log_dir["topics"]
        for p in topic["partitions"]
    }
    on_disk = sum(p.stat().st_size for p in (broker.data_dir / "sized-1").glob("*.log"))
    assert sizes == {("sized", 0): 0, ("sized", 1): on_disk}
    assert on_disk > 10 * 100
