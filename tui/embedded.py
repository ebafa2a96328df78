"""`kwb`: the workbench entry point.

Until the TUI lands, `kwb` starts the embedded localbroker (data under the user's XDG data
directory, port 9092 or the next free one) and says where it listens; Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from localbroker import LocalBroker
from localbroker.cli import run

FIRST_PORT = 9092
PORTS_TO_TRY = 100


def data_home() -> Path:
    """Where the embedded broker keeps its data ($XDG_DATA_HOME/kafka-workbench)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kafka-workbench" / "localbroker"


def free_port(host: str, first: int = FIRST_PORT) -> int:
    """`first` or the next port after it that nothing listens on."""
    for port in range(first, first + PORTS_TO_TRY):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise SystemExit(f"kwb: no free port in {first}..{first + PORTS_TO_TRY - 1} on {host}")


async def serve_embedded(data_dir: Path, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with LocalBroker(data_dir, host=host, port=port) as broker:
        print(
            f"kwb: embedded localbroker listening on {broker.bootstrap} (data in {data_dir})",
            flush=True,
        )
        print(f"kwb: try  kcat -b {broker.bootstrap} -L   — Ctrl-C stops the broker", flush=True)
        await stop.wait()
    print("kwb: broker stopped cleanly", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kwb", description="The Kafka workbench.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="embedded broker data (default $XDG_DATA_HOME/kafka-workbench)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address the broker binds")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default 9092 or the next free one)"
    )
    args = parser.parse_args(argv)
    data_dir = args.data_dir or data_home()
    port = args.port if args.port is not None else free_port(args.host)
    try:
        run(serve_embedded(data_dir, args.host, port))
    except Exception as exc:  # start-up failures get one readable line, not a traceback
        sys.exit(f"kwb: cannot start the embedded broker: {exc}")
