"""What the demo's consumers processed, whatever the source of the group's events: per
partition the highest offset processed and how many records were processed twice (after a
takeover) or skipped (never: a test checks), and where each new owner resumed a partition.

Fed by the members' reports only, so it can be read and tested without a group or a broker;
the takeovers it notes go to the timeline through `note`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .demo_events import wall_ms

Note = Callable[[int, str, str], None]
"""GroupPicture.note: (at_ms, kind, text) onto the timeline."""


@dataclass(slots=True)
class PartitionLedger:
    """What was processed of one partition over the whole demo."""

    highest: int | None = None
    reprocessed: int = 0
    skipped: int = 0

    def processed(self, offset: int) -> None:
        if self.highest is None:
            self.highest = offset
        elif offset <= self.highest:
            self.reprocessed += 1
        else:
            self.skipped += offset - self.highest - 1
            self.highest = offset


@dataclass(frozen=True, slots=True)
class Resumption:
    """A partition taken over by a new owner, and the committed offset it started from."""

    partition: int
    generation: int
    owner: str
    offset: int
    previous_owner: str | None


class DemoLedger:
    def __init__(self, note: Note) -> None:
        self.partitions: dict[int, PartitionLedger] = {}
        self.resumptions: list[Resumption] = []
        self._holders: dict[int, str] = {}
        self._note = note

    def __getitem__(self, partition: int) -> PartitionLedger:
        return self.partitions[partition]

    def processed(self, partition: int, offset: int) -> None:
        self.partitions.setdefault(partition, PartitionLedger()).processed(offset)

    def assigned(self, owner: str, generation: int, starts: dict[int, int]) -> None:
        """Say where `owner` starts each partition it did not hold: a takeover on a line of its
        own (the offset it resumes from is the lesson), first starts on one line."""
        first: list[str] = []
        for partition, offset in sorted(starts.items()):
            previous = self._holders.get(partition)
            self._holders[partition] = owner
            if previous == owner:
                continue
            self.resumptions.append(Resumption(partition, generation, owner, offset, previous))
            if previous is None:
                first.append(f"P{partition} at offset {offset}")
                continue
            self._note(
                wall_ms(),
                "resume",
                f"{owner} takes over P{partition} from {previous} at offset {offset},"
                " the group's last committed offset",
            )
        if first:
            self._note(wall_ms(), "resume", f"{owner} starts {', '.join(first)}")

    @property
    def reprocessed(self) -> int:
        return sum(entry.reprocessed for entry in self.partitions.values())

    @property
    def skipped(self) -> int:
        return sum(entry.skipped for entry in self.partitions.values())
