"""The narration line of a scripted demo (`kwb demo ...`): the story's caption on the accent
colour, above the demo's pane; hidden when there is nothing to say (the pane used by hand)."""

from __future__ import annotations

from textual.widgets import Static


class DemoCaption(Static):
    DEFAULT_CSS = """
    DemoCaption {
        display: none; height: auto; padding: 0 1;
        background: $accent; color: $background; text-style: bold;
    }
    DemoCaption.-shown { display: block; }
    """

    def say(self, caption: str) -> None:
        self.update(caption)
        self.set_class(bool(caption), "-shown")
