"""argparse's private list of a parser's options, read here and nowhere else.

Checked against Python 3.11.7's argparse. argparse has no public way to ask a parser which
options it has; `kafka_style` (common.py) needs their names to accept Kafka's single-dash
spellings (`-bootstrap-server`). Every parser keeps its options in `_actions`, a list of
`argparse.Action` with `option_strings`, as it has since Python 2.7; should that change,
tests/unit/test_argparse_private.py fails and says what changed.
"""

from __future__ import annotations

import argparse


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    """The names of `parser`'s `--` options, without the dashes."""
    return {
        option[2:]
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--")
    }
