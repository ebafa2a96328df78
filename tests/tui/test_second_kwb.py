"""A second `kwb` on the same data directory (issue 14, point 4): never a traceback.

It used to print 25 lines ending in DataDirInUse. Now it joins the first workbench's broker
as a client and says so in the header; once the first is killed (-9: the kernel drops its
lock, its record stays behind), the next `kwb` runs the broker itself again, recovering the
log; and a data directory held by something that is not a workbench gets one line and a
non-zero exit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from brokers import BrokerProcess
from terminal import KWB, TMUX_REASON, Terminal, no_traceback, tmux_missing, workbench_env
from waiting import wait_until

from tui.embedded import RUNNING_FILE, data_home

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(tmux_missing(), reason=TMUX_REASON),
    pytest.mark.xdist_group("terminal"),  # one real terminal at a time (tests/conftest.py)
]


def running_pid(env: dict[str, str]) -> int:
    """The pid the workbench running the embedded broker wrote down."""
    record = data_dir(env) / RUNNING_FILE
    wait_until(record.exists, f"{record} written")
    return int(json.loads(record.read_text())["pid"])


def data_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / data_home().relative_to(data_home().parents[1])


def test_a_second_kwb_joins_the_first_and_the_next_recovers_after_a_kill(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    env = workbench_env(str(tmp_path / "home"))
    port = str(unused_tcp_port)
    with Terminal([KWB, "--port", port], env) as first:
        first.wait_for("● connected", timeout=60)
        with Terminal([KWB], env) as second:
            screen = no_traceback(second.wait_for("● connected", timeout=60))
            assert f"joined the localbroker of kwb (pid {running_pid(env)})" in screen, screen
            assert f"127.0.0.1:{port}" in screen, screen
            second.send("q")
            assert second.exit_status() == 0, second.screen()
        no_traceback(first.wait_for("● connected"))  # the first goes on serving
        killed = running_pid(env)
        os.kill(killed, signal.SIGKILL)
        first.wait_exit()
    with Terminal([KWB, "--port", port], env) as third:
        screen = no_traceback(third.wait_for("● connected", timeout=60))
        assert "embedded localbroker" in screen, screen
        assert running_pid(env) != killed
        third.send("q")
        assert third.exit_status() == 0, third.screen()


def test_a_data_dir_held_by_another_broker_is_one_line(tmp_path: Path) -> None:
    held = tmp_path / "held"
    broker = BrokerProcess(held).start()
    try:
        done = subprocess.run(
            [KWB, "--data-dir", str(held)],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, **workbench_env(str(tmp_path / "home"))},
        )  # fmt: skip
    finally:
        broker.terminate()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"kwb: cannot start: {held} is in use by another broker that no running workbench"
        " serves; stop it, or give kwb another --data-dir"
    ]
