"""Command palette entries: switch theme, jump to a pane."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import WorkbenchApp


class WorkbenchCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app = cast("WorkbenchApp", self.app)
        found: list[tuple[str, str, object]] = []
        for name in app.theme_names:
            found.append(
                (f"Theme: {name}", f"switch to the {name} theme", partial(app.switch_theme, name))
            )
        for spec in app.pane_specs:
            found.append(
                (f"Go to {spec.title}", f"pane {spec.key}", partial(app.show_pane, spec.pane_id))
            )
        return found

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    callback,  # type: ignore[arg-type]
                    help=help_text,
                )
