"""Where a cluster's transaction markers go and what each leader's answer means, without a
broker (Kafka's TransactionMarkerChannelManager and TransactionMarkerRequestCompletionHandler)."""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode

from localbroker.cluster.partitions import NO_LEADER
from localbroker.transactions.marker_routing import (
    MarkerOutcome,
    UnexpectedMarkerError,
    by_leader,
    marker_outcome,
)


def test_markers_are_grouped_per_leader_and_gone_partitions_need_none() -> None:
    leaders = {("a", 0): 1, ("a", 1): 2, ("b", 0): 1, ("c", 0): NO_LEADER}

    grouped, gone = by_leader(
        [("b", 0), ("a", 1), ("deleted", 0), ("a", 0), ("c", 0)],
        lambda topic, partition: leaders.get((topic, partition)),
    )

    assert grouped == {1: [("a", 0), ("b", 0)], 2: [("a", 1)], NO_LEADER: [("c", 0)]}
    assert gone == [("deleted", 0)]


ANSWERS = {
    MarkerOutcome.WRITTEN: [ErrorCode.none],
    MarkerOutcome.RETRY: [
        ErrorCode.not_leader_or_follower,
        ErrorCode.not_enough_replicas_after_append,
        ErrorCode.request_timed_out,
        ErrorCode.network_exception,
    ],
    MarkerOutcome.CANCEL: [
        ErrorCode.invalid_producer_epoch,
        ErrorCode.transaction_coordinator_fenced,
    ],
    MarkerOutcome.SKIP: [ErrorCode.unsupported_for_message_format, ErrorCode.unsupported_version],
}
"""Some of each of Kafka's groups of answers (network_exception: the leader could not be
reached)."""


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(error, outcome) for outcome, errors in ANSWERS.items() for error in errors],
)
def test_each_answer_as_kafkas_completion_handler_takes_it(
    error: ErrorCode, outcome: MarkerOutcome
) -> None:
    assert marker_outcome(error) == outcome


@pytest.mark.parametrize("error", [ErrorCode.corrupt_message, ErrorCode.message_too_large])
def test_an_answer_to_a_marker_the_coordinator_built_wrong_is_a_bug(error: ErrorCode) -> None:
    with pytest.raises(UnexpectedMarkerError):
        marker_outcome(error)
