"""argparse's private option list (tui/cli/argparse_private.py) still there and still shaped
as `kafka_style` reads it: run after every upgrade of Python."""

from __future__ import annotations

import argparse

from tui.cli.argparse_private import long_options
from tui.cli.common import kafka_style


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kwb-test")
    parser.add_argument("--bootstrap-server")
    parser.add_argument("-p", "--partitions", type=int)
    parser.add_argument("-v", action="store_true")
    parser.add_argument("topic")
    return parser


def test_a_parser_still_lists_its_actions_with_their_option_strings() -> None:
    actions = getattr(parser(), "_actions", None)
    assert isinstance(actions, list), (
        "argparse.ArgumentParser._actions is gone: find where a parser keeps its options now"
        " and read them in tui/cli/argparse_private.py"
    )
    assert all(isinstance(action, argparse.Action) for action in actions), (
        f"ArgumentParser._actions no longer holds argparse.Action objects: {actions!r}"
    )
    strings = [option for action in actions for option in action.option_strings]
    assert "--bootstrap-server" in strings and "--partitions" in strings, (
        f"Action.option_strings no longer names the options added: {strings!r}"
    )


def test_long_options_are_the_double_dash_names_help_included() -> None:
    assert long_options(parser()) == {"help", "bootstrap-server", "partitions"}


def test_kafka_style_doubles_the_dash_of_known_long_options_only() -> None:
    argv = ["-bootstrap-server", "b:9092", "-partitions=2", "-v", "-unknown", "orders"]
    assert kafka_style(argv, parser()) == [
        "--bootstrap-server",
        "b:9092",
        "--partitions=2",
        "-v",
        "-unknown",
        "orders",
    ]
