"""What `kwb demo rebalance` and `kwb demo failover` share as apps: the workbench, opening on
the demo's pane, with space and enter bound to the next step of the story (tui/story.py),
quitting by itself at the end when played `--auto`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from textual.binding import Binding

from .app import WorkbenchApp
from .story import Engine, Step, Storyteller
from .themes import DEFAULT_THEME
from .workbench import Workbench

Settings = TypeVar("Settings")


class DemoApp(WorkbenchApp, Generic[Engine, Settings]):
    """A demo's app: subclasses name their pane, show the captions on it and call `tell`."""

    DEMO_PANE = ""
    """The id of the pane the demo plays on."""

    BINDINGS = [
        Binding("space", "advance", "Next step", priority=True),
        Binding("enter", "advance", "Next step", show=False, priority=True),
    ]

    def __init__(
        self,
        workbench: Workbench,
        settings: Settings,
        *,
        auto: bool = False,
        step_delay: float = 5.0,
        theme_name: str = DEFAULT_THEME,
        watch_theme_files: bool = True,
    ) -> None:
        super().__init__(workbench, theme_name, watch_theme_files)
        self.demo_settings = settings
        self.auto = auto
        self.teller: Storyteller[Engine] = Storyteller(
            self.show_caption, auto=auto, step_delay=step_delay
        )

    def _first_pane(self) -> str:
        """The demo's pane, whichever pane the workbench showed last: showing it after the
        remembered one raced with that one's activation and could lose."""
        return self.DEMO_PANE

    def action_advance(self) -> None:
        self.teller.advance()

    def show_caption(self, caption: str) -> None:
        raise NotImplementedError

    async def tell(self, engine: Engine, steps: Sequence[Step[Engine]]) -> None:
        """Play the story; played auto, quit after its last step."""
        await self.teller.play(engine, steps)
        if self.auto:
            self.exit()
