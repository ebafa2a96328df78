"""A real terminal for end-to-end checks: a program running in a detached tmux session.

What a person sees is what `capture-pane` returns, so tests (and bench/launch.py) wait for
text on the screen, with a deadline, and type with `send-keys`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType


class TerminalTimeout(AssertionError):
    pass


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

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    def start(self) -> Terminal:
        width, height = self.size
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env.items())
        # `remain-on-exit` keeps the pane after the program ends so its last words
        # (a traceback, an error) can still be read.
        self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(width), "-y", str(height),
            f"env TERM=xterm-256color COLORTERM=truecolor {exports} {shlex.join(self.command)}",
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

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        """The screen once `text` is on it; fails showing the screen as it was."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise TerminalTimeout(f"{text!r} not on screen after {timeout:.0f} s:\n{screen}")
            time.sleep(0.05)

    def exited(self) -> bool:
        return self._tmux("display-message", "-p", "-t", self.session, "#{pane_dead}") == "1\n"

    def wait_exit(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.exited():
            if time.monotonic() > deadline:
                raise TerminalTimeout(f"still running after {timeout:.0f} s:\n{self.screen()}")
            time.sleep(0.05)

    def close(self) -> None:
        """Kill the session (and the program in it), whatever state it is in."""
        subprocess.run(
            ["tmux", "kill-session", "-t", self.session], capture_output=True, timeout=10
        )

    def __enter__(self) -> Terminal:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def workbench_env(home: str) -> dict[str, str]:
    """A private home for `kwb` (profiles, themes, the embedded broker's data)."""
    return {
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "HOME": home,
    }
