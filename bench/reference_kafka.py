"""Run Apache Kafka (the reference broker of the tests) by hand: `python bench/reference_kafka.py`.

It fetches the version pinned in tests/reference/pom.xml from Maven Central (once), starts a
single-node KRaft broker on a free loopback port in a temporary directory, prints its
bootstrap address and runs until Ctrl-C, then stops it and removes the directory. Point kcat,
`kwb --bootstrap-server` or Kafka's own tools at it to compare with localbroker.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from reference_kafka import ReferenceUnavailable, kafka_version, reference_kafka


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--override", action="append", default=[], metavar="KEY=VALUE", help="a server property"
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.override)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"starting Apache Kafka {kafka_version()} (the first run downloads it) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="apache-kafka-") as directory:
        try:
            with reference_kafka(Path(directory), overrides) as kafka:
                print(f"Apache Kafka {kafka_version()} on {kafka.bootstrap}; Ctrl-C stops it")
                print(f"its log: {kafka.log_file}", flush=True)
                stop.wait()
        except ReferenceUnavailable as exc:
            print(f"cannot run Apache Kafka: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
