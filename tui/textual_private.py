"""Textual's private names the workbench uses, imported here and nowhere else.

Checked against Textual 8.2.8. Textual exports `Footer` but not the widget it composes for
each key: `FooterKey`, in the private module textual.widgets._footer. The workbench's footer
(widgets/footer.py) picks the help key out of the keys Footer composes and docks it at the
right edge with Footer's own class for the command palette's key, and the app's tests read the
keys' descriptions. An upgrade of Textual may move or reshape either without notice:
tests/unit/test_textual_private.py then fails and says what changed, and this module is the
one place to adapt.
"""

from __future__ import annotations

from textual.widgets._footer import FooterKey

EDGE_KEY_CLASS = "-command-palette"
"""The class Footer gives the key it docks at its right edge (the command palette's)."""

__all__ = ["EDGE_KEY_CLASS", "FooterKey"]
