"""The consumer protocol as the demo's members speak it: subscription and assignment bytes,
and the two assignors a classic consumer group leader can run.

In the classic protocol the coordinator never decides who reads what: it picks a leader among
the members, hands it everyone's subscription, and relays the assignment the leader computes.
The demo's members are such clients, so the assignment strategy lives here, on the client
side, exactly as in Kafka's consumer.

- "range" is Kafka's RangeAssignor (the first of the Java consumer's default list): members
  sorted by id, each takes a contiguous run of partitions, the first few one extra. After a
  member dies, most partitions move.
- "sticky" keeps what each member held in the previous generation as far as balance allows
  and gives out only the rest. Members list those partitions in their subscription's
  `owned_partitions` (Kafka's eager StickyAssignor carries the same in its user data). After
  a member dies, only its partitions move: the easiest rebalance to watch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from localbroker.public import (
    assigned_partitions,
    encode_assignment,
    encode_subscription,
    owned_partitions,
)

ASSIGNORS = ("sticky", "range")


def subscription(topic: str, owned: Iterable[int]) -> bytes:
    """The subscription a demo member sends: one topic, and the partitions it owns now."""
    return encode_subscription([topic], {topic: owned})


def assignment(topic: str, partitions: Iterable[int]) -> bytes:
    """An assignment of partitions of one topic."""
    return encode_assignment({topic: partitions})


def partitions_of(assignment_bytes: bytes, topic: str) -> list[int]:
    """The partitions of `topic` in an assignment; an unreadable one is empty."""
    decoded = assigned_partitions(assignment_bytes)
    return sorted((decoded or {}).get(topic, []))


@dataclass(frozen=True, slots=True)
class Subscription:
    """What the leader reads of one member's JoinGroup metadata."""

    member_id: str
    owned: tuple[int, ...]


def read_subscription(member_id: str, metadata: bytes, topic: str) -> Subscription:
    """The partitions of `topic` a member says it owns (none if the bytes don't decode)."""
    owned = (owned_partitions(metadata) or {}).get(topic, [])
    return Subscription(member_id, tuple(owned))


def range_assign(members: Iterable[str], partitions: int) -> dict[str, list[int]]:
    """Kafka's RangeAssignor for one topic."""
    ordered = sorted(members)
    if not ordered:
        return {}
    share, extra = divmod(partitions, len(ordered))
    result: dict[str, list[int]] = {}
    start = 0
    for index, member in enumerate(ordered):
        count = share + (1 if index < extra else 0)
        result[member] = list(range(start, start + count))
        start += count
    return result


def sticky_assign(subscriptions: Iterable[Subscription], partitions: int) -> dict[str, list[int]]:
    """Balanced (counts differ by at most one) while moving as few partitions as possible."""
    subs = sorted(subscriptions, key=lambda s: s.member_id)
    if not subs:
        return {}
    share, extra = divmod(partitions, len(subs))
    kept: dict[str, list[int]] = {}
    taken: set[int] = set()
    # Members owning the most keep the larger quotas, so fewer partitions move.
    by_owned = sorted(subs, key=lambda s: (-len(s.owned), s.member_id))
    quotas = {s.member_id: share + (1 if i < extra else 0) for i, s in enumerate(by_owned)}
    for sub in by_owned:
        mine = [p for p in sub.owned if p < partitions and p not in taken][: quotas[sub.member_id]]
        kept[sub.member_id] = mine
        taken.update(mine)
    free = [p for p in range(partitions) if p not in taken]
    for sub in sorted(subs, key=lambda s: (len(kept[s.member_id]), s.member_id)):
        while len(kept[sub.member_id]) < quotas[sub.member_id] and free:
            kept[sub.member_id].append(free.pop(0))
    return {member: sorted(owned) for member, owned in kept.items()}


def assign(
    strategy: str, subscriptions: Mapping[str, Subscription], partitions: int
) -> dict[str, list[int]]:
    if strategy == "range":
        return range_assign(subscriptions, partitions)
    return sticky_assign(subscriptions.values(), partitions)
