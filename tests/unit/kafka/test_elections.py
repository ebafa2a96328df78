"""election_summary: a preferred-leader election on every partition, told in one line."""

from __future__ import annotations

from localbroker.public import ErrorCode
from tui.kafka.elections import ElectionResult, election_summary


def test_nothing_to_elect_is_no_failure() -> None:
    assert election_summary([]) == (
        "no election needed: every partition is led by its preferred replica"
    )


def test_elected_and_refused_partitions_are_named_with_kafkas_error() -> None:
    results = [
        ElectionResult("orders", 0, ErrorCode.none, None),
        ElectionResult("orders", 1, ErrorCode.election_not_needed, None),
        ElectionResult("orders", 2, ErrorCode.preferred_leader_not_available, None),
    ]
    assert election_summary(results) == (
        "preferred leader elected on orders-0 · not elected: orders-2:"
        " PREFERRED_LEADER_NOT_AVAILABLE: The preferred leader was not available."
        " · no election needed on the others"
    )
