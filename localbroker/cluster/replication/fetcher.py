"""`ReplicaFetcher`: a follower's fetches from one leader broker, for every partition it leads.

Kafka's ReplicaFetcherThread, on the event loop: one task per leader broker sends one Fetch
for all the partitions this broker follows there, appends what comes back to each log
unchanged (the leader's offsets, epochs and bytes; `PartitionLog.append_as_follower`) and
moves each log's high watermark and log start offset to the ones the leader reports. A
partition goes through the states Kafka's fetcher gives it:

- TRUNCATING, on becoming a follower: the follower's log may end with records the new
  leader never had. It asks the leader where its own latest epoch ends (OffsetForLeaderEpoch)
  and truncates there (truncation.py); a log with no epoch at all truncates to its high
  watermark. Kafka 4 leaves this to the first Fetch's DivergingEpoch; asking first gives the
  same cut and also works against a leader that does not answer DivergingEpoch.
- FETCHING: Fetch from the log end offset with the last fetched epoch; a DivergingEpoch in
  the answer truncates instead of appending, as AbstractFetcherThread does.
- OUT_OF_RANGE when the leader answers OFFSET_OUT_OF_RANGE: the follower asks where the
  leader's log starts (ListOffsets EARLIEST) and, if that is past its own end (retention or
  DeleteRecords moved it while the follower was away), drops its log and starts again there
  (Kafka's truncateFullyAndStartAt); otherwise it is past the leader's end and truncates
  again by epochs (fetchOffsetAndTruncate).
- DELAYED for `replica.fetch.backoff.ms` after an error the leader may get over
  (NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH, an unknown topic while it is being
  created, the leader unreachable): fetched again afterwards.
- FAILED on FENCED_LEADER_EPOCH (the leader has a newer epoch than this follower knows) or
  a storage error: idle until the replica manager adds the partition again with newer
  metadata.

Fetch v15, the first version that carries the replica's id and broker epoch in
`replica_state` (before it, `replica_id` in the body): Kafka's followers fetch by topic id.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kio.schema.errors import ErrorCode

from ...errors import KafkaError
from ...log.partition import PartitionLog
from ...protocol.names import ApiKey, IsolationLevel, ListOffsetsTimestamp
from ..peer import PeerClient, PeerUnavailable
from .truncation import UNDEFINED_EPOCH, truncation_point

log = logging.getLogger(__name__)

FETCH_VERSION = 15
OFFSET_FOR_LEADER_EPOCH_VERSION = 4
LIST_OFFSETS_VERSION = 7
REPLICA_FETCH_BACKOFF_MS = 1_000
"""Kafka's `replica.fetch.backoff.ms` default."""
REPLICA_FETCH_WAIT_MAX_MS = 500
"""Kafka's `replica.fetch.wait.max.ms` default: the leader's long poll."""
REPLICA_FETCH_MAX_BYTES = 1_048_576
"""Kafka's `replica.fetch.max.bytes` default, per partition."""
REPLICA_FETCH_RESPONSE_MAX_BYTES = 10_485_760
"""Kafka's `replica.fetch.response.max.bytes` default."""
CONSUMER_REPLICA_ID = -1
"""Fetching as a consumer does: up to the leader's high watermark, not followed by it."""
_FINAL_EPOCH = -1
"""A sessionless full fetch (KIP-227)."""

_FENCED = frozenset({ErrorCode.fenced_leader_epoch, ErrorCode.kafka_storage_error})


class FetchState(enum.Enum):
    TRUNCATING = "truncating"
    OUT_OF_RANGE = "out of range"
    FETCHING = "fetching"
    DELAYED = "delayed"
    FAILED = "failed"


@dataclass(slots=True)
class FollowedPartition:
    log: PartitionLog
    topic_id: uuid.UUID
    leader_epoch: int
    """The current leader epoch this follower knows, sent so the leader can fence it."""
    state: FetchState = FetchState.TRUNCATING
    delayed_until: float = 0.0
    """When a DELAYED partition becomes ready again (the loop's clock)."""

    @property
    def last_fetched_epoch(self) -> int:
        latest = self.log.epochs.latest()
        return UNDEFINED_EPOCH if latest is None else latest[0]


class ReplicaFetcher:
    def __init__(
        self,
        leader: PeerClient,
        *,
        replica_id: int,
        replica_epoch: int = -1,
        backoff_ms: int = REPLICA_FETCH_BACKOFF_MS,
        wait_max_ms: int = REPLICA_FETCH_WAIT_MAX_MS,
        partition_max_bytes: int = REPLICA_FETCH_MAX_BYTES,
        response_max_bytes: int = REPLICA_FETCH_RESPONSE_MAX_BYTES,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.leader = leader
        self.replica_id = replica_id
        self.replica_epoch = replica_epoch
        self.backoff_s = backoff_ms / 1000
        self.wait_max_ms = wait_max_ms
        self.partition_max_bytes = partition_max_bytes
        self.response_max_bytes = response_max_bytes
        self.now_ms = now_ms
        self.partitions: dict[tuple[str, int], FollowedPartition] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- what the replica manager says ----------------------------------------------------

    def add(self, partition_log: PartitionLog, topic_id: uuid.UUID, leader_epoch: int) -> None:
        """Follow this partition's leader from now on; a partition already followed in the
        same leader epoch keeps its state unless it FAILED (Kafka's addPartitions)."""
        key = (partition_log.topic, partition_log.partition)
        current = self.partitions.get(key)
        if (
            current is not None
            and current.leader_epoch == leader_epoch
            and current.state is not FetchState.FAILED
        ):
            return
        self.partitions[key] = FollowedPartition(partition_log, topic_id, leader_epoch)
        self._changed.set()

    def remove(self, topic: str, partition: int) -> None:
        """Stop following: this broker leads it now, or no longer holds a replica."""
        self.partitions.pop((topic, partition), None)
        self._changed.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"fetcher from {self.leader}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            for followed in self.partitions.values():
                if followed.state is FetchState.DELAYED and followed.delayed_until <= now:
                    followed.state = FetchState.FETCHING
            truncating = self._in(FetchState.TRUNCATING)
            if truncating:
                await self._guarded(self._truncate, truncating)
                continue
            out_of_range = self._in(FetchState.OUT_OF_RANGE)
            if out_of_range:
                await self._guarded(self._start_again, out_of_range)
                continue
            fetching = self._in(FetchState.FETCHING)
            if fetching:
                await self._guarded(self._fetch, fetching)
                continue
            await self._idle(now)

    def _in(self, state: FetchState) -> list[FollowedPartition]:
        return [p for p in self.partitions.values() if p.state is state]

    async def _idle(self, now: float) -> None:
        """Wait for a partition to be added, or the next delayed one to become ready."""
        delays = [
            p.delayed_until for p in self.partitions.values() if p.state is FetchState.DELAYED
        ]
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(delays) - now if delays else None):
                await self._changed.wait()

    async def _guarded(
        self,
        step: Callable[[list[FollowedPartition]], Any],
        partitions: list[FollowedPartition],
    ) -> None:
        """One request to the leader; if it cannot be had, every partition in it waits
        replica.fetch.backoff.ms (Kafka delays all the partitions of a failed fetch)."""
        try:
            await step(partitions)
        except PeerUnavailable as exc:
            log.info("fetching from %s failed: %s", self.leader, exc)
            for followed in partitions:
                self._delay(followed)

    def _delay(self, followed: FollowedPartition) -> None:
        followed.state = FetchState.DELAYED
        followed.delayed_until = asyncio.get_running_loop().time() + self.backoff_s

    def _current(self, followed: FollowedPartition) -> bool:
        """Whether the partition is still followed as it was when the request went out."""
        key = (followed.log.topic, followed.log.partition)
        return self.partitions.get(key) is followed

    def _refused(self, followed: FollowedPartition, error: ErrorCode) -> None:
        log.info("%s: the leader answered %s", followed.log.name, error.name)
        if error in _FENCED:
            followed.state = FetchState.FAILED
        else:
            self._delay(followed)

    # -- truncating ---------------------------------------------------------------------

    async def _truncate(self, partitions: list[FollowedPartition]) -> None:
        asking = []
        for followed in partitions:
            if followed.last_fetched_epoch == UNDEFINED_EPOCH:
                # no epochs to compare: keep what the leader acknowledged (Kafka's
                # truncateToHighWatermark)
                if self._cut(followed, followed.log.high_watermark):
                    followed.state = FetchState.FETCHING
            else:
                asking.append(followed)
        if not asking:
            return
        answers = await self._ask(
            ApiKey.OFFSET_FOR_LEADER_EPOCH,
            OFFSET_FOR_LEADER_EPOCH_VERSION,
            {"replica_id": self.replica_id},
            asking,
            lambda f: {
                "partition": f.log.partition,
                "current_leader_epoch": f.leader_epoch,
                "leader_epoch": f.last_fetched_epoch,
            },
            keys=("topic", "partition"),
        )
        for asked, answer in answers:
            if self._truncate_to_leader(asked, answer.leader_epoch, answer.end_offset):
                asked.state = FetchState.FETCHING

    async def _ask(
        self,
        api_key: ApiKey,
        version: int,
        head: dict[str, Any],
        partitions: list[FollowedPartition],
        entry: Callable[[FollowedPartition], dict[str, Any]],
        *,
        keys: tuple[str, str],
    ) -> list[tuple[FollowedPartition, Any]]:
        """One request about `partitions` by topic name (`entry(f)` is each partition's
        part; `keys` name the topic and partition fields): the error-free answers for those
        still followed as they were. A refused partition is handled (`_refused`); one left
        unanswered waits replica.fetch.backoff.ms, not to ask again at once, and again."""
        topic_key, partition_key = keys
        by_topic: dict[str, list[FollowedPartition]] = {}
        for followed in partitions:
            by_topic.setdefault(followed.log.topic, []).append(followed)
        response = await self.leader.call(
            api_key,
            version,
            {
                **head,
                "topics": [
                    {topic_key: topic, "partitions": [entry(f) for f in followed]}
                    for topic, followed in by_topic.items()
                ],
            },
        )
        unanswered = {id(f): f for f in partitions}
        answers = []
        for topic in response.topics:
            for answer in topic.partitions:
                key = (getattr(topic, topic_key), getattr(answer, partition_key))
                asked = self.partitions.get(key)
                if asked is None or unanswered.pop(id(asked), None) is None:
                    continue
                if answer.error_code != ErrorCode.none:
                    self._refused(asked, answer.error_code)
                else:
                    answers.append((asked, answer))
        for followed in unanswered.values():
            self._delay(followed)
        return answers

    def _truncate_to_leader(
        self, followed: FollowedPartition, leader_epoch: int, leader_end_offset: int
    ) -> bool:
        """Cut the log where the leader's answer says it diverges; whether that was final."""
        partition_log = followed.log
        point = truncation_point(
            leader_epoch,
            leader_end_offset,
            end_offset_for=partition_log.epochs.end_offset_for,
            log_end_offset=partition_log.log_end_offset,
            fetch_offset=partition_log.high_watermark,
        )
        if point.offset < partition_log.log_end_offset:
            log.info(
                "%s: truncating from %d to %d (leader epoch %d ends at %d there)",
                partition_log.name,
                partition_log.log_end_offset,
                point.offset,
                leader_epoch,
                leader_end_offset,
            )
            return self._cut(followed, point.offset) and point.complete
        return point.complete

    def _cut(self, followed: FollowedPartition, offset: int) -> bool:
        """Truncate; a failed truncation leaves the partition FAILED, as Kafka marks a
        partition whose log it cannot change."""
        try:
            followed.log.truncate_to(offset)
        except OSError as exc:
            log.error("%s: cannot truncate to %d: %s", followed.log.name, offset, exc)
            followed.state = FetchState.FAILED
            return False
        return True

    async def _start_again(self, partitions: list[FollowedPartition]) -> None:
        answers = await self._ask(
            ApiKey.LIST_OFFSETS,
            LIST_OFFSETS_VERSION,
            {"replica_id": self.replica_id, "isolation_level": IsolationLevel.READ_UNCOMMITTED},
            partitions,
            lambda f: {
                "partition_index": f.log.partition,
                "current_leader_epoch": f.leader_epoch,
                "timestamp": ListOffsetsTimestamp.EARLIEST,
            },
            keys=("name", "partition_index"),
        )
        for asked, answer in answers:
            if answer.offset <= asked.log.log_end_offset:
                asked.state = FetchState.TRUNCATING  # past the leader's end
            elif self._start_at(asked, answer.offset):
                asked.state = FetchState.FETCHING

    def _start_at(self, followed: FollowedPartition, offset: int) -> bool:
        partition_log = followed.log
        log.info(
            "%s: the leader's log starts at %d, past this log's end %d: starting again there",
            partition_log.name,
            offset,
            partition_log.log_end_offset,
        )
        try:
            partition_log.truncate_fully_and_start_at(offset)
        except OSError as exc:
            log.error("%s: cannot start again at %d: %s", partition_log.name, offset, exc)
            followed.state = FetchState.FAILED
            return False
        return True

    # -- fetching -----------------------------------------------------------------------

    async def _fetch(self, partitions: list[FollowedPartition]) -> None:
        by_topic: dict[uuid.UUID, list[FollowedPartition]] = {}
        for followed in partitions:
            by_topic.setdefault(followed.topic_id, []).append(followed)
        offsets = {id(f): f.log.log_end_offset for f in partitions}
        response = await self.leader.call(
            ApiKey.FETCH,
            FETCH_VERSION,
            {
                "replica_state": {
                    "replica_id": self.replica_id,
                    "replica_epoch": self.replica_epoch,
                },
                "max_wait": self.wait_max_ms,
                "min_bytes": 1,
                "max_bytes": self.response_max_bytes,
                "isolation_level": IsolationLevel.READ_UNCOMMITTED,
                "session_id": 0,
                "session_epoch": _FINAL_EPOCH,
                "topics": [
                    {
                        "topic_id": topic_id,
                        "partitions": [self._fetch_partition(f) for f in followed],
                    }
                    for topic_id, followed in by_topic.items()
                ],
            },
            timeout_s=self.leader.timeout_s + self.wait_max_ms / 1000,
        )
        if response.error_code != ErrorCode.none:
            for followed in partitions:
                self._refused(followed, response.error_code)
            return
        sent = {(f.topic_id, f.log.partition): f for f in partitions}
        for topic in response.responses:
            for data in topic.partitions:
                fetched = sent.get((topic.topic_id, data.partition_index))
                if (
                    fetched is not None
                    and self._current(fetched)
                    and fetched.state is FetchState.FETCHING
                    and fetched.log.log_end_offset == offsets[id(fetched)]
                ):
                    self._fetched(fetched, data)

    def _fetch_partition(self, followed: FollowedPartition) -> dict[str, Any]:
        return {
            "partition": followed.log.partition,
            "current_leader_epoch": followed.leader_epoch,
            "fetch_offset": followed.log.log_end_offset,
            "last_fetched_epoch": followed.last_fetched_epoch,
            "log_start_offset": followed.log.log_start_offset,
            "partition_max_bytes": self.partition_max_bytes,
        }

    def _fetched(self, followed: FollowedPartition, data: Any) -> None:
        if data.error_code == ErrorCode.offset_out_of_range:
            followed.state = FetchState.OUT_OF_RANGE
            return
        if data.error_code != ErrorCode.none:
            self._refused(followed, data.error_code)
            return
        diverging = data.diverging_epoch
        if diverging.epoch != UNDEFINED_EPOCH:
            # truncate, and append nothing from this answer: its high watermark may be
            # beyond what this log holds after the cut (AbstractFetcherThread)
            if not self._truncate_to_leader(followed, diverging.epoch, diverging.end_offset):
                followed.state = FetchState.TRUNCATING
            return
        partition_log = followed.log
        try:
            if data.records:  # a partial batch at the end is left out, fetched again next
                partition_log.append_as_follower(data.records, self.now_ms())
            partition_log.set_high_watermark(data.high_watermark)
            if data.log_start_offset > partition_log.log_start_offset:
                # the leader's retention or DeleteRecords moved its start: so does ours
                # (Kafka's maybeIncrementLogStartOffset), never past what we hold
                start = min(data.log_start_offset, partition_log.high_watermark)
                partition_log.delete_records_before(start, self.now_ms())
        except KafkaError as exc:
            log.warning("%s: cannot append what the leader sent: %s", partition_log.name, exc)
            self._refused(followed, exc.code)
