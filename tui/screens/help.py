"""The help screen: what each key does, for people who don't read docs.

The keys of each pane are read from the pane's own BINDINGS, so the help cannot drift from
what the keys do. Sections sit two abreast when the terminal is wide enough, so at 160x48 the
whole help fits without scrolling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.content import Content
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static

from ..widgets.footer import WorkbenchFooter

if TYPE_CHECKING:
    from ..widgets.pane import PaneSpec

EVERYWHERE = (
    ("ctrl+p", "command palette: themes, panes, actions"),
    ("ctrl+o", "clusters: switch, add a profile"),
    ("?", "this help"),
    ("q  ctrl+q", "quit (stops the embedded broker)"),
    ("tab  shift+tab", "move focus"),
    ("enter", "open the row under the cursor"),
    ("j k  g G", "down, up, first, last in a list"),
    (":", "jump to a pane: :topics, :groups orders"),
    ("esc", "close a dialog, leave a text field"),
)

ABOUT = (
    "The workbench runs its own broker unless started with --bootstrap-server or --profile."
    " Themes: --theme NAME or the command palette; theme files in"
    " ~/.config/kafka-workbench/themes/*.tcss reload when edited. esc closes this help."
)

KEY_WIDTH = 15
WIDE = 110
"""From this many columns on, sections sit two abreast."""


def pane_keys(
    bindings: Iterable[BindingType], display: Callable[[Binding], str]
) -> list[tuple[str, str]]:
    """(keys, what they do), one per action: ("c  n", "Create")."""
    keys: dict[str, list[str]] = {}
    for binding in Binding.make_bindings(bindings):
        if binding.description:
            keys.setdefault(binding.description, []).append(display(binding))
    return [("  ".join(shown), what) for what, shown in keys.items()]


def section(title: str, keys: Sequence[tuple[str, str]]) -> Content:
    """A title, then one aligned line per key."""
    lines = [Content.assemble((title, "bold $primary"))]
    for key, what in keys:
        lines.append(Content.assemble((f"  {key:<{KEY_WIDTH}}", "bold $kwb-key"), " ", what))
    return Content("\n").join(lines)


def help_sections(panes: Sequence[PaneSpec], display: Callable[[Binding], str]) -> list[Content]:
    """Everywhere first, then each pane's keys, in tab order."""
    keys = " … ".join(dict.fromkeys(spec.key for spec in (panes[0], panes[-1]))) if panes else ""
    switch = (keys, "switch pane") if panes else None
    sections = [section("Everywhere", [*([switch] if switch else []), *EVERYWHERE])]
    for spec in panes:
        keys = pane_keys(spec.factory.BINDINGS, display)
        if keys:
            sections.append(section(f"{spec.key}  {spec.title}", keys))
    return sections


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        ("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 120; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $primary; margin-bottom: 1; }
    HelpScreen #help-sections {
        grid-size: 1; grid-rows: auto; grid-gutter: 1 2; height: auto;
    }
    HelpScreen.-wide #help-sections { grid-size: 2; }
    HelpScreen .help-section { height: auto; }
    HelpScreen #help-about { color: $kwb-muted; margin-top: 1; }
    """

    def __init__(self, panes: Sequence[PaneSpec]) -> None:
        super().__init__()
        self._panes = panes

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("kafka-workbench · keys", id="help-title")
            with Grid(id="help-sections"):
                for content in help_sections(self._panes, self.app.get_key_display):
                    yield Static(content, classes="help-section")
            yield Static(ABOUT, id="help-about")
        # Its own footer: the pane's, below, would offer keys that do nothing while this is up.
        yield WorkbenchFooter()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")
