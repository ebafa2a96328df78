"""Typed text arrives as typed, in every kind of field, on a loaded machine (issue 14, point 1).

In tmux, each field is reached with the keys a person would press, sent in one burst with the
first text (`2 / FAILED`: the keys that move the focus race the letters behind them), then
edited in bursts: eight backspaces and a word, sent in one tmux command, so the workbench
reads them at once. The field must end holding exactly that word. Before keys were delivered
in order (tui/key_order.py) the backspaces were applied after some of the letters behind them
("FAab", "FAIL", "cdef") and letters after `/` went to the list the focus was leaving.

Two processes spinning for the length of the test (tests/cpu_hog.py) load both cores, as the
other work on a shared machine does.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cpu_hog import cpu_hog
from terminal import (
    KWB,
    TMUX_REASON,
    Terminal,
    no_traceback,
    seed_group,
    tmux_missing,
    workbench_env,
)
from waiting import polling

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(tmux_missing(), reason=TMUX_REASON),
    pytest.mark.xdist_group("terminal"),  # one real terminal at a time (tests/conftest.py)
]

FIRST = "FAILED"
WORDS = ("abcdef", FIRST, "abcdef")
"""Each burst: eight backspaces (the field holds six letters) and the next word."""
TOPIC = "orders"
GROUP = "burst-group"


@dataclass(frozen=True)
class Field:
    name: str
    reach: tuple[str, ...]
    """Keys from where the previous field left the focus, sent in one burst with FIRST."""
    leave: tuple[str, ...]
    """Keys that empty the field and take the focus out of it (or close its dialog)."""
    left: str = ""
    """On the screen once `leave` has had its effect ("" for nothing to wait for). An escape
    must have been read before the next burst: escape then `2` at once is alt+2."""
    gone: bool = False
    """`left` leaves the screen (rather than appears on it)."""


FIELDS = (
    Field("brokers config filter", ("/",), ("C-u", "Escape"), "r Reload configs"),
    Field("topics filter", ("2", "/"), ("C-u", "Escape"), "c Create"),
    Field("create-topic dialog", ("c",), ("Escape",), "Create topic", gone=True),
    Field("command palette", ("C-p",), ("Escape",), "Search for commands", gone=True),
    Field("tail topics", ("3",), ("C-u", "Escape"), "s Start/stop"),
    Field("tail filter", ("/",), ("C-u", "Escape"), "s Start/stop"),
    Field("produce topic (typed on Send)", ("4",), ("C-u",)),
    Field("produce key", ("Tab", "Tab"), ("C-u",)),
    # partition, repeat, compression, acks, the value's and the key's schema and version
    # (kwb's broker serves a registry, so the schema rows are shown), the value's format
    Field("produce value (text area)", ("Tab",) * 10, ("C-u", "BTab")),
    Field("groups filter", ("5", "/"), ("C-u", "Escape"), "r Reset offsets"),
    Field(
        "reset-offsets dialog",
        ("r", "Enter", *("Down",) * 4, "Enter", "Tab"),
        ("Escape",),
        "Reset offsets of group",
        gone=True,
    ),
    Field("generator topic (typed on Start)", ("6",), ("C-u",)),
)


def holds(screen: str, word: str) -> bool:
    """A field on `screen` holds `word` and nothing else: no letter touches it either side
    (a garbled edit leaves "FAab", "abcdeFAILED", "FAIL")."""
    return re.search(rf"(?<![A-Za-z]){word}(?![A-Za-z])", screen) is not None


def wait_holds(term: Terminal, word: str, field: str, timeout: float = 30.0) -> None:
    pauses = polling(f"the {field} to hold exactly {word!r}", timeout, showing=term.screen)
    while not holds(term.screen(), word):
        time.sleep(next(pauses))


def wait_shown(term: Terminal, text: str, shown: bool, what: str, timeout: float = 30.0) -> None:
    pauses = polling(what, timeout, showing=term.screen)
    while (text in term.screen()) != shown:
        time.sleep(next(pauses))


def test_bursts_of_keys_arrive_intact_in_every_field_under_load(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    bootstrap = f"127.0.0.1:{unused_tcp_port}"
    env = workbench_env(str(tmp_path / "home"))
    with Terminal([KWB, "--port", str(unused_tcp_port)], env, size=(120, 36)) as term:
        term.wait_for("● connected", timeout=60)
        seed_group(bootstrap, TOPIC, GROUP)
        term.wait_for("Filter configs", timeout=30)  # the Brokers pane has the focus
        with cpu_hog():
            for field in FIELDS:
                term.burst(field.reach, FIRST)
                wait_holds(term, FIRST, field.name)
                for word in WORDS:
                    term.burst(["BSpace"] * 8, word)
                    wait_holds(term, word, field.name)
                term.burst(field.leave)
                wait_shown(term, WORDS[-1], False, f"the {field.name} emptied")
                if field.left:
                    wait_shown(term, field.left, not field.gone, f"out of the {field.name}")
        no_traceback(term.screen())
