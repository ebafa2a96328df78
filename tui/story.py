"""A captioned story told one step at a time: what `kwb demo rebalance` and `kwb demo failover`
share.

Each step shows its caption, does one thing to the demo's engine, waits until the engine shows
what the caption is about (bounded: a step that takes too long moves on rather than hanging a
talk), then waits for the presenter (space or enter: `advance`) or, played `auto`, for
`step_delay` seconds. The engine is whatever the demo drives (a consumer group, a cluster);
the teller knows nothing of it and nothing of Textual, so a demo app only binds keys to
`advance` and shows the captions it is handed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Engine = TypeVar("Engine")
STEP_TIMEOUT_S = 30.0
NEXT_HINT = "   [space: next]"


async def nothing(engine: object) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Step(Generic[Engine]):
    caption: str
    act: Callable[[Engine], Awaitable[None]] = nothing
    until: Callable[[Engine], bool] | None = None
    """What the engine must show before the presenter may go on."""


class Storyteller(Generic[Engine]):
    """Plays a story's steps, numbered "3/12", handing each caption to `show`."""

    def __init__(
        self,
        show: Callable[[str], None],
        *,
        auto: bool = False,
        step_delay: float = 5.0,
        step_timeout_s: float = STEP_TIMEOUT_S,
    ) -> None:
        self.show = show
        self.auto = auto
        self.step_delay = step_delay
        self.step_timeout_s = step_timeout_s
        self.step = 0
        self.finished = False
        self._advance = asyncio.Event()

    def advance(self) -> None:
        self._advance.set()

    async def play(self, engine: Engine, steps: Sequence[Step[Engine]]) -> None:
        """Every step in turn; returns after the last one (and, played auto, its delay)."""
        for number, step in enumerate(steps, 1):
            self.step = number
            caption = f"{number}/{len(steps)}  {step.caption}"
            self.show(caption)
            await step.act(engine)
            if step.until is not None:
                await self._wait_for(engine, step.until)
            if number == len(steps):
                break
            if self.auto:
                await asyncio.sleep(self.step_delay)
            else:
                self.show(caption + NEXT_HINT)
                self._advance.clear()
                await self._advance.wait()
        self.finished = True
        if self.auto:
            await asyncio.sleep(self.step_delay)

    async def _wait_for(self, engine: Engine, condition: Callable[[Engine], bool]) -> None:
        deadline = time.monotonic() + self.step_timeout_s
        while not condition(engine) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
