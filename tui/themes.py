"""Themes as Textual CSS files: found, parsed into Textual themes, and watched for edits.

A theme file declares Textual CSS variables (`$primary: #4c9be8;`). The ones Textual's
colour system knows (primary, background, ...) become the theme's colours; the rest
(`$kwb-rate`, ...) become extra variables the widgets use. Themes ship in the `themes`
package; users add or override them in ~/.config/kafka-workbench/themes/.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from textual.theme import Theme

from .profiles import DEFAULT_THEME as DEFAULT_THEME  # its home before; importers still find it
from .profiles import config_home

_DECLARATION = re.compile(r"^\s*\$([\w-]+)\s*:\s*([^;]+?)\s*;", re.MULTILINE)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


class ThemeError(Exception):
    pass


def theme_dirs() -> list[Path]:
    """Where themes come from, later directories overriding earlier ones."""
    shipped = Path(str(resources.files("themes")))
    return [shipped, config_home() / "themes"]


def available_themes() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in theme_dirs():
        if directory.is_dir():
            for path in sorted(directory.glob("*.tcss")):
                found[path.stem] = path
    return found


def parse_theme(name: str, text: str) -> Theme:
    """A Textual Theme from a theme file's variable declarations."""
    values = {key: value for key, value in _DECLARATION.findall(_COMMENT.sub("", text))}
    if "primary" not in values:
        raise ThemeError(f"theme {name} does not declare $primary")
    colours = {field: values.pop(field) for field in _COLOUR_FIELDS if field in values}
    dark = values.pop("dark", "true").lower() != "false"
    return Theme(name=name, dark=dark, variables=values, **colours)


def load_theme(path: Path) -> Theme:
    try:
        return parse_theme(path.stem, path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError(f"cannot read theme {path}: {exc.strerror}") from None


async def watch_themes(on_change: Callable[[Path], Awaitable[None] | None]) -> None:
    """Call `on_change(path)` whenever a theme file is written (runs until cancelled)."""
    from watchfiles import awatch

    shipped, user = theme_dirs()
    with contextlib.suppress(OSError):  # a read-only home: the shipped themes still reload
        user.mkdir(parents=True, exist_ok=True)  # so a theme added while running is seen
    directories = [str(d) for d in (shipped, user) if d.is_dir()]
    async for changes in awatch(*directories, debounce=200):
        for _, changed in changes:
            path = Path(changed)
            if path.suffix == ".tcss" and path.exists():
                outcome = on_change(path)
                if outcome is not None:
                    await outcome
