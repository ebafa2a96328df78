"""kwb demo rebalance | failover: open the workbench on a fresh broker (rebalance) or a fresh
local three-broker cluster (failover) and play the demo's story (space or enter for the next
step, or --auto). The demo's data is deleted at the end."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..broker_process import ChildBroker
from ..embedded import OwnBroker
from ..kafka.connection import from_properties
from ..kafka.demo_group import DemoSettings
from ..kafka.failover_demo import FailoverSettings
from ..local_cluster import ClusterFailed, LocalCluster
from ..profiles import DEFAULT_COLOURS, LOCAL_PROFILE, Profile
from ..themes import DEFAULT_THEME
from ..workbench import Workbench

if TYPE_CHECKING:  # the app (Textual) is imported once the demo's broker is up
    from ..demo_app import DemoApp

Settings = TypeVar("Settings")

DEMOS = ("rebalance", "failover")
CLUSTER_BROKERS = 3
MIN_BROKER_SESSION_MS = 1000
REBALANCE_ONLY = ("session_timeout_ms", "partitions", "port")
FAILOVER_ONLY = ("broker_session_timeout_ms",)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kwb demo",
        description="A scripted demo for a talk or a recording, on a fresh embedded broker"
        " (rebalance) or a fresh local cluster of three brokers (failover); its data is"
        " deleted at the end.",
    )
    p.add_argument(
        "demo",
        choices=DEMOS,
        help="rebalance: consumer groups, offsets, rebalances; failover: a partition leader"
        " killed under an acks=all producer and a consumer, no acknowledged record lost",
    )
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
        default=None,
        help="rebalance: the consumers' session.timeout.ms, how long a killed consumer goes"
        " unnoticed (default 6000)",
    )
    p.add_argument(
        "--partitions", type=int, default=None, help="rebalance: partitions of the demo topic"
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="rebalance: the demo broker's port, to point other clients at it (default: any"
        " free port)",
    )
    p.add_argument(
        "--broker-session-timeout-ms",
        type=int,
        default=None,
        help="failover: the brokers' broker.session.timeout.ms, how long the controller waits"
        " for a killed broker's heartbeat before it fences it and elects new leaders (default"
        " 9000, Kafka's)",
    )
    p.add_argument("--theme", default=DEFAULT_THEME, help="dark, light, high-contrast, ...")
    return p


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    if args.step_delay < 0:
        sys.exit("kwb demo: --step-delay must not be negative")
    other = FAILOVER_ONLY if args.demo == "rebalance" else REBALANCE_ONLY
    for name in other:
        if getattr(args, name) is not None:
            option = "--" + name.replace("_", "-")
            sys.exit(f"kwb demo: {option} is not an option of the {args.demo} demo")
    if args.demo == "failover":
        failover(args)
    else:
        rebalance(args)


def rebalance(args: argparse.Namespace) -> None:
    session_timeout_ms = 6000 if args.session_timeout_ms is None else args.session_timeout_ms
    partitions = 6 if args.partitions is None else args.partitions
    port = 0 if args.port is None else args.port
    if session_timeout_ms < 1000 or partitions < 1:
        sys.exit("kwb demo: --session-timeout-ms must be at least 1000 and --partitions at least 1")
    if not 0 <= port <= 65535:
        sys.exit("kwb demo: --port must be between 1 and 65535 (0 for any free port)")
    settings = DemoSettings(
        partitions=partitions, consumers=0, session_timeout_ms=session_timeout_ms
    )
    home = Path(tempfile.mkdtemp(prefix="kwb-demo-"))
    config = {"group.min.session.timeout.ms": str(min(session_timeout_ms, 6000))}
    try:
        embedded = ChildBroker(home / "broker", port=port, config=config).start()
    except OSError as exc:
        shutil.rmtree(home, ignore_errors=True)
        hint = "; choose another --port" if port else ""
        sys.exit(f"kwb demo: cannot start the embedded broker: {exc}{hint}")
    from ..demo import RebalanceDemoApp

    _play(RebalanceDemoApp, settings, embedded, home, args)


def failover_settings(broker_session_timeout_ms: int | None) -> FailoverSettings:
    """The demo's settings: Kafka's broker.session.timeout.ms unless asked for a shorter one,
    with heartbeats at most a third of it apart (Kafka's default 2000 ms when it allows)."""
    session = 9000 if broker_session_timeout_ms is None else broker_session_timeout_ms
    if session < MIN_BROKER_SESSION_MS:
        sys.exit(
            f"kwb demo: --broker-session-timeout-ms must be at least {MIN_BROKER_SESSION_MS}"
            " (the brokers heartbeat every third of it)"
        )
    return FailoverSettings(
        broker_session_timeout_ms=session, broker_heartbeat_interval_ms=min(2000, session // 3)
    )


def failover(args: argparse.Namespace) -> None:
    settings = failover_settings(args.broker_session_timeout_ms)
    home = Path(tempfile.mkdtemp(prefix="kwb-demo-"))
    print(f"kwb demo: starting a local cluster of {CLUSTER_BROKERS} brokers…", file=sys.stderr)
    try:
        cluster = asyncio.run(
            LocalCluster.start(home / "cluster", CLUSTER_BROKERS, settings.broker_config)
        )
    except ClusterFailed as exc:
        shutil.rmtree(home, ignore_errors=True)
        sys.exit(f"kwb demo: cannot start the local cluster: {exc}")
    from ..failover import FailoverDemoApp

    _play(FailoverDemoApp, settings, cluster, home, args)


def _play(
    demo_app: type[DemoApp[Any, Settings]],
    settings: Settings,
    broker: OwnBroker,
    home: Path,
    args: argparse.Namespace,
) -> None:
    """Run the demo's app on the workbench of its own broker or cluster; whatever happens,
    stop the broker and delete its data."""
    workbench = Workbench(
        Profile(LOCAL_PROFILE, None, DEFAULT_COLOURS[LOCAL_PROFILE]),
        from_properties(broker.bootstrap, {}),
        broker,
    )
    app = demo_app(
        workbench, settings, auto=args.auto, step_delay=args.step_delay, theme_name=args.theme
    )
    try:
        app.run()
    finally:
        app.workbench.close()
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)
