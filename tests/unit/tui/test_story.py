"""The storyteller both demos play their steps with, driven without an app: captions in order,
a step's condition awaited before the next, the presenter's advance awaited unless auto."""

from __future__ import annotations

import asyncio

import pytest

from tui.story import NEXT_HINT, Step, Storyteller

pytestmark = pytest.mark.timeout(10)


class Engine:
    def __init__(self) -> None:
        self.ready = False
        self.acted: list[str] = []


def steps() -> list[Step[Engine]]:
    async def make_ready(engine: Engine) -> None:
        engine.acted.append("make_ready")
        asyncio.get_running_loop().call_later(0.2, lambda: setattr(engine, "ready", True))

    async def look(engine: Engine) -> None:
        engine.acted.append(f"look, ready={engine.ready}")

    return [
        Step("first", make_ready, until=lambda engine: engine.ready),
        Step("last", look),
    ]


def test_auto_plays_every_step_after_its_condition_holds() -> None:
    shown: list[str] = []
    engine = Engine()

    async def play() -> None:
        teller: Storyteller[Engine] = Storyteller(shown.append, auto=True, step_delay=0)
        await teller.play(engine, steps())
        assert teller.finished

    asyncio.run(play())
    assert shown == ["1/2  first", "2/2  last"]
    assert engine.acted == ["make_ready", "look, ready=True"]


def test_without_auto_each_step_waits_for_the_presenter() -> None:
    shown: list[str] = []

    async def play() -> None:
        teller: Storyteller[Engine] = Storyteller(shown.append)
        playing = asyncio.create_task(teller.play(Engine(), steps()))
        while shown[-1:] != ["1/2  first" + NEXT_HINT]:
            await asyncio.sleep(0.05)
        assert teller.step == 1 and not playing.done()
        teller.advance()
        await asyncio.wait_for(playing, 5)

    asyncio.run(play())
    assert shown == ["1/2  first", "1/2  first" + NEXT_HINT, "2/2  last"]
