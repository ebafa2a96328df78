"""`kwb` without a subcommand: open the workbench on its embedded broker or on a cluster.

kwb                                   embedded localbroker (9092 or the next free port)
kwb --brokers 3                       a local cluster of three localbroker nodes
kwb --bootstrap-server host:9092 [--command-config client.properties]
kwb --profile staging                 a profile from ~/.config/kafka-workbench/config.toml
kwb --bootstrap-server host:9092 --schema-registry http://host:8081
                                      records in Confluent's wire format decoded through it
                                      (or schema.registry.url in the profile's properties)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import importlib
import sys
import threading
from pathlib import Path

from .embedded import BrokerInUse, data_home, open_local
from .kafka.connection import SettingsError, load_connection
from .kafka.schema_registry.settings import URL as REGISTRY_URL
from .local_cluster import cluster_home, open_cluster
from .profiles import DEFAULT_THEME, LOCAL_PROFILE, Profile, load_preferences, load_profiles
from .workbench import Workbench


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kwb",
        description="The Kafka workbench.",
        epilog="Subcommands: topics, configs, produce, consume, groups,"
        " perf, consumer-perf, demo (kwb <subcommand> --help).",
    )
    p.add_argument(
        "--bootstrap-server",
        metavar="HOST:PORT",
        help="connect to this cluster instead of running the embedded broker",
    )
    p.add_argument(
        "--command-config",
        type=Path,
        metavar="FILE",
        help="client properties (security.protocol, sasl.*, ssl.* ...)",
    )
    p.add_argument(
        "--schema-registry",
        metavar="URL",
        help="the cluster's Schema Registry (schema.registry.url; basic.auth.user.info and"
        " basic.auth.credentials.source=USER_INFO from --command-config)",
    )
    p.add_argument("--profile", help="a named profile from config.toml (default: the last used)")
    p.add_argument(
        "--theme", help=f"dark, light, high-contrast, ... (the last used, else {DEFAULT_THEME})"
    )
    p.add_argument("--data-dir", type=Path, help="embedded broker data directory")
    p.add_argument("--host", default="127.0.0.1", help="address the embedded broker binds")
    p.add_argument("--port", type=int, help="embedded broker port (default 9092 or next free)")
    p.add_argument(
        "--brokers",
        type=_broker_count,
        default=1,
        metavar="N",
        help="run a local cluster of N localbroker nodes (ports chosen and kept in its data"
        " directory, by default cluster-N beside the embedded broker's)",
    )
    return p


def _broker_count(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"a cluster has at least one broker, not {count}")
    return count


def open_workbench(args: argparse.Namespace) -> Workbench:
    profiles = load_profiles()
    if args.profile is not None and args.profile not in profiles:
        raise SettingsError(
            f"no profile {args.profile!r} in the config file; profiles: "
            f"{', '.join(sorted(profiles))}"
        )
    remembered = load_preferences().profile
    if args.bootstrap_server or args.command_config or remembered not in profiles:
        remembered = None  # a cluster named on the command line, or a profile since removed
    profile = profiles[args.profile or remembered or LOCAL_PROFILE]
    if args.brokers > 1 and (args.bootstrap_server or args.command_config or args.port):
        raise SettingsError(
            "--brokers runs the workbench's own cluster: it does not go with"
            " --bootstrap-server, --command-config or --port"
        )
    if args.bootstrap_server or args.command_config or not profile.embedded:
        if args.bootstrap_server and profile.embedded:
            profile = Profile(args.bootstrap_server, args.bootstrap_server, "yellow")
        connection = (
            load_connection(args.bootstrap_server or profile.bootstrap_servers, args.command_config)
            if args.command_config
            else profile.connection(args.bootstrap_server)
        )
        if args.schema_registry:
            extra = {**connection.extra, REGISTRY_URL: args.schema_registry}
            connection = dataclasses.replace(connection, extra=extra)
        return Workbench(profile, connection)
    if args.brokers > 1:
        data_dir = args.data_dir or cluster_home(args.brokers)
        return Workbench.local(profile, asyncio.run(open_cluster(data_dir, args.brokers)))
    return Workbench.local(profile, open_local(args.data_dir or data_home(), args.host, args.port))


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    # The app's modules (Textual and the panes, most of a second) load on a thread while
    # this one waits for the broker, a process of its own starting on the other core.
    loading = threading.Thread(target=importlib.import_module, args=(f"{__package__}.app",))
    loading.start()
    try:
        workbench = open_workbench(args)
    except (SettingsError, OSError, BrokerInUse) as exc:
        sys.exit(f"kwb: cannot start: {exc}")
    finally:
        loading.join()
    from .app import WorkbenchApp

    app = WorkbenchApp(workbench, args.theme)
    # Everything loaded so far (modules, classes, the broker's state) lives as long as the
    # process: out of the collector's sight, full collections no longer stall the UI for
    # 150-250 ms while a fast tail fills memory (bench/tail.py: loop lag p99 199 -> 56 ms).
    gc.freeze()
    try:
        app.run()
    finally:
        app.workbench.close()  # the app may have switched clusters (and started a broker)
