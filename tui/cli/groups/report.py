"""How kafka-consumer-groups.sh reports a failure: `Error: <message>` after a blank line on
stdout, the exception's stack trace on stderr (kwb prints its message there), and exit status
0 all the same. kwb reports as it does, so whatever reads the tool's output reads kwb's."""

from __future__ import annotations

import sys


def print_error(message: str, trace: str | None = None) -> None:
    """ConsumerGroupCommand.printError; `trace` is the message of the exception behind it."""
    print(f"\nError: {message}")
    if trace is not None:
        sys.stdout.flush()
        sys.stderr.write(trace + "\n")
