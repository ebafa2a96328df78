"""`start_eagerly` (localbroker/eager.py): a coroutine that never waits is done when the call
returns, with no task; one that waits goes on in a task from where it stopped, gets what it
waited for, and sees that task's cancellation; an exception before the first wait is the
future's."""

from __future__ import annotations

import asyncio

import pytest

from localbroker.eager import start_eagerly


async def test_a_coroutine_that_never_waits_is_done_without_a_task() -> None:
    steps: list[str] = []

    async def answer() -> int:
        steps.append("ran")
        return 7

    loop = asyncio.get_running_loop()
    tasks = len(asyncio.all_tasks())
    future = start_eagerly(answer(), loop)
    assert steps == ["ran"] and future.done() and future.result() == 7
    assert len(asyncio.all_tasks()) == tasks


async def test_a_coroutine_that_waits_goes_on_in_a_task() -> None:
    loop = asyncio.get_running_loop()
    gate: asyncio.Future[str] = loop.create_future()
    steps: list[str] = []

    async def produce() -> str:
        steps.append("appended")  # before the first wait: done by the time start returns
        flushed = await gate
        steps.append(flushed)
        await asyncio.sleep(0)  # a second wait, in the task
        return "answered"

    future = start_eagerly(produce(), loop)
    assert steps == ["appended"] and not future.done()
    gate.set_result("flushed")
    assert await asyncio.wait_for(future, 5) == "answered"
    assert steps == ["appended", "flushed"]


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits() -> None:
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    async def waits_forever() -> None:
        try:
            await loop.create_future()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    future = start_eagerly(waits_forever(), loop)
    future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(future, 5)
    assert seen == ["cancelled"]


async def test_an_exception_before_any_wait_is_the_futures() -> None:
    async def refuses() -> None:
        raise ValueError("bad batch")

    future = start_eagerly(refuses(), asyncio.get_running_loop())
    assert future.done()
    with pytest.raises(ValueError, match="bad batch"):
        future.result()
