"""The help screen: what each key does, for people who don't read docs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# kafka-workbench

| key | does |
|---|---|
| `1` … `9` | switch pane (Brokers, Topics, Tail, Produce, …) |
| `ctrl+p` | command palette: themes, panes, actions |
| `?` | this help |
| `q` / `ctrl+c` | quit (stops the embedded broker cleanly) |
| `tab` / `shift+tab` | move focus |
| `j` / `k`, arrows | move in lists |
| `/` | filter the current list |
| `r` | refresh |

Each pane shows its own keys in the footer.

The workbench runs its own broker unless started with `--bootstrap-server` or `--profile`.
Themes live in `~/.config/kafka-workbench/themes/*.tcss` and reload when edited.

Press `escape` to close.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "dismiss", "Close"), ("question_mark", "dismiss", "Close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80%; max-width: 90; height: 80%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
