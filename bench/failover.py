"""Failover times: a partition's leader killed under load, as clients see it.

    python bench/failover.py [--brokers localbroker,kafka] [--rounds 3] [--override KEY=VALUE ...]
    python bench/failover.py --bootstrap HOST:PORT,... --kill 'CMD {node}' --restart 'CMD {node}'

Runs tests/failover.py's scenario (an RF=3, min.insync.replicas=2 topic, an idempotent
acks=all producer at 200 records/s and a consumer group, librdkafka's or `--client`'s; the
leader killed with SIGKILL and restarted, `--rounds` times) and prints, per kill, the seconds
until a record produced after the kill was acknowledged and consumed, with what the clients
saw (errors, records lost, duplicates). Without `--bootstrap` it starts each of `--brokers`:
Apache Kafka's three-node KRaft reference cluster (tests/reference_cluster.py) and
`localbroker --cluster 3` (tests/launched.py, with the reference cluster's internal-topic
settings), one after the other (`--override` sets a server property on every node of both,
e.g. broker.session.timeout.ms; `--keep DIR` keeps each cluster's data and localbroker's node
logs, at `--log-level`, in DIR/<brokers>-N rather than a temporary directory); with it,
`--kill` and `--restart` are shell commands that kill node `{node}` and start it again
(returning once it serves).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from failover import FailoverReport, run_failover
from failover_clients import CLIENTS
from launched import launched_cluster
from peers import machine_load
from reference_cluster import CLUSTER_SETTINGS, running_cluster
from reference_kafka import ReferenceUnavailable, kafka_version
from rich.console import Console
from rich.table import Table


class CommandNodes:
    """Nodes of any cluster, killed and restarted by the shell commands given."""

    def __init__(self, kill: str, restart: str) -> None:
        self.kill_command = kill
        self.restart_command = restart

    def kill(self, node_id: int) -> None:
        subprocess.run(self.kill_command.format(node=node_id), shell=True, check=True)

    def restart(self, node_id: int) -> None:
        subprocess.run(self.restart_command.format(node=node_id), shell=True, check=True)


def show(title: str, report: FailoverReport) -> None:
    table = Table(title=f"{title} ({machine_load()})")
    for column in ("kill", "leader killed", "to acknowledged (s)", "to consumed (s)"):
        table.add_column(column, justify="right")
    for number, kill in enumerate(report.kills, 1):
        table.add_row(
            str(number), str(kill.leader), f"{kill.to_acknowledged:.2f}", f"{kill.to_consumed:.2f}"
        )
    if report.kills:
        table.add_row(
            "median",
            "",
            f"{statistics.median(k.to_acknowledged for k in report.kills):.2f}",
            f"{statistics.median(k.to_consumed for k in report.kills):.2f}",
        )
    console = Console()
    console.print(table)
    console.print(report.summary())


@contextlib.contextmanager
def cluster_directory(brokers: str, keep: Path | None) -> Iterator[str]:
    """A new directory for one cluster's run: under `keep` (kept), or temporary."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix=f"{brokers}-cluster-") as directory:
            yield directory
        return
    keep.mkdir(parents=True, exist_ok=True)
    yield tempfile.mkdtemp(prefix=f"{brokers}-", dir=keep)
    print(f"{brokers}: data and logs kept in {keep}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="leaders to kill, one at a time")
    parser.add_argument(
        "--brokers",
        default="localbroker,kafka",
        help="the clusters to start, in order: localbroker and/or kafka",
    )
    parser.add_argument("--bootstrap", help="a running cluster's bootstrap servers")
    parser.add_argument("--kill", help="shell command killing node {node} (with --bootstrap)")
    parser.add_argument("--restart", help="shell command restarting node {node}")
    parser.add_argument(
        "--override", action="append", default=[], metavar="KEY=VALUE", help="a server property"
    )
    parser.add_argument(
        "--client", default="confluent-kafka", choices=sorted(CLIENTS), help="the client library"
    )
    parser.add_argument("--keep", type=Path, help="keep data and logs under this directory")
    parser.add_argument("--log-level", default="WARNING", help="localbroker nodes' log level")
    args = parser.parse_args()
    client = CLIENTS[args.client]
    if args.bootstrap:
        if not (args.kill and args.restart):
            parser.error("--bootstrap needs --kill and --restart")
        nodes = CommandNodes(args.kill, args.restart)
        show(args.bootstrap, run_failover(args.bootstrap, nodes, args.rounds, client=client))
        return 0
    overrides = dict(item.split("=", 1) for item in args.override)
    for brokers in args.brokers.split(","):
        with cluster_directory(brokers, args.keep) as directory:
            if brokers == "localbroker":
                settings = {**CLUSTER_SETTINGS, **overrides}
                with launched_cluster(Path(directory), settings, args.log_level) as launched:
                    launched.wait_registered()
                    report = run_failover(launched.bootstrap, launched, args.rounds, client=client)
                show("localbroker --cluster 3", report)
                continue
            try:
                with running_cluster(Path(directory), overrides=overrides) as cluster:
                    report = run_failover(cluster.bootstrap, cluster, args.rounds, client=client)
            except ReferenceUnavailable as exc:
                print(f"cannot run Apache Kafka: {exc}", file=sys.stderr)
                return 1
            show(f"Apache Kafka {kafka_version()}, 3 KRaft nodes", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
