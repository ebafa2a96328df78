"""The demo's consumers by name, in the order they started: one registry that the engine adds
to and that the client-side events, the view and the scripted story read.

It used to be the engine's `members` dict, read by each of them with its own idea of which
members still count; the roster answers those questions once (MemberStatus says what gone
means).
"""

from __future__ import annotations

from collections.abc import Iterator

from .demo_member import DemoMember


class Roster:
    """Members are added, never removed: a consumer that left stays in the table."""

    def __init__(self) -> None:
        self._members: dict[str, DemoMember] = {}

    def next_name(self) -> str:
        return f"consumer-{len(self._members) + 1}"

    def add(self, member: DemoMember) -> None:
        self._members[member.name] = member

    def __iter__(self) -> Iterator[DemoMember]:
        return iter(self._members.values())

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def get(self, name: str) -> DemoMember | None:
        return self._members.get(name)

    def present(self) -> list[DemoMember]:
        """The members not gone (stopping ones included: they are still in the group)."""
        return [member for member in self if not member.status.gone]

    def taking_orders(self, name: str) -> DemoMember | None:
        """`name`, if the presenter can still act on it (MemberStatus.takes_orders)."""
        member = self._members.get(name)
        return member if member is not None and member.status.takes_orders else None
