"""Where a decided end's markers go in a cluster, and what each partition's answer means:
the sans-IO half of Kafka's TransactionMarkerChannelManager and its
TransactionMarkerRequestCompletionHandler (the sending is cluster/txn_markers.py).

Markers are grouped per leader, one WriteTxnMarkers request per broker. A partition whose
topic is gone needs no marker; one without a leader waits for the next metadata, like one
whose leader answered a retriable error: the coordinator keeps sending, to the leader the
metadata names by then, until every partition holds its marker.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

from kio.schema.errors import ErrorCode

from .metadata import TopicPartition


class MarkerOutcome(enum.Enum):
    WRITTEN = "written"
    """The leader holds the marker (on its ISR): the partition is done."""
    RETRY = "retry"
    """Send again, to whichever broker leads the partition then."""
    CANCEL = "cancel"
    """The producer or this coordinator was fenced: stop sending this end altogether (a
    newer coordinator or producer epoch finishes the transaction)."""
    SKIP = "skip"
    """The partition cannot take a marker and its producer could not have written to it."""


_RETRIABLE = frozenset(
    {
        ErrorCode.unknown_topic_or_partition,
        ErrorCode.not_leader_or_follower,
        ErrorCode.not_enough_replicas,
        ErrorCode.not_enough_replicas_after_append,
        ErrorCode.request_timed_out,
        ErrorCode.kafka_storage_error,
        ErrorCode.network_exception,
    }
)
_FENCED = frozenset({ErrorCode.invalid_producer_epoch, ErrorCode.transaction_coordinator_fenced})
_SKIPPED = frozenset({ErrorCode.unsupported_for_message_format, ErrorCode.unsupported_version})


class UnexpectedMarkerError(Exception):
    """An answer Kafka's coordinator treats as a bug (IllegalStateException): CORRUPT_MESSAGE,
    MESSAGE_TOO_LARGE and the like for a marker it built itself."""


def marker_outcome(error: ErrorCode) -> MarkerOutcome:
    """What a leader's answer for one partition's marker means (the completion handler's
    match, in its groups)."""
    if error == ErrorCode.none:
        return MarkerOutcome.WRITTEN
    if error in _RETRIABLE:
        return MarkerOutcome.RETRY
    if error in _FENCED:
        return MarkerOutcome.CANCEL
    if error in _SKIPPED:
        return MarkerOutcome.SKIP
    raise UnexpectedMarkerError(f"Unexpected error {error.name} while sending a txn marker")


def by_leader(
    partitions: Iterable[TopicPartition], leader_of: Callable[[str, int], int | None]
) -> tuple[dict[int, list[TopicPartition]], list[TopicPartition]]:
    """The partitions grouped by leader (in partition order; a leaderless partition under
    its leader id, NO_LEADER), and those `leader_of` does not know: deleted, markerless."""
    grouped: dict[int, list[TopicPartition]] = {}
    gone: list[TopicPartition] = []
    for topic, partition in sorted(partitions):
        leader = leader_of(topic, partition)
        if leader is None:
            gone.append((topic, partition))
        else:
            grouped.setdefault(leader, []).append((topic, partition))
    return grouped, gone
