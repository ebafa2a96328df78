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

Nine tabs named in full take 92 columns; in a narrower terminal the tabs behind were cut off
and the last ones never seen. There, the tabs not in front shorten their titles (down to
their keys alone) until the row fits: every pane's key stays in view.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.widgets import Tab, TabbedContent, TabPane, Tabs

TAB_PADDING = 2
"""Columns a tab adds around its label (Textual's Tab: `padding: 0 1`)."""
_CUTS = (None, 6, 5, 4, 3, 2, 1, 0)
"""How many letters of a title the tabs behind keep, tried in turn (None: all)."""


def fitted_labels(labels: Mapping[str, str], active: str, width: int) -> dict[str, str]:
    """`labels` ("5 Groups") as they fit `width`: the tab in front whole, the others' titles
    cut to the most letters that fit ("5 Gro"), down to the key alone ("5")."""
    fitted: dict[str, str] = dict(labels)
    for cut in _CUTS:
        fitted = {
            tab: label if cut is None or tab == active else _shortened(label, cut)
            for tab, label in labels.items()
        }
        if sum(len(label) + TAB_PADDING for label in fitted.values()) <= width:
            break
    return fitted


def _shortened(label: str, letters: int) -> str:
    key, _, title = label.partition(" ")
    return f"{key} {title[:letters]}" if letters else key


class PaneTabs(TabbedContent):
    """The workbench's panes, one tab each."""

    def on_mount(self) -> None:
        tabs = self.query_one(Tabs)
        tabs.can_focus = False
        self._labels = {tab.id: tab.label_text for tab in tabs.query(Tab) if tab.id is not None}

    def on_resize(self) -> None:
        self._fit_labels()

    @on(TabbedContent.TabActivated)
    def _fit_labels(self) -> None:
        tabs = self.query_one(Tabs)
        fitted = fitted_labels(self._labels, tabs.active, self.size.width)
        for tab in tabs.query(Tab):
            label = fitted.get(tab.id or "")
            if label is not None and tab.label_text != label:
                tab.label = label

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors:
            event.stop()
            event.prevent_default()  # TabbedContent's handler would switch to that pane
