"""Where a new partition's replicas go: Kafka's StripedReplicaPlacer, rack-unaware.

Kafka walks the sorted unfenced brokers round-robin, each partition starting one broker
further on than the one before (the "stripes"), takes fenced brokers only once every
unfenced one is used, and never makes a fenced broker the leader (the first replica).
After as many partitions as there are unfenced brokers it shuffles the list so the next
round does not repeat the first.

Racks are not placed on (every broker counts as one rack: the brief for cluster mode is
rack-unaware), and Kafka's random start offset and shuffle come from the `random.Random`
the caller passes, so tests give one that neither moves the start nor shuffles and can
name exact placements.
"""

from __future__ import annotations

import random
from collections.abc import Container, Iterable, Sequence
from typing import NoReturn

from ..errors import KafkaError
from ..protocol.names import ErrorCode
from .partitions import BrokerRegistration


class _BrokerList:
    """Kafka's StripedReplicaPlacer.BrokerList: a sorted list read from a moving offset."""

    def __init__(self, brokers: Iterable[int], rng: random.Random) -> None:
        self.brokers = sorted(brokers)
        self.index = 0
        self.offset = rng.randrange(len(self.brokers)) if self.brokers else 0
        self.epoch = 0

    def next(self, epoch: int) -> int:
        """The next broker in this iteration epoch, or -1 when each has been returned."""
        if not self.brokers:
            return -1
        if self.epoch != epoch:  # a new partition starts one broker further on
            self.epoch = epoch
            self.index = 0
            self.offset = (self.offset + 1) % len(self.brokers)
        if self.index >= len(self.brokers):
            return -1
        broker = self.brokers[(self.index + self.offset) % len(self.brokers)]
        self.index += 1
        return broker


def place_replicas(
    brokers: Iterable[BrokerRegistration],
    num_partitions: int,
    replication_factor: int,
    rng: random.Random,
) -> list[tuple[int, ...]]:
    """Each new partition's replicas, the leader first (StripedReplicaPlacer.place).

    Raises KafkaError(INVALID_REPLICATION_FACTOR) with the message Kafka's controller
    answers CreateTopics with when the factor cannot be met.
    """
    registered = list(brokers)
    unfenced = _BrokerList((b.broker_id for b in registered if not b.fenced), rng)
    fenced = _BrokerList((b.broker_id for b in registered if b.fenced), rng)
    if replication_factor <= 0:
        _refuse(
            replication_factor,
            f"Invalid replication factor {replication_factor}: "
            "the replication factor must be positive.",
        )
    if not unfenced.brokers:
        _refuse(replication_factor, "All brokers are currently fenced.")
    if replication_factor > len(registered):
        _refuse(
            replication_factor,
            f"The target replication factor of {replication_factor} cannot be reached "
            f"because only {len(registered)} broker(s) are registered.",
        )
    placements: list[tuple[int, ...]] = []
    epoch = 0
    for _ in range(num_partitions):
        if epoch == len(unfenced.brokers) and len(unfenced.brokers) > 1:
            rng.shuffle(unfenced.brokers)
            rng.shuffle(fenced.brokers)
            epoch = 0
        replicas: list[int] = []  # unfenced is not empty, so the leader is never fenced
        while len(replicas) < replication_factor:
            broker = unfenced.next(epoch)
            replicas.append(broker if broker >= 0 else fenced.next(epoch))
        placements.append(tuple(replicas))
        epoch += 1
    return placements


def check_manual_assignment(
    replicas: Sequence[int], registered: Container[int], replication_factor: int | None
) -> None:
    """A replica list given by the client, checked as Kafka's controller does
    (ReplicationControlManager.validateManualPartitionAssignment).

    `replication_factor` is that of the topic's other partitions, None for the first; the
    single-node handlers can check against their one broker id with it too.
    """
    if not replicas:
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            "The manual partition assignment includes an empty replica list.",
        )
    previous = None
    for broker_id in sorted(replicas):
        if broker_id not in registered:
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes broker {broker_id}, "
                "but no such broker is registered.",
            )
        if broker_id == previous:
            raise KafkaError(
                ErrorCode.invalid_replica_assignment,
                f"The manual partition assignment includes the broker {broker_id} more than once.",
            )
        previous = broker_id
    if replication_factor is not None and len(replicas) != replication_factor:
        raise KafkaError(
            ErrorCode.invalid_replica_assignment,
            f"The manual partition assignment includes a partition with {len(replicas)} "
            "replica(s), but this is not consistent with previous partitions, which have "
            f"{replication_factor} replica(s).",
        )


def _refuse(replication_factor: int, reason: str) -> NoReturn:
    raise KafkaError(
        ErrorCode.invalid_replication_factor,
        f"Unable to replicate the partition {replication_factor} time(s): {reason}",
    )
