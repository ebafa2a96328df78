"""A reset of a group's committed offsets as the workbench does it: preview, then execute.

kafka-consumer-groups.sh prints only the new offsets of a dry run; the workbench shows each
partition's current committed offset next to its new one, so the preview says what will move
and by how much. The preview is worked out whatever the group's state (so it can be shown for
a running group too), and says whether Kafka would refuse it. Executing commits exactly the
previewed offsets (clamped to the log again), after checking once more that the group has no
members: a reset of an active group is refused with Kafka's own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .admin import KafkaAdmin
from .models import TopicSelection
from .offset_reset import (
    INACTIVE,
    Clamped,
    EmptyPartition,
    FromPlan,
    ResetNote,
    ResetTarget,
    group_state,
    plan_reset,
    reset_group,
    tp_name,
)


def refusal(group_id: str, state: str) -> str:
    """Kafka's reason for refusing to reset the offsets of a group that has members."""
    return (
        f"Assignments can only be reset if the group '{group_id}' is inactive, but the"
        f" current state is {state}."
    )


def note_text(note: ResetNote) -> str:
    """A reset note in Kafka's words, shortened to one line."""
    if isinstance(note, Clamped):
        above = "higher than latest" if note.above else "lower than earliest"
        return (
            f"{tp_name(note.partition)}: {note.requested} is {above} offset, set to {note.offset}"
        )
    topic, partition = note.partition
    assert isinstance(note, EmptyPartition)
    return f"partition {partition} of {topic} is empty: latest offset taken"


@dataclass(frozen=True, slots=True)
class ResetRow:
    """One partition of a reset: committed offset now (None: none yet) and after."""

    topic: str
    partition: int
    current: int | None
    new: int

    @property
    def delta(self) -> int | None:
        return None if self.current is None else self.new - self.current


@dataclass(frozen=True, slots=True)
class ResetPreview:
    """The offsets a reset of `group_id` commits (or committed, once `executed`)."""

    group_id: str
    state: str
    rows: tuple[ResetRow, ...]
    notes: tuple[str, ...] = ()
    executed: bool = False

    @property
    def refused(self) -> bool:
        return self.state not in INACTIVE

    @property
    def reason(self) -> str | None:
        """Why Kafka refuses this reset, or None."""
        return refusal(self.group_id, self.state) if self.refused else None

    @property
    def offsets(self) -> dict[tuple[str, int], int]:
        return {(r.topic, r.partition): r.new for r in self.rows}


async def preview_reset(
    admin: KafkaAdmin,
    group_id: str,
    target: ResetTarget,
    scope: Sequence[TopicSelection] | None = None,
) -> ResetPreview:
    """A dry run: current and new offsets per partition, and the group's state."""
    state = await group_state(admin, group_id)
    committed = await admin.group_offsets(group_id)
    notes: list[ResetNote] = []
    offsets = await plan_reset(admin, group_id, target, scope, notes.append)
    rows = tuple(
        ResetRow(t, p, committed[(t, p)].offset if (t, p) in committed else None, offset)
        for (t, p), offset in sorted(offsets.items())
    )
    return ResetPreview(group_id, state, rows, tuple(note_text(n) for n in notes))


async def execute_reset(admin: KafkaAdmin, preview: ResetPreview) -> ResetPreview:
    """Commit the previewed offsets unless the group has members by now (then refused)."""
    notes: list[ResetNote] = []
    plan = FromPlan({preview.group_id: preview.offsets})
    reset = await reset_group(
        admin, preview.group_id, plan, None, execute=True, on_note=notes.append
    )
    if reset.refused:
        return ResetPreview(preview.group_id, reset.state, preview.rows, preview.notes)
    current = {(r.topic, r.partition): r.current for r in preview.rows}
    rows = tuple(
        ResetRow(t, p, current.get((t, p)), offset)
        for (t, p), offset in sorted(reset.offsets.items())
    )
    notes_text = preview.notes + tuple(note_text(n) for n in notes)
    return ResetPreview(preview.group_id, reset.state, rows, notes_text, executed=True)
