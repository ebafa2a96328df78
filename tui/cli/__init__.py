"""`kwb`: the workbench, and Kafka's command-line tools without a JVM.

kwb                      the workbench on its embedded broker
kwb topics ...           like kafka-topics.sh
kwb configs ...          like kafka-configs.sh
kwb acls ...             like kafka-acls.sh
kwb transactions ...     like kafka-transactions.sh
kwb produce ...          like kafka-console-producer.sh
kwb consume ...          like kafka-console-consumer.sh
kwb groups ...           like kafka-consumer-groups.sh
kwb perf ...             like kafka-producer-perf-test.sh
kwb consumer-perf ...    like kafka-consumer-perf-test.sh
kwb demo rebalance       a scripted consumer-group demo in the workbench
kwb demo failover        a partition leader killed on a local 3-broker cluster, nothing lost
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "topics": "topics",
    "configs": "configs",
    "acls": "acls",
    "transactions": "transactions",
    "produce": "produce",
    "consume": "consume",
    "groups": "groups",
    "perf": "perf",
    "consumer-perf": "consumer_perf",
    "demo": "demo",
}


def main(argv: list[str] | None = None) -> None:
    try:
        _dispatch(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:  # Ctrl-C before a command installed its own handling
        raise SystemExit(130) from None


def _dispatch(args: list[str]) -> None:
    if args and args[0] in COMMANDS:
        module = importlib.import_module(f"{__name__}.{COMMANDS[args[0]]}")
        module.main(args[1:])
        return
    if args and args[0] in ("-h", "--help"):
        from ..launch import parser

        print(__doc__)
        print(parser().format_help())
        return
    from ..launch import main as launch_main

    launch_main(args)
