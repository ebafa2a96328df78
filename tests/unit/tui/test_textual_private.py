"""Textual's private names (tui/textual_private.py) still there and still shaped as the
workbench uses them: run after every upgrade of Textual, no sockets (a headless app)."""

from __future__ import annotations

import importlib

from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

from tui.textual_private import EDGE_KEY_CLASS, FooterKey


class FooterApp(App[None]):
    BINDINGS = [("question_mark", "help", "Help")]

    def compose(self) -> ComposeResult:
        yield Footer()


def test_footer_key_is_still_textuals_widget_for_a_key() -> None:
    module = importlib.import_module("textual.widgets._footer")
    assert getattr(module, "FooterKey", None) is FooterKey, (
        "textual.widgets._footer.FooterKey is gone: find the widget Footer now composes for a"
        " key and import it in tui/textual_private.py"
    )
    assert issubclass(FooterKey, Widget), "FooterKey is no longer a Widget"


async def test_footer_composes_a_footer_key_per_binding_with_its_key_and_description() -> None:
    app = FooterApp()
    async with app.run_test(size=(120, 5)) as pilot:
        await pilot.pause()
        keys = list(app.query_one(Footer).query(FooterKey))
        assert keys, "Footer composes no FooterKey any more: widgets/footer.py finds no keys"
        help_keys = [key for key in keys if getattr(key, "key", None) == "question_mark"]
        assert help_keys, (
            f"no FooterKey has .key == 'question_mark' (keys: {[vars(k) for k in keys]}):"
            " widgets/footer.py picks the help key by FooterKey.key"
        )
        assert getattr(help_keys[0], "description", None) == "Help", (
            "FooterKey.description no longer holds the binding's description: tests/tui read it"
        )


async def test_footer_docks_the_command_palette_key_with_its_edge_class() -> None:
    app = FooterApp()
    async with app.run_test(size=(120, 5)) as pilot:
        await pilot.pause()
        edge = app.query_one(Footer).query(FooterKey).filter(f".{EDGE_KEY_CLASS}")
        assert len(edge) == 1, (
            f"Footer no longer marks the command palette's key with {EDGE_KEY_CLASS!r}:"
            " widgets/footer.py docks the help key at the right edge with that class"
        )
