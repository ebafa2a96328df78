"""truncation_point and diverging_epoch: where a follower cuts its log, and where its
leader says it diverges."""

from __future__ import annotations

import pytest
from kio.schema.errors import ErrorCode

from localbroker.cluster.replication.truncation import (
    UNDEFINED_EPOCH,
    UNDEFINED_EPOCH_OFFSET,
    Truncation,
    diverging_epoch,
    truncation_point,
)
from localbroker.errors import KafkaError

EPOCHS = [(0, 0), (2, 40), (5, 70)]
"""An epoch cache (epoch, start offset): the follower's, or the leader's for
diverging_epoch; its log ends at 100."""
LOG_END = 100


def end_offset_for(epoch: int) -> tuple[int, int]:
    """LeaderEpochFileCache.endOffsetFor over EPOCHS."""
    known = [(e, start) for e, start in EPOCHS if e <= epoch]
    if not known:
        return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
    found, _ = known[-1]
    later = [start for e, start in EPOCHS if e > found]
    return found, later[0] if later else LOG_END


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
        log_end_offset=LOG_END,
        fetch_offset=90,
    )
    assert point == expected


def test_an_epoch_below_all_the_follower_knows_takes_the_leaders_offset() -> None:
    def nothing_below(epoch: int) -> tuple[int, int]:
        return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET

    point = truncation_point(
        3, 55, end_offset_for=nothing_below, log_end_offset=LOG_END, fetch_offset=90
    )
    assert point == Truncation(55, True)


@pytest.mark.parametrize(
    ("last_fetched_epoch", "fetch_offset", "diverging"),
    [
        (5, 100, None),  # caught up
        (5, 90, None),
        (2, 70, None),  # epoch 2 ends at 70 here too: fetch on
        (2, 75, (2, 70)),  # the follower went on in epoch 2 past where it ended here
        (3, 72, (2, 70)),  # epoch 3 never happened here
        (6, 100, (5, 100)),  # an epoch newer than the leader's
        (UNDEFINED_EPOCH, 55, None),  # no epoch sent: nothing to compare
    ],
)
def test_diverging_epoch_as_kafkas_leader_answers(
    last_fetched_epoch: int, fetch_offset: int, diverging: tuple[int, int] | None
) -> None:
    answer = diverging_epoch(
        last_fetched_epoch,
        fetch_offset,
        end_offset_for=end_offset_for,
        log_start_offset=10,
        log_end_offset=100,
        partition="t-0",
    )
    assert answer == diverging


@pytest.mark.parametrize(("last_fetched_epoch", "fetch_offset"), [(0, 50), (5, 9)])
def test_an_epoch_or_offset_the_leader_cannot_place_is_out_of_range(
    last_fetched_epoch: int, fetch_offset: int
) -> None:
    def above_zero(epoch: int) -> tuple[int, int]:
        return end_offset_for(epoch) if epoch > 0 else (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)

    with pytest.raises(KafkaError) as raised:
        diverging_epoch(
            last_fetched_epoch,
            fetch_offset,
            end_offset_for=above_zero,
            log_start_offset=10,
            log_end_offset=100,
            partition="t-0",
        )
    assert raised.value.code == ErrorCode.offset_out_of_range
