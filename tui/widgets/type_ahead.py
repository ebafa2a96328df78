"""Letters typed on a form's button go into the form's text field.

A pane shows with the focus on a button (Send, Start) rather than a text field, so that the
pane keys (1-9, q, ?) keep working. A newcomer does not know that and types the topic name at
once; those letters used to be lost. The first letter moves the focus to the field and is
typed there; the app delivers the next key only after that (tui/key_order.py), so the rest of
a burst goes straight to the field.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.screen import Screen
from textual.widgets import Input, TextArea

Field = Input | TextArea


def type_ahead(
    event: events.Key, screen: Screen[object], field_for: Callable[[], Field | None]
) -> None:
    """Type `event`'s character into `field_for()`, which gets the focus. Keys that something
    binds, blanks and keys `field_for` has no field for are left alone."""
    character = event.character
    if not event.is_printable or character is None or character.isspace():
        return
    if event.key in screen.active_bindings:
        return
    field = field_for()
    if field is None:
        return
    event.stop()
    screen.set_focus(field)
    # Typed once the field has had its Focus event, which selects what it holds (the key
    # would replace it); the field's queue has that event first.
    if isinstance(field, Input):
        field.call_later(field.insert_text_at_cursor, character)
    else:
        field.call_later(field.insert, character)
