"""Replica placement as Kafka's StripedReplicaPlacer does it, without racks."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import MutableSequence
from typing import Any

import pytest

from localbroker.cluster.partitions import BrokerRegistration
from localbroker.cluster.placement import place_replicas
from localbroker.errors import KafkaError
from localbroker.protocol.names import ErrorCode


class Still(random.Random):
    """Kafka's random start offsets at 0 and no shuffle: placements a test can name."""

    def randrange(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def shuffle(self, x: MutableSequence[Any]) -> None:
        pass


def brokers(unfenced: list[int], fenced: list[int] = []) -> list[BrokerRegistration]:  # noqa: B006
    return [BrokerRegistration(b, 0, (), None, b in fenced) for b in unfenced + fenced]


@pytest.mark.parametrize(
    ("unfenced", "fenced", "partitions", "factor", "expected"),
    [
        # The stripes: each partition starts one broker further on.
        ([2, 0, 1], [], 4, 3, [(0, 1, 2), (1, 2, 0), (2, 0, 1), (0, 1, 2)]),
        ([0, 1, 2], [], 3, 1, [(0,), (1,), (2,)]),
        # Fenced brokers only once every unfenced one is used, and never first.
        ([0, 1, 2], [3], 2, 4, [(0, 1, 2, 3), (1, 2, 0, 3)]),
        ([0, 1], [2], 3, 3, [(0, 1, 2), (1, 0, 2), (0, 1, 2)]),
        ([1], [0, 2], 2, 2, [(1, 0), (1, 2)]),
    ],
)
def test_placements_are_stripes_of_the_unfenced_brokers_first(
    unfenced: list[int],
    fenced: list[int],
    partitions: int,
    factor: int,
    expected: list[tuple[int, ...]],
) -> None:
    """StripedReplicaPlacer.RackList.place with one rack: BrokerList.next moves its offset by
    one each new iteration epoch; Rack.next falls back to the fenced list."""
    assert place_replicas(brokers(unfenced, fenced), partitions, factor, Still()) == expected


def test_with_a_random_start_the_leaders_still_spread_evenly() -> None:
    placements = place_replicas(brokers([0, 1, 2, 3]), 40, 3, random.Random(5))
    assert all(len(set(p)) == 3 for p in placements)
    assert Counter(p[0] for p in placements) == {0: 10, 1: 10, 2: 10, 3: 10}


@pytest.mark.parametrize(
    ("unfenced", "fenced", "factor", "reason"),
    [
        ([0, 1], [], 0, "Invalid replication factor 0: the replication factor must be positive."),
        ([0, 1], [], -2, "Invalid replication factor -2: the replication factor must be positive."),
        ([], [0, 1], 1, "All brokers are currently fenced."),
        (
            [0, 1],
            [2],
            4,
            "The target replication factor of 4 cannot be reached because only 3 broker(s) "
            "are registered.",
        ),
    ],
)
def test_a_factor_that_cannot_be_met_is_kafkas_invalid_replication_factor(
    unfenced: list[int], fenced: list[int], factor: int, reason: str
) -> None:
    """The placer's messages, prefixed as ReplicationControlManager.createTopic does."""
    with pytest.raises(KafkaError) as refused:
        place_replicas(brokers(unfenced, fenced), 1, factor, Still())
    assert refused.value.code is ErrorCode.invalid_replication_factor
    assert refused.value.message == f"Unable to replicate the partition {factor} time(s): {reason}"
