"""The real `kwb` in a real terminal (tmux): what a newcomer does on the first day.

Launch on the embedded broker, create a topic in the Topics pane's dialog, produce a record
from the Produce pane, see it arrive in the Tail pane, set retention.ms in the configs editor,
quit with `q`; then the process has exited and the embedded broker's port is closed. Keys and
mouse clicks go in with `send-keys`, and the test reads what a person would read
(`capture-pane`); every wait has a deadline and the tmux session is killed whatever happens.

CI installs tmux (.ci/run) and sets KWB_REQUIRE_TMUX=1, so a missing tmux fails there instead
of skipping.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from terminal import KWB, TMUX_REASON, Terminal, no_traceback, tmux_missing, workbench_env
from waiting import polling, wait_until

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(tmux_missing(), reason=TMUX_REASON),
    pytest.mark.xdist_group("terminal"),  # one real terminal at a time (tests/conftest.py)
]
TOPIC = "e2e-orders"
SIZE = (120, 36)
SETTLE = 0.5
"""Seconds for a pane or dialog just shown to move the focus (one refresh is enough)."""
GAP = 0.3
"""Between keys. Textual moves the focus a moment after the key that asks for it, so keys
sent in one burst can reach the widget that had the focus (two quick Tabs move it once)."""


def press(term: Terminal, *keys: str) -> None:
    """tmux key names, one at a time, as a person would press them."""
    for key in keys:
        time.sleep(GAP)
        term.send(key)


def write(term: Terminal, text: str, timeout: float = 15.0) -> None:
    """Text typed into the focused field, apart from the keys before and after it; returns
    once a line of the screen shows `text` more often than that line did before (the field
    has it), so the next key cannot overtake it, and a text typed where it does not show
    fails here, saying so. Lines, not the whole screen: a notification naming `text` (Topics'
    "created topic ...") may leave the screen while the text is typed."""
    time.sleep(GAP)
    before = term.screen().splitlines()
    term.type(text)
    pauses = polling(f"{text!r}, typed, on the screen", timeout, showing=term.screen)
    while not shows_more(before, term.screen().splitlines(), text):
        time.sleep(next(pauses))
    time.sleep(GAP)


def shows_more(before: list[str], after: list[str], text: str) -> bool:
    """Some line of `after` holds `text` more often than the same line of `before`."""
    return any(
        line.count(text) > (before[row].count(text) if row < len(before) else 0)
        for row, line in enumerate(after)
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_closed(port: int, timeout: float = 10.0) -> None:
    wait_until(lambda: not listening(port), f"the embedded broker to close port {port}", timeout)


def retention_on_broker(port: int) -> str | None:
    """retention.ms set on TOPIC, as the broker reports it to another client (`kwb configs`)."""
    done = subprocess.run(
        [KWB, "configs", "--bootstrap-server", f"127.0.0.1:{port}", "--entity-type", "topics",
         "--entity-name", TOPIC, "--describe", "--output", "json"],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    (described,) = json.loads(done.stdout)
    return next((c["value"] for c in described["configs"] if c["name"] == "retention.ms"), None)


def show_pane(term: Terminal, key: str, shown: str) -> None:
    """Switch pane with its number key; wait until `shown` is on screen and the pane has put
    the focus where it puts it (after the next refresh), so typing goes there."""
    press(term, key)
    term.wait_for(shown)
    time.sleep(SETTLE)


def wait_row(term: Terminal, name: str, timeout: float = 15.0) -> str:
    """The screen once a table shows a row for `name` (a line that starts with it)."""
    pauses = polling(f"a row {name!r}", timeout, showing=term.screen)
    while not has_row(screen := term.screen(), name):
        time.sleep(next(pauses))
    return screen


def has_row(screen: str, name: str) -> bool:
    """A line of `screen` starts with `name` (inside a table's border or not)."""
    return any(line.strip(" │").startswith(f"{name} ") for line in screen.splitlines())


def click_on(term: Terminal, text: str) -> None:
    """Click (SGR mouse report, as a terminal sends it) on the first cell of `text`: a field
    is found by its placeholder, whatever the focus order of the form."""
    lines = term.wait_for(text).splitlines()
    row = next(i for i, line in enumerate(lines) if text in line)
    column = lines[row].index(text)
    x, y = column + 1, row + 1
    time.sleep(GAP)
    term.type(f"\x1b[<0;{x};{y}M")
    term.type(f"\x1b[<0;{x};{y}m")
    time.sleep(GAP)


def focus_row(term: Terminal, name: str, header: str, timeout: float = 10.0) -> None:
    """Move a table's cursor (on its first row) down to the row of `name`; the table is the
    one under the line starting with `header` (inside a dialog's border or not)."""
    pauses = polling(f"a row {name!r} under {header!r}", timeout, showing=term.screen)
    while (index := rows_below(term.screen(), header, name)) is None:
        time.sleep(next(pauses))
    press(term, *["Down"] * index)


def rows_below(screen: str, header: str, name: str) -> int | None:
    """How many rows the row of `name` is below the first row under `header`, if shown."""
    rows = [line.strip(" │") for line in screen.splitlines()]
    top = next((i for i, row in enumerate(rows) if row.startswith(f"{header} ")), None)
    if top is None:
        return None
    below = rows[top + 1 :]
    return next((i for i, row in enumerate(below) if row.startswith(f"{name} ")), None)


def test_launch_create_produce_tail_edit_retention_quit(tmp_path: Path) -> None:
    port = free_port()
    home = str(tmp_path / "home")
    with Terminal([KWB, "--port", str(port)], workbench_env(home), size=SIZE) as term:
        term.wait_for("● connected", timeout=30)
        assert f"127.0.0.1:{port}" in term.screen()

        # Topics pane: create a topic in the dialog (the name, enter).
        show_pane(term, "2", "filter topics")
        press(term, "c")
        term.wait_for("Create topic")
        time.sleep(SETTLE)
        write(term, TOPIC)
        press(term, "Enter")
        term.wait_for(f"created topic {TOPIC}")
        no_traceback(wait_row(term, TOPIC))

        # Tail pane: tail the topic from the end, before anything is produced.
        show_pane(term, "3", "stopped")
        click_on(term, "topics: orders")
        write(term, TOPIC)
        press(term, "Enter")
        screen = no_traceback(term.wait_for("tailing", timeout=20))
        assert f"{TOPIC} from the end" in screen, screen

        # Produce pane: topic, key, a JSON value; ctrl+s sends and shows the acknowledgement.
        show_pane(term, "4", "acknowledgements")
        click_on(term, "topic name")
        write(term, TOPIC)
        click_on(term, "empty: no key")
        write(term, "customer-42")
        click_on(term, "text, or JSON")
        write(term, '{"order": 1001, "total": 99.5}')
        term.wait_for("valid JSON")
        press(term, "C-s")
        no_traceback(term.wait_for(f"✓ {TOPIC} · partition 0 · offset 0", timeout=20))

        # Tail pane: the record is there, key and value.
        press(term, "Escape")  # out of the value editor: the number keys switch panes again
        show_pane(term, "3", "tailing")
        screen = no_traceback(term.wait_for("customer-42", timeout=20))
        assert '"order": 1001' in screen or '"order":1001' in screen, screen

        # Topics pane: configs editor, retention.ms set to one hour.
        show_pane(term, "2", "filter topics")
        press(term, "e")
        term.wait_for(f"Configs of topic {TOPIC}")
        term.wait_for("set on this topic")
        click_on(term, "filter configs")
        write(term, "retention.ms")
        press(term, "Enter")
        focus_row(term, "retention.ms", "config")
        press(term, "Enter")
        press(term, "C-u")  # the value field: clear it whatever was selected
        write(term, "3600000")
        press(term, "Enter")
        no_traceback(term.wait_for("set retention.ms = 3600000", timeout=20))
        assert retention_on_broker(port) == "3600000"
        press(term, "Escape")
        term.wait_for("filter topics")

        # Quit: the process ends and takes the embedded broker down with it.
        press(term, "q")
        term.wait_exit(timeout=30)
        no_traceback(term.screen())
        assert term.exit_status() == 0, term.screen()
    wait_closed(port)


def test_kwb_demo_rebalance_auto_plays_the_story_and_quits(tmp_path: Path) -> None:
    """`kwb demo rebalance --auto`: the captions come in order, the killed consumer's
    partitions show orphaned, the broker's expiry and the takeover reach the timeline, the
    graceful leave too, and the demo quits by itself with status 0 (its broker, on the
    --port asked for so other clients can watch, closed)."""
    port = free_port()
    demo = [KWB, "demo", "rebalance", "--auto", "--step-delay", "0.5", "--port", str(port)]
    demo += ["--session-timeout-ms", "2000"]
    with Terminal(demo, workbench_env(str(tmp_path / "home")), size=(160, 48)) as term:
        screen = term.wait_for("1/12  A topic is a log split into partitions", timeout=30)
        assert f"127.0.0.1:{port}" in no_traceback(screen) and listening(port), screen
        term.wait_for("2/12  Three consumers join the consumer group demo-group", timeout=20)
        term.wait_for("4/12  A fourth consumer joins", timeout=20)
        term.wait_for("5/12  consumer-2 is killed", timeout=20)
        term.wait_for("ORPHANED", timeout=10)
        term.wait_for("6/12  No heartbeat for session.timeout.ms (2 s)", timeout=20)
        screen = no_traceback(term.wait_for("consumer-2 expired: no heartbeat", timeout=20))
        assert "broker events" in screen, screen
        term.wait_for("takes over P", timeout=20)
        term.wait_for("10/12  consumer-3 stops gracefully", timeout=40)
        term.wait_for("consumer-3 left the group (LeaveGroup)", timeout=20)
        term.wait_for("12/12  That is a consumer group", timeout=40)
        term.wait_exit(timeout=30)
        no_traceback(term.screen())
        assert term.exit_status() == 0, term.screen()
    wait_closed(port)
