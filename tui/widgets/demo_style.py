"""The demos' colours, read from the theme: one per consumer ($kwb-consumer-1..8) and one per
kind of event. Widgets that draw Rich text (the partition map, the timeline, table
cells) cannot use CSS variables directly, so they ask this for styles; changing the theme
changes them all."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from textual.app import App

from ..kafka.demo_view import PALETTE_SIZE

_FALLBACK = "#888888"
_KIND_VARIABLES = {
    "join": "success",
    "leave": "warning",
    "expired": "error",
    "rebalance": "accent",
    "stable": "primary",
    "empty": "kwb-muted",
    "action": "kwb-key",
    "resume": "kwb-rate",
    "broker-left": "error",
    "broker-joined": "success",
    "controller": "primary",
    "leader": "primary",
    "isr-shrank": "warning",
    "isr-expanded": "success",
    "retry": "warning",
    "error": "error",
    "lost": "error",
    "settled": "success",
}


@dataclass(frozen=True, slots=True)
class DemoStyles:
    variables: dict[str, str]

    @classmethod
    def of(cls, app: App[object]) -> DemoStyles:
        return cls(dict(app.theme_variables))

    def colour(self, variable: str) -> str:
        return self.variables.get(variable, _FALLBACK)

    def consumer_colour(self, colour: int) -> str:
        if colour < 1:
            return self.colour("kwb-muted")
        return self.colour(f"kwb-consumer-{(colour - 1) % PALETTE_SIZE + 1}")

    def consumer(self, colour: int, bold: bool = True) -> Style:
        return Style(color=self.consumer_colour(colour), bold=bold)

    def chip(self, colour: int) -> Style:
        """A consumer's name on its own colour: the owner tags of the partition map."""
        return Style(
            color=self.colour("background"), bgcolor=self.consumer_colour(colour), bold=True
        )

    def tape_committed(self, colour: int) -> Style:
        """A committed record on a partition's tape: the owner's colour as a background."""
        return Style(bgcolor=self.consumer_colour(colour))

    def alarm(self) -> Style:
        """An orphaned partition: nobody is consuming it."""
        return Style(color=self.colour("background"), bgcolor=self.colour("error"), bold=True)

    def text(self, variable: str, bold: bool = False) -> Style:
        return Style(color=self.colour(variable), bold=bold)

    def kind(self, kind: str) -> Style:
        return Style(color=self.colour(_KIND_VARIABLES.get(kind, "foreground")))
