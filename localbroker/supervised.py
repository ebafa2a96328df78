"""`python -m localbroker.supervised`: the broker as the child of a supervising process.

The workbench runs its broker in a process of its own (so the broker and the screen do not
share one interpreter lock) and still wants what it had in-process: the group coordinator's
events for its rebalance demo, and the broker's log for its Logs view. This entry point gives
them over pipes, pushed as they happen:

- stdout: JSON lines. First `{"ready": "host:port", "pid": N}` once the broker accepts
  connections (with `--schema-registry PORT` also `"schema_registry": "http://host:port"`,
  once the registry has replayed `_schemas` and listens too), or `{"in_use": message}` when
  another broker holds the data directory (exit status IN_USE_STATUS), or `{"failed":
  message}` for any other reason not to start; then one
  `{"group": {...}}` per GroupEvent (groups/events.py's `event_to_json`).
- stderr: the broker's log lines, as `localbroker` writes them.
- stdin: the lifeline. The parent never writes to it; at EOF (the parent is gone, however it
  died) the broker stops cleanly. Where Linux's PR_SET_PDEATHSIG is there (lifeline.py), the
  kernel's SIGTERM usually comes first; the pipe covers where it is not.

SIGTERM and SIGINT stop it cleanly, as they stop `localbroker`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from typing import TYPE_CHECKING, Any

from .cli import run
from .errors import KafkaError
from .files import DataDirError
from .groups.events import GroupEvent, event_to_json
from .lifeline import die_with_parent
from .log.manager import DataDirInUse

if TYPE_CHECKING:
    from .schema_registry.service import SchemaRegistry

IN_USE_STATUS = 3
"""Exit status when another broker holds the data directory (the parent joins that one)."""
_LIFELINE_FD = 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m localbroker.supervised",
        description="localbroker as a supervised child: events on stdout, log on stderr,"
        " stops at EOF on stdin.",
    )
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="0 for any free port")
    parser.add_argument("--parent", type=int, help="the parent's pid: exit if it is gone")
    parser.add_argument(
        "--override", metavar="KEY=VALUE", action="append", default=[], help="a server property"
    )
    parser.add_argument(
        "--schema-registry",
        type=int,
        metavar="PORT",
        help="also serve a Schema Registry on this port (0: any free one)",
    )
    return parser


def say(message: dict[str, Any]) -> None:
    """One JSON line to the parent, at once (it is waiting for it)."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _group_event(event: GroupEvent) -> None:
    say({"group": event_to_json(event)})


async def serve(
    data_dir: str,
    host: str,
    port: int,
    config: dict[str, str],
    registry_port: int | None = None,
) -> None:
    from .broker import LocalBroker

    broker = LocalBroker(data_dir, host=host, port=port, config=config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def lifeline() -> None:
        if not os.read(_LIFELINE_FD, 4096):  # EOF: the parent is gone
            loop.remove_reader(_LIFELINE_FD)
            stop.set()

    loop.add_reader(_LIFELINE_FD, lifeline)
    await broker.start()
    assert broker.state is not None
    unsubscribe = broker.state.subscribe_groups(_group_event)
    registry: SchemaRegistry | None = None
    try:
        ready: dict[str, Any] = {"ready": broker.bootstrap, "pid": os.getpid()}
        if registry_port is not None:  # its modules (protoc's among them) only when asked
            from .schema_registry.service import serve_beside

            registry = await serve_beside(broker, host, registry_port)
            ready["schema_registry"] = registry.url
        say(ready)
        await stop.wait()
    finally:
        unsubscribe()
        if registry is not None:
            await registry.stop()
        await broker.stop()


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    die_with_parent(signal.SIGTERM, args.parent)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = dict(item.partition("=")[::2] for item in args.override)
    try:
        run(serve(args.data_dir, args.host, args.port, config, args.schema_registry))
    except DataDirInUse as exc:
        say({"in_use": str(exc)})
        sys.exit(IN_USE_STATUS)
    except (DataDirError, KafkaError, OSError) as exc:
        say({"failed": str(exc)})
        sys.exit(1)


if __name__ == "__main__":
    main()
