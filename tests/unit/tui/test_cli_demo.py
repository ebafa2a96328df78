"""`kwb demo`'s arguments: each demo refuses the other's options and values it cannot honour,
with one line and before it starts a broker; the failover demo's brokers get the session it
says on screen."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tui.cli.demo import _play, failover_settings, main
from tui.kafka.failover_demo import FailoverSettings
from tui.workbench import Workbench


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["failover", "--port", "9094"], "kwb demo: --port is not an option of the failover demo"),
        (
            ["failover", "--session-timeout-ms", "2000"],
            "kwb demo: --session-timeout-ms is not an option of the failover demo",
        ),
        (
            ["rebalance", "--broker-session-timeout-ms", "3000"],
            "kwb demo: --broker-session-timeout-ms is not an option of the rebalance demo",
        ),
        (
            ["failover", "--broker-session-timeout-ms", "999"],
            "kwb demo: --broker-session-timeout-ms must be at least 1000 (the brokers heartbeat"
            " every third of it)",
        ),
        (["failover", "--step-delay", "-1"], "kwb demo: --step-delay must not be negative"),
        (
            ["rebalance", "--partitions", "0"],
            "kwb demo: --session-timeout-ms must be at least 1000 and --partitions at least 1",
        ),
    ],
)
def test_arguments_it_cannot_honour_are_refused_in_one_line(argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == message


def test_an_unknown_demo_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["takeover"])
    assert exit.value.code == 2
    assert "invalid choice: 'takeover' (choose from 'rebalance', 'failover')" in (
        capsys.readouterr().err
    )


def test_the_brokers_get_kafkas_session_unless_asked_for_a_shorter_one() -> None:
    assert failover_settings(None).broker_config == {
        "broker.session.timeout.ms": "9000",
        "broker.heartbeat.interval.ms": "2000",
    }
    assert failover_settings(3000).broker_config == {
        "broker.session.timeout.ms": "3000",
        "broker.heartbeat.interval.ms": "1000",
    }


def test_the_demo_stops_its_broker_and_deletes_its_data_even_when_the_app_fails(
    tmp_path: Path,
) -> None:
    """`kwb demo`'s promise: its data is deleted at the end, however the app ended."""
    home = tmp_path / "kwb-demo-home"
    (home / "cluster" / "node-0").mkdir(parents=True)
    stops: list[str] = []

    class Broker:
        bootstrap = "127.0.0.1:9"

        def stop(self) -> None:
            stops.append("stop")

    class FailingApp:
        def __init__(self, workbench: Workbench, settings: object, **options: object) -> None:
            self.workbench = workbench
            assert options == {"auto": True, "step_delay": 0.5, "theme_name": "dark"}

        def run(self) -> None:
            raise RuntimeError("the app failed")

    args = argparse.Namespace(auto=True, step_delay=0.5, theme="dark")
    with pytest.raises(RuntimeError, match="the app failed"):
        _play(FailingApp, FailoverSettings(), Broker(), home, args)  # type: ignore[arg-type]
    assert stops and not home.exists()
