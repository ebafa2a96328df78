"""Waiting out a coordinator or a partition leader that is not ready yet, as Kafka's own
clients do.

Apache Kafka creates `__consumer_offsets` on the first group request it sees: until its
partitions have leaders it answers FindCoordinator with COORDINATOR_NOT_AVAILABLE, and then
the group requests with NOT_COORDINATOR for a while (about 2.5 s measured on Kafka 4.1 just
started, on two cores). After a restart or a leader move a coordinator answers
COORDINATOR_LOAD_IN_PROGRESS while it reads its partition back. Kafka's admin client and
consumers treat all three as retriable: they find the coordinator again and retry, with
`retry.backoff.ms` growing to `retry.backoff.max.ms`, until their timeout
(default.api.timeout.ms). So `kafka-consumer-groups --reset-offsets` on a cluster just
started succeeds; a client that gives up at the first answer shows the user an error instead.

The same holds for a topic just created: Kafka's Metadata names the partition's leader
before that broker has taken the lead (KRaft brokers apply the controller's records a
moment later), and the leader answers NOT_LEADER_OR_FOLLOWER until it has; Kafka's
clients refresh the metadata and ask again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from kio.schema.errors import ErrorCode

from .errors import KafkaToolError

T = TypeVar("T")

COORDINATOR_NOT_READY = frozenset(
    {
        ErrorCode.coordinator_load_in_progress,
        ErrorCode.coordinator_not_available,
        ErrorCode.not_coordinator,
    }
)
"""The errors after which Kafka's clients find the coordinator again and retry."""
LEADER_NOT_READY = frozenset({ErrorCode.not_leader_or_follower, ErrorCode.leader_not_available})
"""The errors after which Kafka's clients look the leader up again and retry."""
RETRY_BACKOFF_S = 0.1
"""retry.backoff.ms's default."""
RETRY_BACKOFF_MAX_S = 1.0
"""retry.backoff.max.ms's default: the pause doubles up to it."""


async def until_ready(
    attempt: Callable[[], Awaitable[T]],
    errors_of: Callable[[T], Iterable[int]],
    timeout_s: float,
    on_retry: Callable[[], None] = lambda: None,
    retriable: frozenset[ErrorCode] = COORDINATOR_NOT_READY,
) -> T:
    """`attempt()`, again after a growing pause (and `on_retry()`, to forget the coordinator)
    while it raises one of `retriable` or answers one in `errors_of(answer)`, for at most
    `timeout_s` seconds; then the last answer or error stands, for the caller to report as
    it reports any other."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pause = RETRY_BACKOFF_S
    while True:
        try:
            answer = await attempt()
        except KafkaToolError as exc:
            if exc.code not in retriable or loop.time() + pause > deadline:
                raise
        else:
            waiting = any(code in retriable for code in errors_of(answer))
            if not waiting or loop.time() + pause > deadline:
                return answer
        on_retry()
        await asyncio.sleep(pause)
        pause = min(pause * 2, RETRY_BACKOFF_MAX_S)
