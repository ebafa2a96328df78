"""kwb demo rebalance: open the workbench on a fresh embedded broker and play the rebalance
story (space or enter for the next step, or --auto)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from ..broker_process import ChildBroker
from ..kafka.connection import from_properties
from ..kafka.demo_group import DemoSettings
from ..profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from ..themes import DEFAULT_THEME
from ..workbench import Workbench

DEMOS = ("rebalance",)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kwb demo",
        description="A scripted demo for a talk or a recording, on a fresh embedded broker"
        " (its data is deleted at the end).",
    )
    p.add_argument("demo", choices=DEMOS, help="rebalance: consumer groups, offsets, rebalances")
    p.add_argument("--auto", action="store_true", help="advance by itself and quit at the end")
    p.add_argument(
        "--step-delay",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="with --auto: seconds each step stays on screen (default 5)",
    )
    p.add_argument(
        "--session-timeout-ms",
        type=int,
        default=6000,
        help="the consumers' session.timeout.ms: how long a killed consumer goes unnoticed",
    )
    p.add_argument("--partitions", type=int, default=6, help="partitions of the demo topic")
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="the demo broker's port, to point other clients at it (default: any free port)",
    )
    p.add_argument("--theme", default=DEFAULT_THEME, help="dark, light, high-contrast, ...")
    return p


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    if args.session_timeout_ms < 1000 or args.partitions < 1 or args.step_delay < 0:
        sys.exit(
            "kwb demo: --session-timeout-ms must be at least 1000, --partitions at least 1"
            " and --step-delay not negative"
        )
    if not 0 <= args.port <= 65535:
        sys.exit("kwb demo: --port must be between 1 and 65535 (0 for any free port)")
    settings = DemoSettings(
        partitions=args.partitions, consumers=0, session_timeout_ms=args.session_timeout_ms
    )
    home = Path(tempfile.mkdtemp(prefix="kwb-demo-"))
    config = {"group.min.session.timeout.ms": str(min(args.session_timeout_ms, 6000))}
    try:
        embedded = ChildBroker(home / "broker", port=args.port, config=config).start()
    except OSError as exc:
        shutil.rmtree(home, ignore_errors=True)
        hint = "; choose another --port" if args.port else ""
        sys.exit(f"kwb demo: cannot start the embedded broker: {exc}{hint}")
    from ..demo import RebalanceDemoApp

    workbench = Workbench(
        Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE]),
        from_properties(embedded.bootstrap, {}),
        embedded,
    )
    app = RebalanceDemoApp(
        workbench, settings, auto=args.auto, step_delay=args.step_delay, theme_name=args.theme
    )
    try:
        app.run()
    finally:
        app.workbench.close()
        embedded.stop()
        shutil.rmtree(home, ignore_errors=True)
