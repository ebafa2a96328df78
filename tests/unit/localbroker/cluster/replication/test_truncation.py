"""truncation_point: where a follower cuts its log to agree with its leader's."""

from __future__ import annotations

import pytest

from localbroker.cluster.replication.truncation import (
    UNDEFINED_EPOCH,
    UNDEFINED_EPOCH_OFFSET,
    Truncation,
    truncation_point,
)

FOLLOWER_EPOCHS = [(0, 0), (2, 40), (5, 70)]
"""The follower's epoch cache (epoch, start offset); its log ends at 100."""
FOLLOWER_END = 100


def end_offset_for(epoch: int) -> tuple[int, int]:
    """LeaderEpochFileCache.endOffsetFor over FOLLOWER_EPOCHS."""
    known = [(e, start) for e, start in FOLLOWER_EPOCHS if e <= epoch]
    if not known:
        return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
    found, _ = known[-1]
    later = [start for e, start in FOLLOWER_EPOCHS if e > found]
    return found, later[0] if later else FOLLOWER_END


@pytest.mark.parametrize(
    ("leader_epoch", "leader_end", "expected"),
    [
        (5, 100, Truncation(100, True)),  # the leader has all of it: nothing goes
        (5, 85, Truncation(85, True)),  # the leader's epoch 5 ended earlier
        (5, 120, Truncation(100, True)),  # never past the follower's own end
        (2, 60, Truncation(60, True)),  # epoch 2 ends at 60 there, at 70 here
        (4, 65, Truncation(70, False)),  # epoch 4 unknown here: cut to the end of 2, ask again
        (1, 30, Truncation(40, False)),  # epoch 1 unknown here: cut to the end of 0
        (UNDEFINED_EPOCH, 50, Truncation(50, True)),
        (UNDEFINED_EPOCH, 150, Truncation(100, True)),  # never past the follower's own end
        (5, UNDEFINED_EPOCH_OFFSET, Truncation(90, True)),  # unknown there: the fetch offset
    ],
)
def test_truncation_point_follows_kafkas_fetcher(
    leader_epoch: int, leader_end: int, expected: Truncation
) -> None:
    point = truncation_point(
        leader_epoch,
        leader_end,
        end_offset_for=end_offset_for,
        log_end_offset=FOLLOWER_END,
        fetch_offset=90,
    )
    assert point == expected


def test_an_epoch_below_all_the_follower_knows_takes_the_leaders_offset() -> None:
    def nothing_below(epoch: int) -> tuple[int, int]:
        return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET

    point = truncation_point(
        3, 55, end_offset_for=nothing_below, log_end_offset=FOLLOWER_END, fetch_offset=90
    )
    assert point == Truncation(55, True)
