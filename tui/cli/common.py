"""What every kwb command shares: Kafka-style flags, connection options, output and errors.

Kafka's tools accept long options with one dash (`-bootstrap-server`, `-partitions`) and
people copy such lines from tutorials, so single-dash spellings of long options are
accepted. Failures print one line on stderr and exit non-zero; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..kafka.connection import Connection, SettingsError, load_connection
from ..kafka.errors import KafkaToolError
from .argparse_private import long_options

EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A flag combination that cannot work; the message says which."""


class KwbParser(argparse.ArgumentParser):
    """argparse with one-line errors (plus where to find help) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(EXIT_USAGE)


def kafka_style(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """Turn `-bootstrap-server x` and `-partitions=2` into their `--` forms for `parser`."""
    options = long_options(parser)
    fixed = []
    for arg in argv:
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            name = arg[1:].split("=", 1)[0]
            if name in options:
                arg = "-" + arg
        fixed.append(arg)
    return fixed


def add_connection_options(
    parser: argparse.ArgumentParser, config_flag: str, broker_list: bool = False
) -> None:
    parser.add_argument(
        "--bootstrap-server", metavar="HOST:PORT", help="the Kafka server(s) to connect to"
    )
    if broker_list:
        parser.add_argument(
            "--broker-list",
            metavar="HOST:PORT",
            help="deprecated alias of --bootstrap-server, as in Kafka",
        )
    parser.add_argument(
        config_flag,
        dest="client_config",
        type=Path,
        metavar="FILE",
        help="client properties (security.protocol, sasl.*, ssl.* ...)",
    )
    parser.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="json prints one machine-readable document",
    )


def connection_from(
    args: argparse.Namespace,
    overrides: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> Connection:
    """The connection flags plus the properties file, with `overrides` over the file and
    `defaults` (a tool's own client.id, say) under it."""
    bootstrap = args.bootstrap_server or getattr(args, "broker_list", None)
    return load_connection(bootstrap, args.client_config, overrides, defaults)


def parse_key_values(
    items: Sequence[str] | None, flag: str, *, literal: bool = False
) -> dict[str, str]:
    """`k=v` items, as --config and --producer-props take them (trimmed; `=` required).

    `literal` reads them as Kafka's CommandLineUtils.parseKeyValueArgs does for the console
    tools' --property and --*-property: nothing is trimmed (so `key.separator= | ` keeps its
    blanks) and `k` alone means an empty value.
    """
    values: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if literal:
            values[key] = value
            continue
        if not sep or not key.strip():
            raise UsageError(f"{flag} needs key=value, got {item!r}")
        values[key.strip()] = value.strip()
    return values


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def error(prog: str, message: object) -> None:
    """The one line on stderr by which every kwb command reports a failure."""
    sys.stderr.write(f"{prog}: error: {message}\n")


def warn_ignored(prog: str, what: str, names: Iterable[str], client: str = "aiokafka") -> None:
    """One warning line naming the properties a command accepts but its client cannot apply."""
    names = sorted(names)
    if names:
        sys.stderr.write(
            f"{prog}: warning: ignoring {what} {client} has no equivalent for: {', '.join(names)}\n"
        )


def quiet_client_logs() -> None:
    """aiokafka logs connection trouble itself; kwb reports it once, as one line."""
    if not os.environ.get("KWB_DEBUG"):
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL + 1)


Report = Callable[[Exception], None]
"""How a command reports a failure, where it reports as its Kafka tool does (kwb configs)."""


def run(
    prog: str,
    command: Callable[[], Coroutine[Any, Any, int | None]],
    report: Report | None = None,
) -> NoReturn:
    """Run an async command; turn every expected failure into an exit code and one line (or
    what `report` prints)."""
    quiet_client_logs()
    try:
        code = asyncio.run(command())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except (KafkaToolError, SettingsError, UsageError) as exc:
        if report is None:
            error(prog, exc)
        else:
            report(exc)
        raise SystemExit(EXIT_FAILURE) from None
    except BrokenPipeError:
        raise SystemExit(0) from None
    raise SystemExit(code or 0)


def run_command(
    prog: str,
    make_parser: Callable[[], argparse.ArgumentParser],
    execute: Callable[[argparse.Namespace], Coroutine[Any, Any, int | None]],
    argv: Sequence[str],
    report: Report | None = None,
) -> NoReturn:
    """A command's main: parse `argv` (Kafka's single-dash spellings too), then `run` it."""
    p = make_parser()
    args = p.parse_args(kafka_style(argv, p))
    run(prog, lambda: execute(args), report)
