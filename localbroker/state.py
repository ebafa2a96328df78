"""The broker's state and the operations every API (and the workbench, in-process) shares.

Handlers translate requests into calls on `BrokerState`; the TUI can call the same methods
without the wire. Nothing here touches sockets; the only asyncio it uses is for waiting
(fetch long polls) and for running fsync in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from types import MappingProxyType
from typing import TypeVar

from kio.schema.errors import ErrorCode

from . import descriptors
from .cluster.forwarding import ControllerChannel
from .cluster.node import runs_cluster_mode
from .cluster.producer_ids import ProducerIdBlocks
from .cluster.replica_manager import ReplicaManager
from .cluster.single_node import SingleNodeView
from .cluster.txn_markers import TransactionMarkerChannel
from .cluster.txn_verification import TransactionVerifier
from .cluster.view import ClusterView
from .config.broker import BrokerConfig
from .errors import KafkaError
from .groups.coordinator import GroupConfig, GroupCoordinator
from .groups.events import GroupEvent
from .groups.group import ClassicGroup
from .groups.records import OffsetValue
from .groups.storage import CoordinatorTopic, group_records
from .internal_topics import COMPACTION_BYTES, topic_settings
from .log.log_config import LogConfig
from .log.manager import LogManager
from .log.partition import FlushJob, PartitionLog
from .metadata.store import MetadataStore, TopicRecord, new_topic_id
from .protocol.names import INTERNAL_TOPICS, OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC
from .schema_registry.validation import SchemaIds, require_registry
from .security.listeners import Endpoint
from .security.settings import authorizer
from .security.store import SecurityStore
from .transaction_ends import TransactionEnds
from .transactions.coordinator import Completion, TransactionCoordinator
from .transactions.epoch_bump import finalized_level
from .transactions.store import TransactionLog

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TOPIC_NAME_LENGTH = 249
_LEGAL_TOPIC_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
BROKER_COUNT = 1
_REPLICATION_FACTOR_CONFIGS = {
    OFFSETS_TOPIC: "offsets.topic.replication.factor",
    TRANSACTION_STATE_TOPIC: "transaction.state.log.replication.factor",
}
"""The replication factor of each coordinator topic in cluster mode (one broker has one)."""


def now_ms() -> int:
    return int(time.time() * 1000)


def validate_topic_name(name: str) -> None:
    """Kafka's topic name rules (Topic.validate), with its messages."""
    reason = None
    if not name:
        reason = "the empty string is not allowed"
    elif name in (".", ".."):
        reason = f"'{name}' is not allowed"
    elif len(name) > MAX_TOPIC_NAME_LENGTH:
        reason = f"the length of '{name}' is longer than the max allowed length 249"
    elif not _LEGAL_TOPIC_NAME.match(name):
        reason = (
            f"'{name}' contains one or more characters other than ASCII alphanumerics,"
            " '.', '_' and '-'"
        )
    if reason is not None:
        raise KafkaError(ErrorCode.invalid_topic_exception, f"Topic name is invalid: {reason}")


class BrokerState:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.node_id = config.node_id
        self.data_dir = config.data_dir
        self.logs = LogManager(self.data_dir)
        try:
            self.store = MetadataStore(self.data_dir, self.node_id)
            self.security = SecurityStore(self.data_dir, self.logs.status)
        except Exception:
            self.logs.abandon()
            raise
        config.attach_dynamic(self.store.broker_configs, self.store.default_broker_configs)
        self.authorizer = authorizer(config.static, self.security)
        self.advertised: dict[str, Endpoint] = {e.name: e for e in config.listeners}
        """Each listener's endpoint as Metadata tells its clients (set once bound)."""
        self.cluster: ClusterView = SingleNodeView(
            self.node_id, lambda: self.advertised, self.store.topics
        )
        """What handlers ask about brokers, the controller and partition leadership: this
        broker alone, until cluster mode puts its metadata image here."""
        self.serving: asyncio.Event | None = None
        """Cluster mode: set once this node's metadata shows the controller unfenced it (it
        had caught up with the metadata log); until then requests wait, as Kafka's broker
        enables request processing only then (BrokerServer.startup). A node still replaying
        its metadata would answer Metadata with no brokers and no topics. None: at once."""
        self.controller_channel: ControllerChannel | None = None
        """Where CreateTopics, DeleteTopics and CreatePartitions go in cluster mode (the
        active controller decides them); None on a single broker, which decides itself."""
        self.producer_id_blocks: ProducerIdBlocks | None = None
        """Cluster mode's producer ids, in blocks from the controller; None on one broker,
        whose MetadataStore hands them out."""
        self.replicas: ReplicaManager | None = None
        """Cluster mode's replication (leaders' ISRs and acks=all, followers' fetchers);
        None on a single broker, whose handlers then check nothing else."""
        self.started_ms = now_ms()
        self._flush_tasks: dict[PartitionLog, asyncio.Future[None]] = {}
        self._unsettled_group_writes: dict[PartitionLog, int] = {}
        """Coordinator writes to fsync before answering: each log up to an offset."""
        self._unreplicated_group_writes: dict[PartitionLog, int] = {}
        """Cluster mode: coordinator writes the ISR must hold before answering."""
        self._coordinator = GroupCoordinator(self._group_config(), self)
        self.offsets_topic = CoordinatorTopic(
            lambda: self.store.topics[OFFSETS_TOPIC].partitions,
            lambda partition: self.logs.get(OFFSETS_TOPIC, partition),
            self._group_write_needs_flush,
        )
        self.groups_changed = asyncio.Event()
        self.transaction_log = TransactionLog(
            lambda: self._partition_count(TRANSACTION_STATE_TOPIC),
            lambda: self.ensure_internal_topic(TRANSACTION_STATE_TOPIC),
            lambda partition: self.logs.get(TRANSACTION_STATE_TOPIC, partition),
            now_ms,
            self._transaction_state_written,
        )
        self._unreplicated_transaction_writes: dict[PartitionLog, int] = {}
        """Cluster mode: `__transaction_state` writes the ISR must hold before answering."""
        self.transactions = TransactionCoordinator(
            config.int_value("transaction.max.timeout.ms"),
            self.next_producer_id,
            self.transaction_log,
            finalized_level(config.api_versions_of),
            owns=self.coordinates_transaction,
        )
        """Handlers read and change transactions directly: every change is stored before it
        returns, and ends are carried out by `end_transaction`."""
        self._transaction_ends = TransactionEnds(self)
        self.transaction_markers: TransactionMarkerChannel | None = None
        """Cluster mode: where a decided end's markers go (to each partition's leader)."""
        self.transaction_verifier: TransactionVerifier | None = None
        """Cluster mode: Produce's verification by a coordinator on another broker."""
        self.schema_ids: SchemaIds | None = None
        """The schema registry this broker runs (`--schema-registry`), which topics with
        Confluent's schema validation configs check produced records against; None without
        one, and then those configs cannot be set."""

    # -- start and stop -----------------------------------------------------------------

    def load(self) -> None:
        """Open every partition log (recovering after an unclean stop)."""
        partitions = [
            (topic.name, partition, self.log_config(topic))
            for topic in self.store.topics.values()
            for partition in range(topic.partitions)
        ]
        try:
            self.logs.load(partitions, now_ms(), replicated=runs_cluster_mode(self.config.kraft))
            if OFFSETS_TOPIC in self.store.topics:
                self._coordinator.load(self.offsets_topic.replay(), now_ms())
            self.transaction_log.migrate(self.data_dir)
            self.transactions.load(self.transaction_log.replay())
            if not runs_cluster_mode(self.config.kraft):  # else the elected coordinator does
                self._transaction_ends.finish_decided(self._coordinator, now_ms())
        except Exception:
            self.logs.abandon()
            raise

    def close(self) -> None:
        self.logs.close()

    # -- topics -------------------------------------------------------------------------

    @property
    def topics(self) -> dict[str, TopicRecord]:
        return self.store.topics

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicRecord | None:
        return self.store.topics_by_id.get(topic_id)

    def log_config(self, topic: TopicRecord) -> LogConfig:
        return self.config.log_config(topic.configs)

    def partition_log(self, topic: str, partition: int) -> PartitionLog:
        """The log of an existing partition, or UNKNOWN_TOPIC_OR_PARTITION."""
        partition_log = self.logs.get(topic, partition)
        if partition_log is None:
            raise KafkaError(
                ErrorCode.unknown_topic_or_partition,
                f"This server does not host this topic-partition: {topic}-{partition}",
            )
        return partition_log

    def create_topic(
        self,
        name: str,
        partitions: int = -1,
        replication_factor: int = -1,
        configs: dict[str, str | None] | None = None,
        *,
        validate_only: bool = False,
        internal: bool = False,
    ) -> TopicRecord:
        """Create a topic the way CreateTopics does, raising KafkaError with Kafka's messages.

        Internal topics (`__consumer_offsets`) are created only by the broker itself.
        """
        validate_topic_name(name)
        if name in INTERNAL_TOPICS and not internal:
            raise KafkaError(
                ErrorCode.invalid_request, f"Creation of internal topic {name} is prohibited."
            )
        if name in self.store.topics:
            raise KafkaError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        collision = name.replace(".", "_")
        for existing in self.store.topics:
            if existing.replace(".", "_") == collision:
                raise KafkaError(
                    ErrorCode.invalid_topic_exception,
                    f"Topic '{name}' collides with existing topic: {existing}",
                )
        if partitions == -1:
            partitions = self.config.num_partitions
        if replication_factor == -1:
            replication_factor = self.config.default_replication_factor
        if partitions <= 0:
            raise KafkaError(
                ErrorCode.invalid_partitions,
                "Number of partitions was set to an invalid non-positive value.",
            )
        if replication_factor <= 0:
            raise KafkaError(
                ErrorCode.invalid_replication_factor,
                "Replication factor must be larger than 0, or -1 to use the default value.",
            )
        if replication_factor > BROKER_COUNT:
            raise KafkaError(
                ErrorCode.invalid_replication_factor,
                f"Unable to replicate the partition {replication_factor} time(s): The target"
                f" replication factor of {replication_factor} cannot be reached because only"
                f" {BROKER_COUNT} broker(s) are registered.",
            )
        overrides = self.validate_topic_configs(configs or {}, {})
        record = TopicRecord(name, new_topic_id(), partitions, overrides, internal=internal)
        if not internal:  # the broker's own topics may use the headroom kept for it
            descriptors.check_room_for(partitions)
        if validate_only:
            return record
        self.add_topic(record)
        return record

    def add_topic(self, record: TopicRecord) -> None:
        """Make a decided topic's logs and name it in the metadata: after create_topic's
        checks on one broker, or as the cluster's metadata log says in cluster mode."""
        self.logs.create(
            record.name,
            range(record.partitions),
            self.log_config(record),
            now_ms(),
            lambda: self.store.add_topic(record),
        )
        # No checkpoint here (Kafka writes them on a timer): both files name every partition,
        # so writing them per topic made creating n topics cost n^2. A partition they do not
        # name is recovered from offset 0, all of it, which for a new one is nothing.
        log.info("created topic %s with %d partition(s)", record.name, record.partitions)

    def ensure_topic(self, name: str) -> TopicRecord:
        """Auto-create on first use, as Kafka does when auto.create.topics.enable is true."""
        topic = self.store.topics.get(name)
        if topic is not None:
            return topic
        if not self.config.auto_create_topics_enable:
            raise KafkaError(
                ErrorCode.unknown_topic_or_partition,
                f"Topic {name} does not exist and auto.create.topics.enable is false",
            )
        if self.controller_channel is not None:  # cluster mode: the controller creates it
            validate_topic_name(name)
            config = self.config
            channel = self.controller_channel
            channel.create_in_background(
                name, config.num_partitions, config.default_replication_factor
            )
            raise KafkaError(ErrorCode.leader_not_available, f"Topic {name} is being created")
        return self.create_topic(name)

    def delete_topic(self, name: str) -> TopicRecord:
        topic = self.store.topics.get(name)
        if topic is None:
            raise KafkaError(
                ErrorCode.unknown_topic_or_partition,
                "This server does not host this topic-partition.",
            )
        doomed = [self.logs.get(name, partition) for partition in range(topic.partitions)]
        self.logs.delete(name, range(topic.partitions), lambda: self.store.remove_topic(name))
        for partition_log in doomed:
            if partition_log is not None:
                self._flush_tasks.pop(partition_log, None)
        self.logs.write_checkpoints()
        # Its committed offsets go too; like Kafka, the tombstones are not fsynced before the
        # answer (a crash may bring back offsets of a topic that no longer exists, unused).
        self._coordinator.offsets.forget_topic(name)
        log.info("deleted topic %s", name)
        return topic

    def create_partitions(self, name: str, count: int, *, validate_only: bool = False) -> None:
        topic = self.store.topics.get(name)
        if topic is None:  # Kafka's controller says no more than the code
            raise KafkaError(ErrorCode.unknown_topic_or_partition)
        if count < topic.partitions:
            raise KafkaError(
                ErrorCode.invalid_partitions,
                f"The topic {name} currently has {topic.partitions} partition(s);"
                f" {count} would not be an increase.",
            )
        if count == topic.partitions:
            raise KafkaError(
                ErrorCode.invalid_partitions, f"Topic already has {topic.partitions} partition(s)."
            )
        descriptors.check_room_for(count - topic.partitions)
        if validate_only:
            return
        self.add_partitions(topic, count)

    def add_partitions(self, topic: TopicRecord, count: int) -> None:
        """Grow a topic to `count` partitions, its new logs made first."""
        name = topic.name
        self.logs.create(
            name,
            range(topic.partitions, count),
            self.log_config(topic),
            now_ms(),
            lambda: self.store.change_topic(name, partitions=count),
        )
        self.logs.write_checkpoints()

    def validate_topic_configs(
        self, configs: Mapping[str, str | None], current: Mapping[str, str]
    ) -> dict[str, str]:
        """Normalized topic overrides replacing `current`, or INVALID_CONFIG with Kafka's
        message; changing a schema validation config needs a schema registry here."""
        overrides = self.config.validate_topic_configs(configs)
        if self.schema_ids is None:
            require_registry(overrides, current)
        return overrides

    def set_topic_configs(self, name: str, overrides: dict[str, str]) -> None:
        """Replace a topic's config overrides and apply them to its logs at once."""
        self._write_metadata(lambda: self.store.change_topic(name, configs=overrides))
        self.reconfigure_logs([self.store.topics[name]])

    def replace_broker_configs(self, target: dict[str, str], values: dict[str, str]) -> None:
        """Replace this broker's dynamic configs or the cluster defaults (`target`)."""
        self._write_metadata(lambda: self.store.replace_broker_configs(target, values))
        self.reconfigure_logs(self.topics.values())

    def next_producer_id(self) -> int:
        if self.producer_id_blocks is not None:  # cluster mode: unique in the cluster
            return self.producer_id_blocks.next()
        return self._write_metadata(self.store.next_producer_id)

    def _write_metadata(self, write: Callable[[], T]) -> T:
        """A metadata change, written before it is visible; KAFKA_STORAGE_ERROR if the
        write fails (the log directory goes offline) or the directory is offline."""
        return self.logs.status.write("The cluster metadata", self.store.path, write)

    def reconfigure_logs(self, topics: Iterable[TopicRecord]) -> None:
        """Give logs their new effective config and enforce retention right away."""
        moment = now_ms()
        for topic in topics:
            log_config = self.log_config(topic)
            for partition in range(topic.partitions):
                partition_log = self.logs.get(topic.name, partition)
                if partition_log is not None:
                    partition_log.config = log_config
                    partition_log.enforce_retention(moment)

    # -- durability ---------------------------------------------------------------------

    async def flush(self, partition_log: PartitionLog, upto: int | None = None) -> None:
        """fsync `partition_log` up to offset `upto` (default: its log end) in a worker thread.

        Callers arriving while an fsync runs wait for it and start at most one more round
        together (group commit). A failed fsync is KAFKA_STORAGE_ERROR, as in Kafka.
        """
        target = partition_log.log_end_offset if upto is None else upto
        while partition_log.recovery_point < target:
            running = self._flush_tasks.get(partition_log)
            if running is None:
                job = partition_log.flush_job()
                if job is None:
                    return
                running = asyncio.ensure_future(self._run_flush(job))
                self._flush_tasks[partition_log] = running
            await asyncio.shield(running)

    async def _run_flush(self, job: FlushJob) -> None:
        try:
            await asyncio.to_thread(job.run)
        except Exception as exc:
            raise job.log.flush_failed(exc) from exc
        finally:
            self._flush_tasks.pop(job.log, None)
        job.log.flushed(job, now_ms())

    def flush_due(self, moment: int) -> list[PartitionLog]:
        """Logs whose flush.ms has passed with unflushed data, and logs that rolled a
        segment not flushed yet (Kafka flushes a rolled segment soon after the roll)."""
        return [
            partition_log
            for partition_log in self.logs.logs.values()
            if partition_log.rolled_unflushed
            or (
                partition_log.unflushed_messages
                and moment - partition_log.last_flush_ms >= partition_log.config.flush_ms
            )
        ]

    # -- transactions -------------------------------------------------------------------

    async def end_transaction(self, completion: Completion) -> None:
        """Carry out a decided end (see transaction_ends.py)."""
        await self._transaction_ends.end(completion, now_ms())

    async def transaction_housekeeping(self) -> None:
        await self._transaction_ends.housekeeping(now_ms())

    def _transaction_state_written(self, partition_log: PartitionLog, upto: int) -> None:
        if self.replicas is not None:
            self._unreplicated_transaction_writes[partition_log] = upto

    async def transaction_replicated(self, error: ErrorCode, transactional_id: str) -> ErrorCode:
        """`error`, or when it is NONE, the coordinator's error if the ISR does not come to
        hold what it wrote to `__transaction_state` (cluster mode): Kafka appends the
        transaction state with acks=all, `transaction.state.log.min.isr` as the topic's
        min.insync.replicas, within the transaction's timeout
        (TransactionStateManager.appendTransactionToLog), and answers only then."""
        pending = list(self._unreplicated_transaction_writes.items())
        if error != ErrorCode.none or not pending or self.replicas is None:
            return error
        metadata = self.transactions.transactions.get(transactional_id)
        timeout_ms = (
            self.config.int_value("transaction.max.timeout.ms")
            if metadata is None
            else metadata.timeout_ms
        )
        try:
            await self.replicas.replicated(pending, timeout_ms)
        except KafkaError as exc:
            return exc.code
        finally:
            for partition_log, upto in pending:
                if self._unreplicated_transaction_writes.get(partition_log) == upto:
                    del self._unreplicated_transaction_writes[partition_log]
        return ErrorCode.none

    def expire_transactional_ids(self) -> list[str]:
        """transaction.remove.expired.transaction.cleanup.interval.ms: forget ids idle for
        transactional.id.expiration.ms."""
        expiration_ms = self.config.int_value("transactional.id.expiration.ms")
        return self.transactions.expire(now_ms(), expiration_ms)

    # -- consumer groups ----------------------------------------------------------------

    async def coordinate(self, operation: Callable[[GroupCoordinator], T]) -> T:
        """Change the groups: the only way a handler reaches the group coordinator's changing
        calls, so none can forget what every change needs (see `coordinate_parked`)."""
        return await self.coordinate_parked(lambda groups, done: done(operation(groups)))

    async def coordinate_parked(
        self, start: Callable[[GroupCoordinator, Callable[[T], None]], None]
    ) -> T:
        """Start a change the coordinator answers through a callback, perhaps much later
        (JoinGroup and SyncGroup park until the rebalance gets there), and wait for it.

        The coordinator's timer task wakes, since the change may have moved its next
        deadline; and the answer waits until the records the coordinator wrote meanwhile are
        as durable as the flush policy requires.
        """
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        def done(result: T) -> None:
            if not future.done():
                future.set_result(result)

        start(self._coordinator, done)
        self.groups_changed.set()
        result = await future
        await self._settle_group_writes()
        return result

    @property
    def groups(self) -> Mapping[str, ClassicGroup]:
        """Every group by id, to read (changes go through `coordinate`)."""
        return MappingProxyType(self._coordinator.groups)

    def list_groups(self, states: Iterable[str] = ()) -> list[ClassicGroup]:
        return self._coordinator.list_groups(states)

    def committed_offsets(
        self, group_id: str, partitions: list[tuple[str, int]] | None
    ) -> dict[tuple[str, int], OffsetValue | None]:
        return self._coordinator.offsets.fetch(group_id, partitions)

    def subscribe_groups(self, listener: Callable[[GroupEvent], None]) -> Callable[[], None]:
        """Call `listener` with every GroupEvent (on the broker's loop); returns the function
        that unsubscribes."""
        return self._coordinator.subscribe(listener)

    def next_group_deadline(self) -> int | None:
        return self._coordinator.next_deadline()

    def _group_config(self) -> GroupConfig:
        config = self.config
        return GroupConfig(
            min_session_timeout_ms=config.int_value("group.min.session.timeout.ms"),
            max_session_timeout_ms=config.int_value("group.max.session.timeout.ms"),
            initial_rebalance_delay_ms=config.int_value("group.initial.rebalance.delay.ms"),
            max_size=config.int_value("group.max.size"),
            offsets_retention_ms=config.int_value("offsets.retention.minutes") * 60_000,
            offsets_retention_check_interval_ms=config.int_value(
                "offsets.retention.check.interval.ms"
            ),
            offset_metadata_max_bytes=config.int_value("offset.metadata.max.bytes"),
        )

    # -- coordinators moving with leadership (cluster mode) -----------------------------

    def coordinator_elected(self, topic: str, partition: int) -> None:
        """This broker now leads `partition` of a coordinator's topic: load what it holds
        (Kafka's GroupCoordinator.onElection, TransactionStateManager.
        loadTransactionsForTxnTopicPartition). The log is replayed on the loop, as a single
        broker replays it at start-up, so no request sees a partly loaded partition (Kafka
        answers COORDINATOR_LOAD_IN_PROGRESS while its loading thread reads)."""
        self.coordinator_resigned(topic, partition)  # what a start-up load held is stale
        if topic == OFFSETS_TOPIC:
            self._coordinator.load(self.offsets_topic.replay([partition]), now_ms())
            self.groups_changed.set()
        elif topic == TRANSACTION_STATE_TOPIC:
            self.transactions.load(self.transaction_log.replay([partition]))
            self._transaction_ends.finish_in_doubt_soon(now_ms())

    def coordinator_resigned(self, topic: str, partition: int) -> None:
        """This broker no longer leads `partition` of a coordinator's topic: forget its
        groups or transactional ids (Kafka's onResignation), so their requests get
        NOT_COORDINATOR and go to the new leader."""
        if topic == OFFSETS_TOPIC and OFFSETS_TOPIC in self.store.topics:
            self._coordinator.unload(lambda g: self.offsets_topic.partition_of(g) == partition)
        elif topic == TRANSACTION_STATE_TOPIC and TRANSACTION_STATE_TOPIC in self.store.topics:
            partition_of = self.transaction_log.topic.partition_of
            self.transactions.unload(lambda t: partition_of(t) == partition)

    def coordinates_transaction(self, transactional_id: str) -> bool:
        """Whether this broker leads the id's `__transaction_state` partition (a single broker
        coordinates every id; so does any broker before the topic exists, which creates it)."""
        if self.replicas is None or TRANSACTION_STATE_TOPIC not in self.store.topics:
            return True
        partition = self.transaction_log.topic.partition_of(transactional_id)
        registration = self.cluster.partition(TRANSACTION_STATE_TOPIC, partition)
        return registration is not None and registration.leader == self.node_id

    def partition_exists(self, topic: str, partition: int) -> bool:
        record = self.store.topics.get(topic)
        return record is not None and 0 <= partition < record.partitions

    def ensure_offsets_topic(self) -> TopicRecord:
        return self.ensure_internal_topic(OFFSETS_TOPIC)

    def ensure_internal_topic(self, name: str) -> TopicRecord:
        """A coordinator's topic, created on first use as Kafka's coordinators do."""
        topic = self.store.topics.get(name)
        if topic is not None:
            return topic
        partitions, configs = topic_settings(self.config, name)
        if self.controller_channel is not None:  # cluster mode: the controller creates it
            replication_factor = self.config.int_value(_REPLICATION_FACTOR_CONFIGS[name])
            self.controller_channel.create_in_background(
                name, partitions, replication_factor, configs
            )
            raise KafkaError(
                ErrorCode.coordinator_not_available, f"The topic {name} is being created"
            )
        return self.create_topic(name, partitions, 1, configs, internal=True)

    def _partition_count(self, name: str) -> int:
        topic = self.store.topics.get(name)
        return 0 if topic is None else topic.partitions

    def write_group_records(self, group_id: str, records: list[tuple[bytes, bytes | None]]) -> None:
        """GroupStorage: append the coordinator's records to the group's offsets partition."""
        self.ensure_offsets_topic()
        partition = self.offsets_topic.partition_of(group_id)
        self.offsets_topic.append(partition, records, now_ms())
        partition_log = self.logs.get(OFFSETS_TOPIC, partition)
        if self.replicas is not None and partition_log is not None:  # the ISR must hold them
            self._unreplicated_group_writes[partition_log] = partition_log.log_end_offset

    def _group_write_needs_flush(self, partition_log: PartitionLog, upto: int) -> None:
        known = self._unsettled_group_writes.get(partition_log, 0)
        self._unsettled_group_writes[partition_log] = max(known, upto)

    async def _settle_group_writes(self) -> None:
        """Wait for the fsyncs the flush policy requires of every record the coordinator has
        written so far, and in cluster mode for the ISR to hold them (acks=all). Every caller
        waits for all of them: a request that wrote records must not be answered while
        another caller's fsync of them is still running."""
        pending = list(self._unsettled_group_writes.items())
        replicating = list(self._unreplicated_group_writes.items())
        try:
            await asyncio.gather(*(self.flush(log_, upto) for log_, upto in pending))
            if replicating and self.replicas is not None:
                timeout_ms = self.config.int_value("offsets.commit.timeout.ms")
                await self.replicas.replicated(replicating, timeout_ms)
        finally:
            for writes, settled in (
                (self._unsettled_group_writes, pending),
                (self._unreplicated_group_writes, replicating),
            ):
                for partition_log, upto in settled:
                    if writes.get(partition_log) == upto:
                        del writes[partition_log]

    def compact_internal_topics(self) -> int:
        """Shrink coordinator topic partitions that outgrew the compaction threshold."""
        compacted = self.transaction_log.compact(self.transactions.transactions.values())
        if OFFSETS_TOPIC not in self.store.topics:
            return compacted
        live = partial(group_records, self._coordinator.groups)
        return compacted + self.offsets_topic.compact(live, COMPACTION_BYTES, now_ms())

    def enforce_retention(self) -> int:
        moment = now_ms()
        return sum(pl.enforce_retention(moment) for pl in list(self.logs.logs.values()))
