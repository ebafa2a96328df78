"""Letters typed on a form's button go into the form's text field.

A pane shows with the focus on a button (Send, Start) rather than a text field, so that the
pane keys (1-9, q, ?) keep working. A newcomer does not know that and types the topic name at
once; those letters used to be lost. A burst of keys (a fast typist, a terminal paste) is
all aimed at the button before the first moves the focus, so the rest follow the first.
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
    """Type `event`'s character into a field: the one that has the focus already (an earlier
    key of the burst moved it there), else `field_for()`, which gets the focus. Keys that
    something binds, a blank before anything was typed and keys `field_for` has no field
    for are left alone."""
    character = event.character
    if not event.is_printable or character is None or event.key in screen.active_bindings:
        return
    focused = screen.focused
    if isinstance(focused, Input | TextArea):
        field: Field | None = focused  # an earlier key of the burst: the spaces too
    elif character.isspace():
        return  # nothing typed yet: a blank starts nothing
    else:
        field = field_for()
    if field is None:
        return
    event.stop()
    if field is not focused:
        screen.set_focus(field)  # now, so that later keys go straight to the field
    # Typed once the field has had its Focus event, which selects what it holds (and the
    # next key would replace it); in order with the burst's other keys.
    if isinstance(field, Input):
        field.call_later(field.insert_text_at_cursor, character)
    else:
        field.call_later(field.insert, character)
