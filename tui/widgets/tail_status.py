"""The Tail pane's status line: what the tail is doing, how it reads (read_committed or
read_uncommitted, transaction markers or not), how fast records come, how many.

Updated a dozen times a second while records pour in, so it only touches a label whose text
changed (an update costs a refresh) and says the state first: at 80 columns the end of the
line (what is tailed) is what gets cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

WIDE = 110
"""From this width on, the buffer's fill is shown too."""


class TailState(StrEnum):
    STOPPED = "stopped"
    STARTING = "starting"
    TAILING = "tailing"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class TailFigures:
    """Everything the status line says."""

    state: TailState
    description: str
    partitions: int
    rate: float
    received: int
    shown: int
    held: int
    capacity: int
    following: bool
    filtering: bool
    failure: str = ""
    """Why the last tail stopped by itself (kept until the next starts; toasts go away)."""
    read_committed: bool = False
    control_records: bool = False


def reading_text(figures: TailFigures) -> str:
    """The isolation level the tail reads with (key i), and whether markers show (key m)."""
    isolation = "read_committed" if figures.read_committed else "read_uncommitted"
    return isolation + (" · markers" if figures.control_records else "")


def state_text(figures: TailFigures) -> str:
    """ "tailing 3 partitions · orders from the end", with what to press where it helps."""
    state = figures.state
    if state is TailState.STOPPED and figures.failure:
        text = f"stopped: {figures.failure}"
    elif state is TailState.STOPPED:
        text = "stopped · s starts" if figures.received else "stopped · enter topics above"
    else:
        if state is TailState.PAUSED:
            text = "paused · space resumes"
        elif state is TailState.TAILING:
            count = figures.partitions
            text = f"tailing {count} partition{'s' if count != 1 else ''}"
        else:
            text = "starting"
        text += f" · {figures.description}"
    if not figures.following and figures.shown:
        text = "holding (G follows) · " + text
    if figures.filtering:
        text = "filtering… · " + text
    return text


class TailStatus(Horizontal):
    """State (coloured by it), incoming rate, counts."""

    DEFAULT_CSS = """
    TailStatus {
        height: 1;
        #tail-state { width: 1fr; padding: 0 1; color: $kwb-muted; text-wrap: nowrap;
            text-overflow: ellipsis; }
        #tail-state.-tailing { color: $success; }
        #tail-state.-paused { color: $warning; }
        #tail-state.-failed { color: $error; }
        #tail-reading { width: auto; padding: 0 1; color: $kwb-muted; }
        #tail-reading.-committed { color: $accent; }
        #tail-rate { width: auto; padding: 0 1; color: $kwb-rate; text-style: bold; }
        #tail-counts { width: auto; padding: 0 1; color: $kwb-muted; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="tail-state")
        yield Static(id="tail-reading")
        yield Static(id="tail-rate")
        yield Static(id="tail-counts")

    def _set(self, widget_id: str, text: str) -> Static:
        widget = self.query_one(f"#{widget_id}", Static)
        if self._shown.get(widget_id) != text:
            self._shown[widget_id] = text
            widget.update(Content(text))
        return widget

    def show(self, figures: TailFigures) -> None:
        state = self._set("tail-state", state_text(figures))
        state.set_class(figures.state is TailState.TAILING, "-tailing")
        state.set_class(figures.state is TailState.PAUSED, "-paused")
        state.set_class(figures.state is TailState.STOPPED and bool(figures.failure), "-failed")
        reading = self._set("tail-reading", reading_text(figures))
        reading.set_class(figures.read_committed, "-committed")
        running = figures.state is not TailState.STOPPED
        self._set("tail-rate", f"{figures.rate:,.0f} rec/s" if running else "")
        counts = f"received {figures.received:,} · shown {figures.shown:,}"
        if self.size.width >= WIDE:
            counts += f" · buffer {figures.held:,}/{figures.capacity:,}"
        self._set("tail-counts", counts)
