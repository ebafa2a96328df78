"""A real terminal for end-to-end checks: a program running in a detached tmux session.

What a person sees is what `capture-pane` returns, so tests (and bench/launch.py) wait for
text on the screen, with a deadline, and type with `send-keys`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from types import TracebackType

from waiting import polling


class Terminal:
    """`with Terminal(["kwb"], env=...) as term: term.wait_for("connected")`."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str] | None = None,
        size: tuple[int, int] = (120, 36),
    ) -> None:
        if shutil.which("tmux") is None:
            raise RuntimeError("tmux is not installed (apt-get install -y tmux)")
        self.session = f"kwb-{uuid.uuid4().hex[:8]}"
        self.command = list(command)
        self.env = dict(env or {})
        self.size = size
        self._status_dir = Path(tempfile.mkdtemp(prefix="kwb-terminal-"))
        self._status_file = self._status_dir / "status"

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    def start(self) -> Terminal:
        width, height = self.size
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        # `remain-on-exit` keeps the pane after the program ends so its last words
        # (a traceback, an error) can still be read. COLUMNS and LINES go: a tmux server
        # started from a process that had them passes them on, and Textual would take them
        # over the pane's real size. A shell writes the program's exit status to a file:
        # tmux's own record of it is missing when its server ignores SIGCHLD.
        record = f'"$@"; echo $? > {shlex.quote(str(self._status_file))}'
        self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height),
            f"env -u COLUMNS -u LINES TERM=xterm-256color COLORTERM=truecolor {exports}"
            f" sh -c {shlex.quote(record)} sh {shlex.join(self.command)}",
        )  # fmt: skip
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")
        return self

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def send(self, *keys: str) -> None:
        """tmux key names ("Enter", "C-c", "Escape") or literal text."""
        for key in keys:
            self._tmux("send-keys", "-t", self.session, key)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def burst(self, keys: Sequence[str] = (), text: str = "") -> None:
        """`keys` (tmux key names) then `text` (literal), in one tmux command: the program
        reads them all at once, as it does a fast typist's keys or a paste without
        bracketed paste, rather than one at a time as separate `send`s deliver them."""
        command: list[str] = []
        if keys:
            command += ["send-keys", "-t", self.session, *keys]
        if text:
            command += [";"] if command else []
            command += ["send-keys", "-t", self.session, "-l", text]
        self._tmux(*command)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """The screen once `text` is on it; fails showing the screen as it was."""
        pauses = polling(f"{text!r} on the screen", timeout, showing=self.screen)
        while text not in (screen := self.screen()):
            time.sleep(next(pauses))
        return screen

    def exited(self) -> bool:
        return self._tmux("display-message", "-p", "-t", self.session, "#{pane_dead}") == "1\n"

    def wait_exit(self, timeout: float = 15.0) -> None:
        pauses = polling("the program to exit", timeout, showing=self.screen)
        while not self.exited():
            time.sleep(next(pauses))

    def exit_status(self, timeout: float = 15.0) -> int:
        """The program's exit status once it has ended (128 + N after signal N)."""
        pauses = polling("the program's exit status", timeout, showing=self.screen)
        while (status := self._read_status()) is None:
            time.sleep(next(pauses))
        return status

    def _read_status(self) -> int | None:
        """What the shell wrote once the program ended; None before (or mid-write)."""
        try:
            return int(self._status_file.read_text())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Kill the session (and the program in it), whatever state it is in."""
        subprocess.run(
            ["tmux", "kill-session", "-t", self.session], capture_output=True, timeout=10
        )
        shutil.rmtree(self._status_dir, ignore_errors=True)

    def __enter__(self) -> Terminal:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


KWB = str(Path(sys.executable).with_name("kwb"))
"""The `kwb` of the Python running the tests."""


def seed_group(bootstrap: str, topic: str, group: str) -> None:
    """`topic` with one record, and `group` having committed its offset, made with `kwb`'s
    own commands (the reset dialog and the groups pane need a group with offsets)."""
    bootstrap_server = ["--bootstrap-server", bootstrap, "--topic", topic]
    run = partial(subprocess.run, capture_output=True, timeout=60, check=True)
    run([KWB, "topics", "--create", *bootstrap_server])
    run([KWB, "produce", *bootstrap_server], input=b"first\n")
    run([KWB, "consume", *bootstrap_server, "--group", group, "--from-beginning",
         "--max-messages", "1", "--timeout-ms", "20000"])  # fmt: skip


TMUX_REASON = "tmux is not installed (apt-get install -y tmux); CI installs it"


def tmux_missing() -> bool:
    """No tmux here, and no KWB_REQUIRE_TMUX (CI sets it, so there a missing tmux fails)."""
    return shutil.which("tmux") is None and not os.environ.get("KWB_REQUIRE_TMUX")


def no_traceback(screen: str) -> str:
    """`screen`, after checking that no Python traceback is on it."""
    assert "Traceback" not in screen, screen
    return screen


def workbench_env(home: str) -> dict[str, str]:
    """A private home for `kwb` (profiles, themes, the embedded broker's data)."""
    return {
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "HOME": home,
    }
