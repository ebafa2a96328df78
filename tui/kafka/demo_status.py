"""Where a demo consumer is in its life, one name for each state, and what "gone" means.

The member (demo_member.DemoMember) moves through the first nine; the view adds two of its
own for the consumer table: EXPIRED (killed, and the broker no longer counts it) and
EXTERNAL (a member of the group that another client runs). The values are the words the
table shows, so a StrEnum.
"""

from __future__ import annotations

from enum import StrEnum


class MemberStatus(StrEnum):
    STARTING = "starting"
    JOINING = "joining"
    RUNNING = "running"
    PAUSED = "paused"
    REBALANCING = "rebalancing"
    STOPPING = "stopping"
    LEFT = "left"
    KILLED = "killed"
    FAILED = "failed"
    EXPIRED = "expired"
    EXTERNAL = "external"

    @property
    def gone(self) -> bool:
        """Its tasks and connections are finished: it left, was killed (expired too) or failed.
        Nothing more happens to it; partitions it still owns wait for a rebalance."""
        return self in _GONE

    @property
    def takes_orders(self) -> bool:
        """The presenter can still stop, kill, pause it or change its delay: neither gone nor
        on its way out (stopping)."""
        return not self.gone and self is not MemberStatus.STOPPING


_GONE = frozenset(
    {MemberStatus.LEFT, MemberStatus.KILLED, MemberStatus.FAILED, MemberStatus.EXPIRED}
)
