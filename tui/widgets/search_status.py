"""The Search pane's status line: a progress bar, how far, how fast, how many matches.

Updated a dozen times a second while a search runs, so it only touches what changed. The
state comes first, the figures after: at 80 columns the end of the line is what is cut.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from ..kafka.topic_search import SearchProgress

BAR_CELLS = 16


def bar(fraction: float, cells: int = BAR_CELLS) -> str:
    """A progress bar of `cells` cells in eighths: `███▌          `."""
    eighths = round(max(0.0, min(fraction, 1.0)) * cells * 8)
    full, part = divmod(eighths, 8)
    partial = " ▏▎▍▌▋▊▉"[part] if full < cells else ""
    return ("█" * full + partial).ljust(cells)


def progress_text(progress: SearchProgress | None, description: str, now: float) -> str:
    """What the search is doing or did, matches first: at 80 columns the end is cut."""
    if progress is None:
        return "no search yet · name a topic, type a query, enter searches"
    matches = f"{progress.matched:,} match{'es' if progress.matched != 1 else ''}"
    rate = f"{progress.rate(now):,.0f} records/s"
    if progress.outcome is None:
        done = f"{bar(progress.fraction)} {progress.fraction:4.0%}"
        scanned = f"{progress.scanned:,} of {progress.total:,} records"
        return f"searching {done} · {matches} · {scanned} · {rate} · esc stops · {description}"
    seconds = progress.elapsed(now)
    scanned = f"{progress.scanned:,} records in {seconds:,.1f} s"
    return f"{progress.outcome}: {matches} · {scanned} · {rate} · {description}"


class SearchStatus(Horizontal):
    """One line, coloured by the search's state."""

    DEFAULT_CSS = """
    SearchStatus {
        height: 1;
        #search-state { width: 1fr; padding: 0 1; color: $kwb-muted; text-wrap: nowrap;
            text-overflow: ellipsis; }
        #search-state.-running { color: $kwb-rate; }
        #search-state.-failed { color: $error; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown = ""

    def compose(self) -> ComposeResult:
        yield Static(id="search-state")

    def show(self, text: str, *, running: bool = False, failed: bool = False) -> None:
        state = self.query_one("#search-state", Static)
        if text != self._shown:
            self._shown = text
            state.update(Content(text))
        state.set_class(running, "-running")
        state.set_class(failed, "-failed")
