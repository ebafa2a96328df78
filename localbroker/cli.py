"""`localbroker`: run the broker in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .config.properties import load_properties
from .errors import KafkaError
from .files import DataDirError, journal_fsyncs_if_asked

if TYPE_CHECKING:
    from .broker import LocalBroker
    from .schema_registry.service import SchemaRegistry


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="localbroker",
        description="A single-node Kafka broker that stores records on disk.",
    )
    parser.add_argument(
        "--host", default=None, help="address to bind (default 127.0.0.1, or from listeners)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port to bind, 0 for any free port (default 9092)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where logs live (Kafka's log.dirs; default ./localbroker-data)",
    )
    parser.add_argument("--node-id", type=int, default=None, help="node.id (default 0)")
    parser.add_argument(
        "--config", metavar="server.properties", type=Path, help="a Kafka server.properties file"
    )
    parser.add_argument(
        "--override",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="set a server property, overriding the file (repeatable)",
    )
    parser.add_argument(
        "--schema-registry",
        metavar="PORT",
        type=int,
        default=None,
        help="also serve a Confluent-compatible Schema Registry on PORT (0: any free port),"
        " storing its schemas in the _schemas topic",
    )
    parser.add_argument(
        "--schema-registry-user",
        metavar="USER:PASSWORD",
        default=None,
        help="answer only Schema Registry requests with these HTTP basic credentials"
        " (Confluent's authentication.method=BASIC; 401 otherwise)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    parser.add_argument(
        "--cluster",
        metavar="N",
        type=int,
        default=None,
        help="run a cluster of N KRaft nodes (broker and controller each) as N processes,"
        " with data in DATA_DIR/node-N; --override settings apply to every node",
    )
    return parser


def run_cluster(args: argparse.Namespace) -> int:
    """`--cluster N`: the launcher (cluster/launcher.py), in the foreground."""
    from .cluster.launcher import run_cluster as launch

    if args.cluster < 1:
        sys.exit("localbroker: --cluster needs a number of nodes, 1 or more")
    if args.config is not None or args.port is not None or args.node_id is not None:
        sys.exit("localbroker: --cluster chooses each node's ports and node.id itself")
    extra = [f"--override={item}" for item in args.override]
    extra += ["--log-level", args.log_level]
    return launch(args.cluster, Path(args.data_dir or "./localbroker-data"), extra)


def properties_from_args(args: argparse.Namespace) -> dict[str, str]:
    properties: dict[str, str] = {}
    if args.config is not None:
        properties.update(load_properties(args.config))
    for item in args.override:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"localbroker: --override needs KEY=VALUE, got {item!r}")
        properties[key.strip()] = value.strip()
    if args.data_dir is not None:
        properties["log.dirs"] = args.data_dir
    properties.setdefault("log.dirs", "./localbroker-data")
    if args.node_id is not None:
        properties["node.id"] = str(args.node_id)
    return properties


async def start_registry(
    broker: LocalBroker, host: str | None, port: int, user_info: str | None = None
) -> SchemaRegistry:
    """The Schema Registry beside `broker`, storing in its `_schemas` topic, answering only
    `user_info`'s requests when given; its modules (aiohttp, the formats' parsers) are
    imported only when it is asked for."""
    from aiokafka.errors import KafkaError as ClientError

    from .schema_registry.errors import RegistryError
    from .schema_registry.rest import BasicLogin
    from .schema_registry.service import serve_beside

    try:
        login = BasicLogin.parse(user_info) if user_info is not None else None
    except ValueError as exc:
        raise SystemExit(f"localbroker: --schema-registry-user: {exc}") from None
    try:
        registry = await serve_beside(broker, host or "127.0.0.1", port, login)
    except (RegistryError, ClientError, OSError) as exc:
        raise SystemExit(f"localbroker: the schema registry cannot start: {exc}") from None
    print(f"schema registry listening on {registry.url}", flush=True)
    return registry


async def serve(
    properties: dict[str, str],
    host: str | None,
    port: int | None,
    registry_port: int | None = None,
    registry_user: str | None = None,
) -> None:
    from .broker import LocalBroker

    broker = LocalBroker(config=properties, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await broker.start()
    host_bound, port_bound = broker.bound
    print(
        f"localbroker listening on {host_bound}:{port_bound}"
        f" (advertised {broker.bootstrap}, data in {broker.config.data_dir})",
        flush=True,
    )
    registry: SchemaRegistry | None = None
    try:
        if registry_port is not None:
            registry = await start_registry(broker, host, registry_port, registry_user)
        await stop.wait()
    finally:
        if registry is not None:
            await registry.stop()
        await broker.stop()


def run(coroutine: object) -> None:
    """Run on uvloop when it is installed (a faster event loop), else on asyncio's own."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coroutine)  # type: ignore[arg-type]
        return
    uvloop.run(coroutine)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.cluster is not None:
        sys.exit(run_cluster(args))
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        properties = properties_from_args(args)
    except OSError as exc:
        sys.exit(f"localbroker: cannot read {args.config}: {exc.strerror}")
    if args.schema_registry_user is not None and args.schema_registry is None:
        sys.exit("localbroker: --schema-registry-user needs --schema-registry PORT")
    journal_fsyncs_if_asked()
    try:
        run(
            serve(properties, args.host, args.port, args.schema_registry, args.schema_registry_user)
        )
    except (DataDirError, KafkaError) as exc:
        sys.exit(f"localbroker: {exc}")
    except OSError as exc:
        sys.exit(f"localbroker: cannot start: {exc}")
    with contextlib.suppress(Exception):
        logging.shutdown()
