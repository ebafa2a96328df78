"""What the failover demo's producer and consumer did, by record id: the proof the demo shows.

The producer numbers its records (the value is the id, "17"); the ledger keeps which ids were
sent, which the cluster acknowledged (acks=all: every in-sync replica has them), which failed
for good, and which the consumer read at which offsets. Lost records are counted, never
assumed: an acknowledged id the consumer has not read. While records are on their way that is
only "not yet consumed"; once the producer has stopped with every send answered and the
consumer has read what it can (`settle`), what remains is lost.

Fed by the clients' callbacks only, so it is read and tested without a cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


def by_error(counts: Iterable[tuple[str, int]]) -> str:
    """ "NOT_LEADER_OR_FOLLOWER: 12, KafkaConnectionError: 2" for the retries' errors."""
    return ", ".join(f"{name}: {count}" for name, count in counts)


@dataclass(frozen=True, slots=True)
class Tally:
    """The ledger's counts at one moment, as the screen shows them."""

    sent: int
    acknowledged: int
    failed: int
    consumed: int
    """Distinct ids read."""
    unconsumed: int
    """Acknowledged ids not read (yet)."""
    duplicates: int
    """Ids stored at more than one offset (an idempotent producer writes none)."""
    redelivered: int
    """Reads of an offset already read (a consumer resuming from its last commit)."""
    retries: int
    """Produce requests the producer retried after an error."""
    settled: bool
    """The producer stopped and the consumer read what it could: unconsumed ids are lost."""

    @property
    def in_flight(self) -> int:
        return self.sent - self.acknowledged - self.failed

    @property
    def lost(self) -> int | None:
        """Acknowledged and never consumed; None until the ledger is settled."""
        return self.unconsumed if self.settled else None


class FailoverLedger:
    def __init__(self) -> None:
        self.sent = 0
        self.acknowledged: set[int] = set()
        self.failed: Counter[str] = Counter()
        """Sends that failed for good, by error name (an idempotent producer retries instead)."""
        self.retried: Counter[str] = Counter()
        """Produce requests retried, by the error that caused the retry."""
        self.offsets: dict[int, set[int]] = {}
        """Each consumed id and the offsets it was read at."""
        self.reads: Counter[int] = Counter()
        """How many times each offset was read."""
        self.settled = False

    def next_id(self) -> int:
        """The id of the next record to send (counted as sent)."""
        self.sent += 1
        return self.sent - 1

    def acknowledge(self, record_id: int) -> None:
        self.acknowledged.add(record_id)

    def fail(self, error: str) -> None:
        self.failed[error] += 1

    def retry(self, error: str) -> None:
        self.retried[error] += 1

    def consume(self, record_id: int, offset: int) -> None:
        self.offsets.setdefault(record_id, set()).add(offset)
        self.reads[offset] += 1

    def settle(self) -> None:
        """The producer is done and the consumer has read what it will: count the lost."""
        self.settled = True

    @property
    def unconsumed(self) -> set[int]:
        return self.acknowledged - self.offsets.keys()

    def tally(self) -> Tally:
        return Tally(
            sent=self.sent,
            acknowledged=len(self.acknowledged),
            failed=self.failed.total(),
            consumed=len(self.offsets),
            unconsumed=len(self.unconsumed),
            duplicates=sum(1 for offsets in self.offsets.values() if len(offsets) > 1),
            redelivered=sum(count - 1 for count in self.reads.values()),
            retries=self.retried.total(),
            settled=self.settled,
        )
