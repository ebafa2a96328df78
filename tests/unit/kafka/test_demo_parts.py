"""The rebalance demo's parts, each alone: member statuses, the roster, the ledger, the
client-side events and the view, fed by hand (no broker, no engine, no members running)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from localbroker.groups.events import (
    GroupEvent,
    MemberJoined,
    MemberLeft,
    RebalanceCompleted,
    RebalanceStarted,
)
from localbroker.groups.group import GroupState
from tui.kafka.demo_client_events import ClientSideEvents
from tui.kafka.demo_events import GroupPicture
from tui.kafka.demo_ledger import DemoLedger
from tui.kafka.demo_member import MemberSettings
from tui.kafka.demo_roster import Roster
from tui.kafka.demo_status import MemberStatus
from tui.kafka.demo_view import RunFacts, build_view

ONE = "consumer-1-0b4c6f8e-7d1a-4e55-9a3b-3f6c2d1e9a70"
TWO = "consumer-2-1b4c6f8e-7d1a-4e55-9a3b-3f6c2d1e9a70"
OTHER = "rogue-2b4c6f8e-7d1a-4e55-9a3b-3f6c2d1e9a70"


@dataclass
class Member:
    """What the roster, the events and the view read of a DemoMember."""

    name: str
    member_id: str = ""
    status: MemberStatus = MemberStatus.RUNNING
    generation: int = -1
    paused: bool = False
    killed_at: float | None = None
    positions: dict[int, int] = field(default_factory=dict)
    processed_count: int = 0
    processing_delay_ms: int = 50


def roster(*members: Member) -> Roster:
    out = Roster()
    for member in members:
        out.add(member)  # type: ignore[arg-type]
    return out


@dataclass
class Log:
    log_start: Mapping[int, int]
    log_end: Mapping[int, int]
    lag_history: Mapping[int, list[int]]


def test_gone_is_left_killed_failed_or_expired_and_stopping_takes_no_orders() -> None:
    assert {s for s in MemberStatus if s.gone} == {"left", "killed", "failed", "expired"}
    assert not MemberStatus.STOPPING.gone and not MemberStatus.STOPPING.takes_orders
    assert {s for s in MemberStatus if s.takes_orders} == {
        s for s in MemberStatus if not s.gone and s is not MemberStatus.STOPPING
    }


def test_the_roster_names_members_in_order_and_knows_who_still_counts() -> None:
    members = Roster()
    assert members.next_name() == "consumer-1"
    one, two, three = Member("consumer-1"), Member("consumer-2"), Member("consumer-3")
    for member in (one, two, three):
        members.add(member)  # type: ignore[arg-type]
    two.status, three.status = MemberStatus.KILLED, MemberStatus.STOPPING
    assert members.next_name() == "consumer-4"
    assert [m.name for m in members.present()] == ["consumer-1", "consumer-3"]
    assert members.taking_orders("consumer-1") is one
    assert members.taking_orders("consumer-2") is None
    assert members.taking_orders("consumer-3") is None
    assert members.taking_orders("consumer-9") is None


def test_the_ledger_notes_first_starts_together_and_each_takeover_alone() -> None:
    notes: list[tuple[str, str]] = []
    ledger = DemoLedger(lambda _at, kind, text: notes.append((kind, text)))
    ledger.assigned("consumer-1", 1, {0: 0, 1: 0})
    ledger.assigned("consumer-1", 2, {0: 10})
    ledger.assigned("consumer-2", 2, {1: 7})
    for offset in (7, 8, 7):
        ledger.processed(1, offset)
    assert notes == [
        ("resume", "consumer-1 starts P0 at offset 0, P1 at offset 0"),
        (
            "resume",
            "consumer-2 takes over P1 from consumer-1 at offset 7, the group's last committed"
            " offset",
        ),
    ]
    assert [(r.partition, r.owner, r.previous_owner) for r in ledger.resumptions] == [
        (0, "consumer-1", None),
        (1, "consumer-1", None),
        (1, "consumer-2", "consumer-1"),
    ]
    assert (ledger[1].highest, ledger.reprocessed, ledger.skipped) == (8, 1, 0)


def test_client_side_events_say_a_killed_member_expired_when_a_generation_leaves_it_out() -> None:
    picture = GroupPicture("g", "orders")
    picture.apply(MemberJoined("g", ONE, None, "consumer-1", "", 1))
    picture.apply(MemberJoined("g", TWO, None, "consumer-2", "", 1))
    emitted: list[GroupEvent] = []

    def emit(event: GroupEvent) -> None:
        emitted.append(event)
        picture.apply(event)

    killed = Member("consumer-2", TWO, MemberStatus.KILLED)
    one = Member("consumer-1", ONE, generation=1)
    events = ClientSideEvents(MemberSettings("g", "orders"), picture, roster(one, killed), emit)
    events.joining(one)  # type: ignore[arg-type]
    events.joined([ONE])
    events.assigned(one, {ONE: [0, 1]})  # type: ignore[arg-type]
    assert [type(e) for e in emitted] == [RebalanceStarted, MemberLeft, RebalanceCompleted]
    assert isinstance(emitted[1], MemberLeft) and emitted[1].reason == "expired"
    assert picture.state is GroupState.STABLE and picture.assignments == {ONE: (0, 1)}


def test_the_view_is_built_from_the_picture_the_roster_and_the_log_alone() -> None:
    picture = GroupPicture("g", "orders")
    picture.apply(
        RebalanceCompleted("g", 3, "sticky", ONE, {ONE: {"orders": [0]}, TWO: {"orders": [1]}}, 1)
    )
    picture.apply(MemberJoined("g", OTHER, None, "rogue", "", 2))
    one = Member("consumer-1", ONE, positions={0: 5})
    two = Member("consumer-2", TWO, MemberStatus.KILLED, killed_at=100.0)
    log = Log({0: 0, 1: 0}, {0: 6, 1: 9}, {0: [1, 1], 1: [2, 3]})
    run = RunFacts("g", "orders", 2, 6000, "client", 0, 20.0, 0, True)
    view = build_view(run, picture, roster(one, two), log, now=102.0)
    assert view.state == "Stable" and view.generation == 3
    rows = {row.name: row for row in view.consumers}
    assert rows["consumer-1"].status is MemberStatus.RUNNING and rows["consumer-1"].leader
    assert rows["consumer-2"].status is MemberStatus.KILLED
    assert rows["consumer-2"].expires_in_s == 4.0
    assert rows["rogue"].status is MemberStatus.EXTERNAL and rows["rogue"].colour == 0
    assert [(p.owner, p.state, p.log_end, p.position) for p in view.partitions] == [
        ("consumer-1", "consuming", 6, 5),
        ("consumer-2", "orphaned", 9, None),
    ]
    picture.apply(MemberLeft("g", TWO, None, "expired", 3))
    later = build_view(run, picture, roster(one, two), log, now=110.0)
    assert {row.name: row.status for row in later.consumers}["consumer-2"] is MemberStatus.EXPIRED
