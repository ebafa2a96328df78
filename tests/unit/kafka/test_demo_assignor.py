"""The rebalance demo's pieces that need no broker: the consumer protocol bytes its members
send, the leader's assignors, and the group picture built from events."""

from __future__ import annotations

from localbroker.groups.events import (
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
)
from localbroker.protocol.consumer_protocol import assigned_partitions, subscribed_topics
from localbroker.protocol.names import GroupState
from tui.kafka.demo_assignor import (
    Subscription,
    assignment,
    partitions_of,
    range_assign,
    read_subscription,
    sticky_assign,
    subscription,
)
from tui.kafka.demo_events import GroupPicture, member_name, shorten_ids
from tui.kafka.demo_ledger import PartitionLedger

ID = "consumer-2-0b4c6f8e-7d1a-4e55-9a3b-3f6c2d1e9a70"


def test_the_bytes_are_kafkas_consumer_protocol() -> None:
    """What the broker (and any Kafka tool describing the group) reads from them."""
    assert subscribed_topics(subscription("orders", [3, 1])) == ["orders"]
    assert read_subscription("m", subscription("orders", [3, 1]), "orders").owned == (1, 3)
    assert assigned_partitions(assignment("orders", [4, 0])) == {"orders": [0, 4]}
    assert partitions_of(assignment("orders", [4, 0]), "orders") == [0, 4]
    assert read_subscription("m", b"\x00", "orders").owned == ()


def test_range_gives_contiguous_runs_the_first_members_one_more() -> None:
    assert range_assign(["b", "a", "c", "d"], 6) == {
        "a": [0, 1],
        "b": [2, 3],
        "c": [4],
        "d": [5],
    }


def test_sticky_moves_only_the_partitions_of_a_member_that_is_gone() -> None:
    before = {"a": (0, 1), "b": (2, 3), "c": (4, 5)}
    after = sticky_assign([Subscription(m, ps) for m, ps in before.items() if m != "b"], 6)
    assert {0, 1} <= set(after["a"]) and {4, 5} <= set(after["c"])
    assert sorted(after["a"] + after["c"]) == list(range(6))
    assert {len(ps) for ps in after.values()} == {3}


def test_sticky_stays_balanced_when_a_member_joins() -> None:
    owned = [Subscription("a", (0, 1, 2)), Subscription("b", (3, 4, 5)), Subscription("c", ())]
    after = sticky_assign(owned, 6)
    assert sorted(len(ps) for ps in after.values()) == [2, 2, 2]
    assert set(after["a"]) <= {0, 1, 2} and set(after["b"]) <= {3, 4, 5}


def test_member_names_come_from_the_member_id() -> None:
    assert member_name(ID) == "consumer-2"
    assert member_name("no-uuid-here") == "no-uuid-here"
    assert shorten_ids(f"session of {ID} expired") == "session of consumer-2 expired"


def test_the_picture_follows_a_kill_expiry_and_takeover() -> None:
    picture = GroupPicture("g", "orders")
    one = "consumer-1-11111111-1111-4111-8111-111111111111"
    picture.apply(MemberJoined("g", one, None, "consumer-1", "/127.0.0.1", 1))
    picture.apply(MemberJoined("g", ID, None, "consumer-2", "/127.0.0.1", 2))
    picture.apply(
        RebalanceCompleted("g", 1, "sticky", one, {one: {"orders": [0]}, ID: {"orders": [1]}}, 3)
    )
    picture.apply(OffsetCommitted("g", "orders", 1, 40, "consumer-2", 4))
    picture.apply(OffsetCommitted("other-group", "orders", 1, 99, "x", 4))
    assert picture.owner_of(1) == ID and picture.committed == {1: 40}
    picture.apply(MemberLeft("g", ID, None, "expired", 5))
    assert picture.owner_of(1) is None
    picture.apply(RebalanceStarted("g", 1, f"session of {ID} expired", 5))
    assert picture.state is GroupState.PREPARING_REBALANCE
    picture.apply(RebalanceCompleted("g", 2, "sticky", one, {one: {"orders": [0, 1]}}, 6))
    assert picture.state is GroupState.STABLE
    assert picture.generation == 2 and picture.owner_of(1) == one
    texts = [entry.text for entry in picture.timeline]
    assert (
        "consumer-2 expired: no heartbeat within session.timeout.ms; P1 wait for a new owner"
        in texts
    )
    assert "rebalance starts (generation 1 ends): session of consumer-2 expired" in texts
    assert texts[-1] == "generation 2 stable (leader consumer-1): consumer-1 ← P0 P1"


def test_the_ledger_counts_records_processed_twice_and_skipped() -> None:
    ledger = PartitionLedger()
    for offset in [5, 6, 7, 8, 6, 7, 8, 9, 11]:
        ledger.processed(offset)
    assert (ledger.highest, ledger.reprocessed, ledger.skipped) == (11, 3, 1)
