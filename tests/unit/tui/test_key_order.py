"""Keys reach the widgets in the order they came, each after the last has had its effect
(tui/key_order.py), tested on a small app whose field sits as deep as the workbench's do.

The keys are posted all at once, as the terminal driver posts a burst it read in one go; a
plain Textual App applies the backspaces after some of the letters behind them, and sends
letters typed after `/` to the widget the focus is leaving.
"""

from __future__ import annotations

import asyncio

import pytest
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Select
from workbench_pilot import wait_until

from tui.key_order import KeysInOrderApp

DEPTH = 10


class Dialog(ModalScreen[None]):
    """Focuses its field as the workbench's dialogs do, once mounted (not on resume), and
    takes a moment to mount, as a dialog that reads something first does."""

    AUTO_FOCUS = ""

    def compose(self) -> ComposeResult:
        yield Button("cancel")
        yield Input(id="dialog-field")

    async def on_mount(self) -> None:
        await asyncio.sleep(0.1)
        self.query_one("#dialog-field").focus()


class Vanishing(Button):
    """Removes itself on `x`: the key's way is cut before it reports back."""

    async def key_x(self) -> None:
        await self.remove()


class DeepApp(KeysInOrderApp[None]):
    BINDINGS = [
        Binding("slash", "focus_field", "Field"),
        Binding("c", "dialog", "Dialog"),
        Binding("ctrl+d", "dialog", "Dialog", priority=True),
    ]

    def compose(self) -> ComposeResult:
        def nest(depth: int) -> ComposeResult:
            if depth == 0:
                yield Button("list", id="list")
                yield Vanishing("vanishing", id="vanishing")
                yield Input(id="field")
                return
            with Vertical():
                yield from nest(depth - 1)

        with Vertical(id="finder"):
            yield Input(id="find")
            yield Select([("off", "off"), ("on", "on")], value="off", allow_blank=False)
            yield Input(id="enabled-by-choice", disabled=True)
        yield from nest(DEPTH)

    @on(Input.Submitted, "#find")
    def _found(self) -> None:
        self.query_one("#field").focus()

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        self.query_one("#enabled-by-choice").disabled = event.value != "on"

    def action_focus_field(self) -> None:
        self.query_one("#field").focus()

    def action_dialog(self) -> None:
        self.push_screen(Dialog())


def burst(app: KeysInOrderApp[None], *keys: str | events.Paste) -> None:
    """Key names (a character types itself) and pastes, posted before any is handled."""
    for key in keys:
        if isinstance(key, events.Paste):
            app.post_message(key)
        else:
            app.post_message(events.Key(key, key if len(key) == 1 else None))


def value(app: KeysInOrderApp[None], widget_id: str = "field") -> str:
    return app.screen.query_one(f"#{widget_id}", Input).value


async def focused(pilot: object, app: KeysInOrderApp[None], widget: Widget) -> None:
    widget.focus()
    await wait_until(pilot, lambda: app.focused is widget, f"{widget} focused")  # type: ignore[arg-type]


async def test_backspaces_are_applied_before_the_letters_behind_them() -> None:
    app = DeepApp()
    async with app.run_test() as pilot:
        field = app.query_one("#field", Input)
        await focused(pilot, app, field)
        field.value = "FAILED"
        field.cursor_position = len(field.value)
        for word in ("abcdef", "uvwxyz") * 3:
            burst(app, *["backspace"] * 8, *word)
            await wait_until(pilot, lambda w=word: value(app).endswith(w[-1]), f"{word} typed")
            assert value(app) == word


async def test_letters_after_a_key_that_moves_the_focus_follow_it() -> None:
    app = DeepApp()
    async with app.run_test() as pilot:
        await focused(pilot, app, app.query_one("#list"))
        burst(app, "slash", *"zzz,")
        await wait_until(pilot, lambda: len(value(app)) >= 4, "the letters typed")
        assert value(app) == "zzz,"


@pytest.mark.parametrize("key", ["c", "ctrl+d"], ids=["binding", "priority-binding"])
async def test_letters_after_a_key_that_opens_a_dialog_go_into_it(key: str) -> None:
    """A priority binding (ctrl+p opens the command palette) runs as the app reads the key,
    without sending it anywhere: the letters behind wait for its screen too."""
    app = DeepApp()
    async with app.run_test() as pilot:
        await focused(pilot, app, app.query_one("#list"))
        burst(app, key, *"orders")
        await wait_until(pilot, lambda: isinstance(app.screen, Dialog), "the dialog")
        await wait_until(pilot, lambda: len(value(app, "dialog-field")) >= 6, "the name typed")
        assert value(app, "dialog-field") == "orders"


async def test_letters_after_enter_follow_the_focus_its_message_moved() -> None:
    """Enter in a field posts Submitted, a message of its own; the handler that moves the
    focus runs after the key has gone all the way. The letters wait for it too."""
    app = DeepApp()
    async with app.run_test() as pilot:
        await focused(pilot, app, app.query_one("#find"))
        burst(app, "enter", *"abc")
        await wait_until(pilot, lambda: len(value(app)) >= 3, "the letters typed")
        assert value(app) == "abc"
        assert app.query_one("#find", Input).value == ""


async def test_letters_after_a_choice_go_to_the_field_it_enabled() -> None:
    """A choice in a Select goes overlay, Select, Changed: three messages on from the key."""
    app = DeepApp()
    async with app.run_test() as pilot:
        await focused(pilot, app, app.query_one(Select))
        burst(app, "enter", "down", "enter", "tab", *"abc")
        field = "enabled-by-choice"
        await wait_until(pilot, lambda: len(value(app, field)) >= 3, "the letters typed")
        assert value(app, field) == "abc"


async def test_a_paste_keeps_its_place_among_the_keys() -> None:
    app = DeepApp()
    async with app.run_test() as pilot:
        await focused(pilot, app, app.query_one("#field"))
        burst(app, *"ab", events.Paste("CD"), "backspace", *"ef")
        await wait_until(pilot, lambda: value(app).endswith("f"), "the last key")
        assert value(app) == "abCef"


async def test_a_key_whose_widget_goes_away_does_not_hold_up_the_next() -> None:
    app = DeepApp()
    async with app.run_test() as pilot:
        await focused(pilot, app, app.query_one("#vanishing"))
        burst(app, "x", "slash", *"after")
        await wait_until(pilot, lambda: value(app) == "after", "the keys after the lost one")
        assert not app.query("#vanishing")
