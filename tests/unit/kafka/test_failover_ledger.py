"""The failover demo's ledger, fed by hand: lost records are acknowledged ids never consumed,
counted from the ids, and called lost only once the ledger is settled."""

from __future__ import annotations

from tui.kafka.failover_ledger import FailoverLedger


def ledger_with(sent: int, acknowledged: range, consumed: dict[int, int]) -> FailoverLedger:
    ledger = FailoverLedger()
    for _ in range(sent):
        ledger.next_id()
    for record_id in acknowledged:
        ledger.acknowledge(record_id)
    for record_id, offset in consumed.items():
        ledger.consume(record_id, offset)
    return ledger


def test_an_acknowledged_id_never_consumed_is_lost_once_settled() -> None:
    ledger = ledger_with(5, range(4), {0: 0, 1: 1, 3: 2})
    tally = ledger.tally()
    assert (tally.sent, tally.acknowledged, tally.consumed, tally.unconsumed) == (5, 4, 3, 1)
    assert tally.in_flight == 1
    assert tally.lost is None, "while records are on their way, nothing is called lost"
    ledger.settle()
    assert ledger.tally().lost == 1
    assert ledger.unconsumed == {2}


def test_every_acknowledged_id_consumed_is_none_lost() -> None:
    ledger = ledger_with(3, range(3), {0: 0, 1: 1, 2: 2})
    ledger.settle()
    assert ledger.tally().lost == 0


def test_a_consumed_id_that_was_not_acknowledged_does_not_hide_a_lost_one() -> None:
    """Counting ids, not records: a read of an unacknowledged id (a send that timed out but
    was written) does not make up for an acknowledged one that is missing."""
    ledger = ledger_with(3, range(2), {1: 0, 2: 1})
    ledger.settle()
    assert ledger.tally().lost == 1 and ledger.unconsumed == {0}


def test_duplicates_are_ids_at_two_offsets_and_redeliveries_offsets_read_twice() -> None:
    ledger = ledger_with(3, range(3), {0: 0, 1: 1, 2: 2})
    ledger.consume(1, 1)  # the consumer resumed from an older commit
    ledger.consume(2, 3)  # the producer wrote id 2 twice
    tally = ledger.tally()
    assert (tally.consumed, tally.duplicates, tally.redelivered) == (3, 1, 1)


def test_retries_and_failures_are_counted_by_error() -> None:
    ledger = ledger_with(2, range(1), {})
    ledger.retry("NOT_LEADER_OR_FOLLOWER")
    ledger.retry("NOT_LEADER_OR_FOLLOWER")
    ledger.retry("KafkaConnectionError")
    ledger.fail("KafkaTimeoutError")
    tally = ledger.tally()
    assert (tally.retries, tally.failed, tally.in_flight) == (3, 1, 0)
    assert ledger.retried["NOT_LEADER_OR_FOLLOWER"] == 2
