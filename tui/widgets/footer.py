"""The footer every workbench screen shows: Textual's, made to fit narrow terminals.

Kafka users live in 80x24 terminals, and the footer is how a newcomer finds the keys. There
the spaced footer cut off a pane's last keys (the Topics pane lost Sort and Internal, and
every pane lost the help key). Below COMPACT_BELOW columns the keys sit close together and
the help key takes the command palette's place at the right edge, so it is always in view:
what is cut off can be looked up there (the help also lists ctrl+p).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import events
from textual.widget import Widget
from textual.widgets import Footer

from ..textual_private import EDGE_KEY_CLASS, FooterKey

COMPACT_BELOW = 120
"""Terminal columns under which the footer is compact."""
HELP_KEY = "question_mark"


class WorkbenchFooter(Footer):
    """Compact below COMPACT_BELOW columns, with the help key at the right edge there."""

    DEFAULT_CSS = """
    WorkbenchFooter.-compact FooterKey.-command-palette { margin-right: 0; padding-right: 1; }
    """
    """The key at the edge keeps a blank after it: the keys that run on under it would
    otherwise show their cut-off letter in the last column."""

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < COMPACT_BELOW
        self.show_command_palette = not narrow
        self.compact = narrow

    def watch_compact(self) -> None:
        # The keys keep the widths and places they were laid out with; lay them out again.
        self.call_after_refresh(self.recompose)

    def compose(self) -> Iterable[Widget]:
        keys = list(super().compose())
        if not self.compact:
            return keys
        help_keys = [k for k in keys if isinstance(k, FooterKey) and k.key == HELP_KEY]
        for key in help_keys:
            key.add_class(EDGE_KEY_CLASS)
        return [k for k in keys if k not in help_keys] + help_keys
