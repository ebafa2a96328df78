"""A partition's replicas while a reassignment moves them (Kafka's
PartitionReassignmentReplicas and PartitionReassignmentRevert), without I/O.

A reassignment does not swap replicas at once: the controller first adds the target
replicas to the partition (`adding`), keeping the ones it will drop (`removing`) at the end
of `replicas`, so that the new ones start as followers and copy the log from the leader.
Once the ISR holds every target replica, the next change to the partition completes it:
the replicas become the target, the removed ones leave the ISR, and leadership moves off
them (`completed`, which partition_change.build_change applies to every change). Cancelling
goes back to the replicas before the move (`reverted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .partitions import PartitionRegistration


@dataclass(frozen=True, slots=True)
class Assignment:
    replicas: tuple[int, ...]
    """The target replicas, then those being removed."""
    adding: tuple[int, ...] = ()
    removing: tuple[int, ...] = ()

    @classmethod
    def of(cls, registration: PartitionRegistration) -> Assignment:
        return cls(
            registration.replicas, registration.adding_replicas, registration.removing_replicas
        )

    @classmethod
    def moving(cls, current: Sequence[int], target: Sequence[int]) -> Assignment:
        """From `current` replicas towards `target` (both lists in their order)."""
        removing = tuple(sorted(set(current) - set(target)))
        adding = tuple(sorted(set(target) - set(current)))
        return cls((*target, *removing), adding, removing)

    @property
    def in_progress(self) -> bool:
        return bool(self.adding or self.removing)

    def completed(self, isr: Sequence[int]) -> tuple[Assignment, tuple[int, ...]] | None:
        """The finished assignment and its ISR once `isr` holds every target replica
        (maybeCompleteReassignment); None while it does not, or nothing is under way.

        The ISR keeps at least one replica: a reassignment whose ISR has only replicas it
        removes waits."""
        if not self.in_progress:
            return None
        new_isr = tuple(r for r in isr if r not in self.removing)
        replicas = tuple(r for r in self.replicas if r not in self.removing)
        if not new_isr or not replicas or not set(replicas) <= set(new_isr):
            return None
        return Assignment(replicas), new_isr

    def reverted(self, isr: Sequence[int]) -> tuple[Assignment, tuple[int, ...], bool]:
        """The replicas and ISR before the move, and whether going back is unclean.

        The added replicas leave the replicas and the ISR. An ISR of added replicas only
        (the original ones all fell out of it) leaves the first original replica alone in
        it: records may be lost, so the caller allows it only where unclean leader election
        is enabled."""
        replicas = tuple(r for r in self.replicas if r not in self.adding)
        new_isr = tuple(r for r in isr if r not in self.adding)
        if new_isr:
            return Assignment(replicas), new_isr, False
        return Assignment(replicas), replicas[:1], True
