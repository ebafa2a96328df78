"""Group events as JSON lines (the workbench's broker is its child): each comes back equal."""

from __future__ import annotations

import json

from localbroker.groups.events import (
    GroupDeleted,
    GroupEmptied,
    GroupEvent,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    OffsetCommitted,
    RebalanceCompleted,
    RebalanceStarted,
    event_from_json,
    event_to_json,
)

EVENTS: list[GroupEvent] = [
    MemberJoined("g", "c-1", None, "c", "/127.0.0.1", 1),
    MemberLeft("g", "c-1", "static-1", LeaveReason.EXPIRED, 2),
    RebalanceStarted("g", 3, "new member", 3),
    RebalanceCompleted("g", 4, "range", "c-1", {"c-1": {"t": [0, 1]}, "c-2": None}, 4),
    GroupEmptied("g", 4, 5),
    OffsetCommitted("g", "t", 0, 42, "", 6),
    GroupDeleted("g", 7),
]


def test_every_event_comes_back_equal_through_a_json_line() -> None:
    for event in EVENTS:
        assert event_from_json(json.loads(json.dumps(event_to_json(event)))) == event


def test_a_leave_reason_comes_back_as_the_enum() -> None:
    back = event_from_json(json.loads(json.dumps(event_to_json(EVENTS[1]))))
    assert isinstance(back, MemberLeft) and back.reason is LeaveReason.EXPIRED
