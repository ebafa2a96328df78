"""Fetch: read from the logs, and long-poll until `min_bytes` arrive or `max_wait` passes.

Fetch sessions (KIP-227) are answered sessionlessly, as a Kafka broker with no free session
slots does: a request to open a session (id 0, epoch 0) gets session id 0 back, so the client
keeps sending full requests; a request naming a session we never created gets
FETCH_SESSION_ID_NOT_FOUND and the client starts over. v0-3 (Kafka 4.0 removed them) answer in
message formats 0 and 1, down-converted from the stored batches as Kafka 3.9 did.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from kio.schema.errors import ErrorCode

from ..cluster.replication.truncation import UNDEFINED_EPOCH, diverging_epoch
from ..errors import KafkaError
from ..log.partition import PartitionLog
from ..log.transactions import batches_below
from ..protocol.names import AclResourceType, ApiKey, IsolationLevel
from ..records.legacy import to_message_set
from . import access
from .leader import NO_EPOCH, LeaderHints, partition_error
from .registry import RequestContext, handles

if TYPE_CHECKING:
    from ..state import BrokerState

_INITIAL_EPOCH = 0
_FINAL_EPOCH = -1
FIRST_V2_FORMAT_VERSION = 4
"""Fetch v4 answers with record batches (magic 2); v2-3 with magic 1 messages, v0-1 magic 0."""
FIRST_MAGIC_1_VERSION = 2
NO_RESPONSE_LIMIT = 2**31 - 1
"""max_bytes before v3, which has none: Kafka reads it as Int.MaxValue."""


FOLLOWER_READ_VERSION = 11
"""From Fetch v11 (KIP-392) a consumer may read from a follower, up to the high watermark."""
LEADER_HINTS_VERSION = 16
"""Fetch v16 is the first Kafka answers KIP-951's `current_leader` and `node_endpoints` in."""
CONSUMER_REPLICA_ID = -1
NO_BROKER_EPOCH = -1
_LEADER_HINT_ERRORS = frozenset({ErrorCode.not_leader_or_follower, ErrorCode.fenced_leader_epoch})


def _replica(request: Any) -> tuple[int, int]:
    """The fetching replica's broker id (-1 for a consumer) and broker epoch (-1 when not
    sent): in `replica_state` from v15, the id in the body before."""
    replica_state = getattr(request, "replica_state", None)
    if replica_state is not None:
        return int(replica_state.replica_id), int(replica_state.replica_epoch)
    return int(getattr(request, "replica_id", CONSUMER_REPLICA_ID)), NO_BROKER_EPOCH


class _Read:
    """One pass over the requested partitions; re-run when data arrives during a long poll."""

    def __init__(
        self, state: BrokerState, ctx: RequestContext, request: Any, max_bytes: int, first: bool
    ) -> None:
        self.state = state
        self.first = first
        """The request's first pass: only it tells a leader what the follower holds, as
        Kafka updates a follower's state on arrival, not when a delayed fetch completes
        (a fetch still waiting after the follower moved on, or went, says nothing new)."""
        self.ctx = ctx
        self.by_id = ctx.api_version >= 13
        isolation = getattr(request, "isolation_level", IsolationLevel.READ_UNCOMMITTED)  # v4+
        self.read_committed = isolation == IsolationLevel.READ_COMMITTED
        self.replica_id, self.replica_epoch = _replica(request)
        self.leader_only = ctx.api_version < FOLLOWER_READ_VERSION or self.replica_id >= 0
        """Whether only the leader may answer: a follower answers consumers from v11 on, as
        Kafka's FetchParams.fetchOnlyLeader has it; replicas fetch from the leader."""
        self.replicating = self.replica_id >= 0
        """A follower replicating from this leader: it reads to the log end offset, and its
        fetch offset tells the leader what it holds."""
        self.logs: list[PartitionLog] = []
        self.errors = False
        self.total = 0
        self.responses = self._run(request, max_bytes)

    def _run(self, request: Any, max_bytes: int) -> list[dict[str, Any]]:
        """Partitions in request order on one budget: only the first with data may exceed
        it, by returning its first batch whole (KIP-74, ReplicaManager.readFromLog)."""
        remaining = max_bytes
        min_one = True
        responses = []
        for topic in request.topics:
            name, topic_id, topic_error = self._resolve(topic)
            partitions = []
            for partition in topic.partitions:
                entry = self._read_partition(name, topic_error, partition, remaining, min_one)
                size = len(entry["records"])
                if size:
                    remaining = max(remaining - size, 0)
                    min_one = False
                    self.total += size
                partitions.append(entry)
            responses.append({"topic": name, "topic_id": topic_id, "partitions": partitions})
        return responses

    def _resolve(self, topic: Any) -> tuple[str, Any, ErrorCode | None]:
        if not self.by_id:
            return topic.topic, None, self._read_refused(topic.topic)
        record = self.state.topic_by_id(topic.topic_id)
        if record is None:
            return "", topic.topic_id, ErrorCode.unknown_topic_id
        return record.name, topic.topic_id, self._read_refused(record.name)

    def _read_refused(self, name: str) -> ErrorCode | None:
        """TOPIC_AUTHORIZATION_FAILED unless the principal may READ the topic, or for a
        follower, unless it may CLUSTER_ACTION on the cluster (KafkaApis.handleFetchRequest)."""
        if self.replica_id >= 0:
            allowed = access.permits(self.state, self.ctx, AclResourceType.CLUSTER)
        else:
            allowed = access.permits(self.state, self.ctx, AclResourceType.TOPIC, name)
        return None if allowed else ErrorCode.topic_authorization_failed

    def _read_partition(
        self,
        name: str,
        topic_error: ErrorCode | None,
        partition: Any,
        remaining: int,
        min_one: bool,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "partition_index": partition.partition,
            "error_code": ErrorCode.none,
            "high_watermark": -1,
            "last_stable_offset": -1,
            "log_start_offset": -1,
            "aborted_transactions": [] if self.read_committed else None,
            "records": b"",
        }
        try:
            if topic_error is not None:
                raise KafkaError(topic_error)
            partition_log = self.state.partition_log(name, partition.partition)
        except KafkaError as exc:
            # refused before any log is read, as Kafka's KafkaApis refuses: with an empty
            # (not a null) list of aborted transactions
            return self._failed({**entry, "aborted_transactions": []}, exc.code)
        error = partition_error(
            self.state,
            name,
            partition.partition,
            getattr(partition, "current_leader_epoch", NO_EPOCH),  # v9+
            require_leader=self.leader_only,
        )
        if error is not None:
            return self._failed(entry, error)
        self.logs.append(partition_log)
        max_bytes = min(partition.partition_max_bytes, remaining)
        last_stable_offset = partition_log.last_stable_offset
        try:
            if self.replicating:
                records = self._replicate(name, partition, partition_log, entry, max_bytes, min_one)
            else:
                records = partition_log.read(partition.fetch_offset, max_bytes, min_one)
        except KafkaError as exc:  # Kafka tells no offsets with a failed read
            return self._failed(entry, exc.code)
        if self.read_committed:
            records = batches_below(records, last_stable_offset)
            entry["aborted_transactions"] = (
                [
                    {"producer_id": txn.producer_id, "first_offset": txn.first_offset}
                    for txn in partition_log.aborted_transactions(
                        partition.fetch_offset, last_stable_offset
                    )
                ]
                if records
                else []
            )
        if self.ctx.api_version < FIRST_V2_FORMAT_VERSION:  # no read_committed before v4
            magic = 1 if self.ctx.api_version >= FIRST_MAGIC_1_VERSION else 0
            records = to_message_set(records, magic, partition.fetch_offset)
        entry["records"] = records
        entry["high_watermark"] = partition_log.high_watermark
        entry["last_stable_offset"] = last_stable_offset
        entry["log_start_offset"] = partition_log.log_start_offset
        return entry

    def _replicate(
        self,
        name: str,
        partition: Any,
        partition_log: PartitionLog,
        entry: dict[str, Any],
        max_bytes: int,
        min_one: bool,
    ) -> bytes:
        """A follower's read (Partition.fetchRecords from a follower): nothing but the point
        where its log diverges from this one (DivergingEpoch) if its last fetched epoch ends
        earlier here; otherwise up to the log end offset, and its fetch offset is what it
        holds, which may move the high watermark (read after this, so the answer has it)."""
        replicas = self.state.replicas
        # a single broker has no followers: Kafka answers a fetch from a broker that holds
        # no replica of the partition NOT_LEADER_OR_FOLLOWER, as a leader that is not one
        leader = None if replicas is None else replicas.leader_replica(name, partition.partition)
        if leader is None:
            raise KafkaError(ErrorCode.not_leader_or_follower)
        diverging = diverging_epoch(
            getattr(partition, "last_fetched_epoch", UNDEFINED_EPOCH),  # v12+
            partition.fetch_offset,
            end_offset_for=partition_log.epochs.end_offset_for,
            log_start_offset=partition_log.log_start_offset,
            log_end_offset=partition_log.log_end_offset,
            partition=partition_log.name,
        )
        if diverging is not None:
            entry["diverging_epoch"] = {"epoch": diverging[0], "end_offset": diverging[1]}
            return b""
        records = partition_log.read(partition.fetch_offset, max_bytes, min_one, to_log_end=True)
        if self.first:
            leader.follower_fetched(
                self.replica_id,
                partition.fetch_offset,
                partition.log_start_offset,
                self.replica_epoch,
            )
        return records

    def _failed(self, entry: dict[str, Any], error: ErrorCode) -> dict[str, Any]:
        self.errors = True
        entry["error_code"] = error
        return entry


def _session_error(ctx: RequestContext, request: Any) -> ErrorCode | None:
    if ctx.api_version < 7:
        return None
    if request.session_id != 0:
        return ErrorCode.fetch_session_id_not_found
    if request.session_epoch not in (_INITIAL_EPOCH, _FINAL_EPOCH):
        return ErrorCode.invalid_fetch_session_epoch
    return None


async def _wait_for_data(logs: list[PartitionLog], timeout: float, appends: bool) -> None:
    """Until `timeout` passes or one of `logs` has more to read: its high watermark moved,
    or (`appends`, for followers, which read to the log end) a batch was appended."""
    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not woken.done():
            woken.set_result(None)

    timer = loop.call_later(timeout, wake)
    for partition_log in logs:
        partition_log.add_listener(wake, appends=appends)
    try:
        await woken
    finally:
        timer.cancel()
        for partition_log in logs:
            partition_log.remove_listener(wake)


@handles(ApiKey.FETCH, 0, 17)
async def fetch(state: BrokerState, ctx: RequestContext, request: Any) -> Any:
    session_error = _session_error(ctx, request)
    if session_error is not None:
        return ctx.respond(
            {"throttle_time": 0, "error_code": session_error, "session_id": 0, "responses": []}
        )
    # The broker's fetch.max.bytes caps what a request may ask for, as in Kafka's KafkaApis.
    requested = getattr(request, "max_bytes", NO_RESPONSE_LIMIT)  # v3+
    max_bytes = min(requested, state.config.int_value("fetch.max.bytes"))
    min_bytes = min(request.min_bytes, max_bytes)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + request.max_wait.total_seconds()
    first = True
    while True:
        read = _Read(state, ctx, request, max_bytes, first)
        first = False
        remaining = deadline - loop.time()
        if read.total >= min_bytes or read.errors or remaining <= 0 or not read.logs:
            break
        await _wait_for_data(read.logs, remaining, read.replicating)
    response = {
        "throttle_time": 0,
        "error_code": ErrorCode.none,
        "session_id": 0,
        "responses": read.responses,
    }
    if ctx.api_version >= LEADER_HINTS_VERSION:
        hints = LeaderHints(state, ctx.listener)
        for topic in read.responses:
            for entry in topic["partitions"]:
                if entry["error_code"] in _LEADER_HINT_ERRORS:
                    index = entry["partition_index"]
                    entry["current_leader"] = hints.current_leader(topic["topic"], index)
        response["node_endpoints"] = hints.node_endpoints
    return ctx.respond(response)
