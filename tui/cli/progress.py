"""A rich progress bar for long work, shown only when standard output is a terminal.

Piped output keeps Kafka's plain lines (which scripts parse); on a terminal a bar with the
count, the rate and the time elapsed replaces them while the work runs, and disappears after.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


@contextlib.asynccontextmanager
async def progress_bar(
    shown: bool,
    label: str,
    total: int,
    done: Callable[[], int],
    rate: Callable[[], str],
    rate_unit: str,
) -> AsyncIterator[None]:
    """Redraw `label [bar] done/total rate rate_unit elapsed` while the body runs (if `shown`)."""
    task = asyncio.create_task(_draw(label, total, done, rate, rate_unit)) if shown else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def _draw(
    label: str, total: int, done: Callable[[], int], rate: Callable[[], str], rate_unit: str
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} " + rate_unit),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total, rate="0.0")
        while True:
            bar.update(task, completed=done(), rate=rate())
            await asyncio.sleep(0.2)
