"""The panes' tabs: a TabbedContent that brings a pane forward for focus that is still there,
and whose row of tabs never takes the focus.

TabbedContent shows the pane that something inside it has just focused ("tail this topic"
from the Topics pane shows the Tail pane). That news is a message, several queues behind the
focus itself. A pane key pressed in between (4 just after start, while the first pane was
being focused) switched panes, then the late message switched back: the chosen pane never
showed and its focus was lost. News about focus that has since moved on is dropped.

The row of tabs is left out of the focus chain: tab from a pane's last widget used to land on
it, where the pane's keys no longer worked and nothing said why. The number keys (and a
click) choose the pane; tab and shift+tab go round the pane in front.
"""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane, Tabs


class PaneTabs(TabbedContent):
    """The workbench's panes, one tab each."""

    def on_mount(self) -> None:
        self.query_one(Tabs).can_focus = False

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors:
            event.stop()
            event.prevent_default()  # TabbedContent's handler would switch to that pane
