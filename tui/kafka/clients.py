"""Producers and consumers built from Kafka client properties, for every kwb command and the TUI.

Kafka's tools take Java property names (acks, linger.ms, fetch.min.bytes ...); aiokafka takes
keyword arguments with other names, other defaults and fewer knobs. One mapping serves every
command, so a properties file means the same thing wherever it is used: values are checked as
Kafka's ConfigDef checks them, in its words; Kafka's defaults apply where aiokafka's differ;
and the properties aiokafka has no equivalent for are handed back, so that a caller can say it
ignores them. Each tool's own defaults (the console producer's linger.ms=1000, ...) are the
caller's: it puts them into the properties before asking for arguments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from aiokafka.errors import KafkaConnectionError
from aiokafka.errors import KafkaError as AIOKafkaError
from kio.schema.errors import ErrorCode

from localbroker.public import ApiKey, ConfigResourceType

from .admin import KafkaAdmin
from .connection import Connection, SettingsError
from .errors import KafkaToolError, raise_for, unreachable

ACKS = {"all": -1, "-1": -1, "0": 0, "1": 1}
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
OFFSET_RESETS = ("earliest", "latest", "none")
ISOLATION_LEVELS = ("read_committed", "read_uncommitted")
AUTO_CREATE_TOPICS = "auto.create.topics.enable"
AUTO_CREATE_WAIT_S = 10.0
"""How long a topic the broker is creating may take to appear (Kafka's clients would wait
max.block.ms, a minute)."""
AUTO_CREATE_POLL_S = 0.1
# Properties the Connection consumes (bootstrap, security, client id, timeouts).
CONNECTION_KEYS = ("bootstrap.servers", "security.protocol", "client.id", "request.timeout.ms")
CONNECTION_PREFIXES = ("ssl.", "sasl.")
# Kafka 4.0's producer defaults, set explicitly because some of aiokafka's differ (linger 0).
PRODUCER_DEFAULTS = {
    "batch.size": 16384,
    "linger.ms": 5,
    "delivery.timeout.ms": 120000,
    "retry.backoff.ms": 100,
    "metadata.max.age.ms": 300000,
    "max.request.size": 1048576,
    "connections.max.idle.ms": 540000,
}
# aiokafka has one timeout where Kafka has request.timeout.ms and delivery.timeout.ms; it bounds
# a record's whole life (batch wait, retries, answer), so it takes Kafka's delivery timeout.
_PRODUCER_INTS = {
    "batch.size": "max_batch_size",
    "linger.ms": "linger_ms",
    "delivery.timeout.ms": "request_timeout_ms",
    "retry.backoff.ms": "retry_backoff_ms",
    "metadata.max.age.ms": "metadata_max_age_ms",
    "max.request.size": "max_request_size",
    "connections.max.idle.ms": "connections_max_idle_ms",
}
_PRODUCER_OWN = ("acks", "compression.type", "enable.idempotence", *_PRODUCER_INTS)
_PRODUCER_IGNORED = ("key.serializer", "value.serializer")
_CONSUMER_INTS = {
    "fetch.min.bytes": "fetch_min_bytes",
    "fetch.max.bytes": "fetch_max_bytes",
    "fetch.max.wait.ms": "fetch_max_wait_ms",
    "max.partition.fetch.bytes": "max_partition_fetch_bytes",
    "auto.commit.interval.ms": "auto_commit_interval_ms",
    "session.timeout.ms": "session_timeout_ms",
    "heartbeat.interval.ms": "heartbeat_interval_ms",
    "max.poll.interval.ms": "max_poll_interval_ms",
    "max.poll.records": "max_poll_records",
    "metadata.max.age.ms": "metadata_max_age_ms",
    "retry.backoff.ms": "retry_backoff_ms",
    "connections.max.idle.ms": "connections_max_idle_ms",
}
_CONSUMER_BOOLS = {
    "enable.auto.commit": "enable_auto_commit",
    "check.crcs": "check_crcs",
    "exclude.internal.topics": "exclude_internal_topics",
}
_CONSUMER_STRINGS = {
    "group.id": "group_id",
    "group.instance.id": "group_instance_id",
    "client.rack": "client_rack",
}
_CONSUMER_OWN = (
    "auto.offset.reset",
    "isolation.level",
    "partition.assignment.strategy",
    *_CONSUMER_INTS,
    *_CONSUMER_BOOLS,
    *_CONSUMER_STRINGS,
)
_CONSUMER_IGNORED = ("key.deserializer", "value.deserializer", "receive.buffer.bytes")
# By a Kafka assignor's class name, short or long, with or without "Assignor".
_ASSIGNORS = {
    "range": RangePartitionAssignor,
    "roundrobin": RoundRobinPartitionAssignor,
    "sticky": StickyPartitionAssignor,
}

Client = TypeVar("Client", bound="Startable")


class Startable(Protocol):
    """What `start` needs of a client: aiokafka's producer and consumer both have it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


# -- Kafka's ConfigDef checks, in its words ---------------------------------------------------


def _invalid(name: str, value: str, reason: str | None = None) -> SettingsError:
    return SettingsError(
        f"Invalid value {value} for configuration {name}" + (f": {reason}" if reason else "")
    )


def choice(props: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """A property that must be one of `allowed` (any case, blanks around it ignored)."""
    value = props[name].strip().lower()
    if value not in allowed:
        raise _invalid(name, props[name], f"String must be one of: {', '.join(allowed)}")
    return value


def integer(props: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    """An int property; missing or empty means `default`."""
    value = props.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise _invalid(name, value) from None


def boolean(props: Mapping[str, str], name: str) -> bool | None:
    """A boolean property (true or false, any case); missing or empty means None."""
    value = props.get(name)
    if not value:
        return None
    if value.strip().lower() not in ("true", "false"):
        raise _invalid(name, value, "Expected value to be either true or false")
    return value.strip().lower() == "true"


def assignors(text: str | None) -> tuple[Any, ...]:
    """partition.assignment.strategy; Kafka's default list starts with the range assignor."""
    chosen = []
    for name in (part.strip() for part in (text or "").split(",") if part.strip()):
        short = name.rsplit(".", 1)[-1].lower().removesuffix("assignor")
        if short in _ASSIGNORS:
            chosen.append(_ASSIGNORS[short])
        elif short != "cooperativesticky":  # aiokafka has no cooperative rebalancing
            raise SettingsError(f"partition.assignment.strategy {name} is not available")
    return tuple(chosen) or (RangePartitionAssignor,)


def _not_mapped(
    props: Mapping[str, str], own: tuple[str, ...], ignored: tuple[str, ...]
) -> list[str]:
    return [
        key
        for key in props
        if key not in own
        and key not in ignored
        and key not in CONNECTION_KEYS
        and not key.startswith(CONNECTION_PREFIXES)
    ]


# -- the arguments ------------------------------------------------------------------------------


def producer_args(
    connection: Connection, props: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """AIOKafkaProducer's keyword arguments for Kafka producer properties, and the properties
    it has no equivalent for (retries, buffer.memory, send.buffer.bytes ...: aiokafka retries
    until the delivery timeout and bounds its buffer by batches)."""
    acks = ACKS[choice({"acks": "all", **props}, "acks", tuple(ACKS))]
    codec = choice({"compression.type": "none", **props}, "compression.type", CODECS)
    idempotence = boolean(props, "enable.idempotence")
    if idempotence is None:
        idempotence = acks == -1  # Kafka's default when acks=all
    elif idempotence and acks != -1:
        raise SettingsError("Must set acks to all in order to use the idempotent producer.")
    kwargs = connection.aiokafka_args()
    kwargs.update(
        acks=acks,
        compression_type=None if codec == "none" else codec,
        enable_idempotence=idempotence,
    )
    for name, arg in _PRODUCER_INTS.items():
        kwargs[arg] = integer(props, name, PRODUCER_DEFAULTS[name])
    return kwargs, _not_mapped(props, _PRODUCER_OWN, _PRODUCER_IGNORED)


def consumer_args(
    connection: Connection, props: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """AIOKafkaConsumer's keyword arguments for Kafka consumer properties (group.id included),
    and the properties it has no equivalent for."""
    kwargs = connection.aiokafka_args()
    if props.get("auto.offset.reset") is not None:
        kwargs["auto_offset_reset"] = choice(props, "auto.offset.reset", OFFSET_RESETS)
    if props.get("isolation.level") is not None:
        kwargs["isolation_level"] = choice(props, "isolation.level", ISOLATION_LEVELS)
    kwargs["partition_assignment_strategy"] = assignors(props.get("partition.assignment.strategy"))
    convert: list[tuple[dict[str, str], Callable[[Mapping[str, str], str], Any]]] = [
        (_CONSUMER_INTS, integer),
        (_CONSUMER_BOOLS, boolean),
        (_CONSUMER_STRINGS, lambda p, name: p.get(name) or None),
    ]
    for names, read in convert:
        for name, arg in names.items():
            if (value := read(props, name)) is not None:
                kwargs[arg] = value
    return kwargs, _not_mapped(props, _CONSUMER_OWN, _CONSUMER_IGNORED)


# -- starting clients ---------------------------------------------------------------------------


def new_producer(kwargs: Mapping[str, Any], **extra: Any) -> AIOKafkaProducer:
    """An AIOKafkaProducer; arguments it refuses are a settings error, not a traceback."""
    return _construct(AIOKafkaProducer, "producer", {**kwargs, **extra})


def new_consumer(kwargs: Mapping[str, Any], **extra: Any) -> AIOKafkaConsumer:
    """An AIOKafkaConsumer; arguments it refuses are a settings error, not a traceback."""
    return _construct(AIOKafkaConsumer, "consumer", {**kwargs, **extra})


def _construct(client_type: Callable[..., Client], what: str, kwargs: dict[str, Any]) -> Client:
    try:
        return client_type(**kwargs)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise SettingsError(f"{what} properties: {exc}") from None


async def start(client: Client, connection: Connection) -> Client:
    """Start a producer or consumer; a failure is one KafkaToolError line.

    Only a connection failure is called unreachable: a cluster that answers but refuses the
    idempotent producer's InitProducerId (some Kafka-compatible brokers do) must not send the
    user looking for a network problem.
    """
    try:
        await client.start()
    except AIOKafkaError as exc:
        await client.stop()
        if isinstance(exc, KafkaConnectionError):
            raise unreachable(connection.bootstrap_servers, exc) from None
        what = "producer" if isinstance(client, AIOKafkaProducer) else "consumer"
        hint = (
            " (acks=all makes the producer idempotent: if the cluster does not support"
            " InitProducerId, use acks=1 or enable.idempotence=false)"
            if what == "producer"
            else ""
        )
        raise KafkaToolError(
            f"the {what} could not start on {connection.bootstrap_servers}: {exc}{hint}"
        ) from None
    return client


async def partitions_for(
    admin: KafkaAdmin, topic: str, *, explain_missing: bool = False, auto_create: bool = True
) -> list[int]:
    """The topic's partitions, asking the way a client does (so the broker may auto-create it,
    unless `auto_create` is False).

    Kafka's clients wait max.block.ms (a minute) for a topic that does not exist and will not
    be created; kwb says so at once instead (in so many words with `explain_missing`). A broker
    that does create topics may do so after it answered (Apache Kafka 4 does: its first answer
    is UNKNOWN_TOPIC_OR_PARTITION), so then kwb asks again for a while, as the clients do. An
    empty list: the broker has just created the topic and its leader is not known yet.
    """
    missing = f"Topic '{topic}' does not exist and the broker does not create it"
    deadline: float | None = None
    while True:
        response = await admin.send(
            ApiKey.METADATA,
            {
                "topics": [{"name": topic, "topic_id": None}],
                "allow_auto_topic_creation": auto_create,
                "include_topic_authorized_operations": False,
            },
        )
        (found,) = response.topics
        if found.error_code == ErrorCode.leader_not_available:
            return []
        if found.error_code == ErrorCode.unknown_topic_or_partition and auto_create:
            loop = asyncio.get_running_loop()
            if deadline is None and await creates_topics(admin):
                deadline = loop.time() + AUTO_CREATE_WAIT_S
            if deadline is not None and loop.time() < deadline:
                await asyncio.sleep(AUTO_CREATE_POLL_S)
                continue
        raise_for(
            found.error_code,
            missing
            if explain_missing and found.error_code == ErrorCode.unknown_topic_or_partition
            else None,
            f"topic {topic}",
        )
        return sorted(p.partition_index for p in found.partitions)


async def creates_topics(admin: KafkaAdmin) -> bool:
    """Whether the cluster creates topics a client asks for (auto.create.topics.enable); no,
    when it will not say."""
    try:
        node = (await admin.cluster()).brokers[0].node_id
        (config,) = await admin.describe_configs(
            ConfigResourceType.BROKER, str(node), keys=[AUTO_CREATE_TOPICS]
        )
    except (KafkaToolError, IndexError, ValueError):
        return False
    return config.value == "true"
