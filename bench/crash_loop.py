"""SIGKILL localbroker at random points, for as long as asked, and check the history.

    python bench/crash_loop.py [--cycles 200] [--seed 1] [--partitions 3]

The long run of tests/integration/test_crash_history.py: an idempotent producer, a plain
producer and a group consumer that commits keep working while `python -m localbroker` is
killed (SIGKILL) after a random number of further acknowledgements and restarted on the
same port. At the end the broker is killed once more and restarted, everything is read back,
and Jepsen's checks are run (tests/crash_history.py). Prints the figures and the violations
(none expected); exits 1 if there are any.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from brokers import BrokerProcess
from crash_history import CRASH_BROKER, Workload, check, wait_for_progress
from restarts import READ_TIMEOUT, create_topic

TOPIC = "history"


def run(home: Path, cycles: int, seed: int, partitions: int, segment_bytes: str) -> int:
    """The crash loop; returns how many violations the final check found."""
    rng = random.Random(seed)
    started = time.monotonic()
    data_dir, log_path = home / "data", home / "broker.log"
    process = BrokerProcess(data_dir, CRASH_BROKER, log_path=log_path).start()
    try:
        create_topic(process.bootstrap, TOPIC, partitions, {"segment.bytes": segment_bytes})
        workload = Workload(process.bootstrap, TOPIC, partitions).start()
        try:
            for cycle in range(1, cycles + 1):
                wait_for_progress(workload.history, rng.randint(20, 400), READ_TIMEOUT, process)
                process.kill()
                process = BrokerProcess(data_dir, CRASH_BROKER, process.port, log_path).start()
                if cycle % 10 == 0:
                    print(f"cycle {cycle}: {dict(workload.history.acked_by_kind())} acknowledged")
            wait_for_progress(workload.history, 100, READ_TIMEOUT, process)
        finally:
            unanswered = workload.stop(READ_TIMEOUT)
        process.kill()
        process = BrokerProcess(data_dir, CRASH_BROKER, process.port, log_path).start()
        history = workload.history
        found = check(process.bootstrap, TOPIC, partitions, history)
    finally:
        process.kill()
    kinds = history.acked_by_kind()
    print(f"seed {seed}: {cycles} SIGKILLs survived in {time.monotonic() - started:.0f} s")
    print(
        f"acknowledged: {kinds['idempotent']} idempotent, {kinds['plain']} plain;"
        f" consumed {len(history.observed)}; {len(history.commits)} commits acknowledged;"
        f" {unanswered} records never answered"
    )
    for violation in found:
        print(f"VIOLATION: {violation}")
    print(f"{len(found)} violations")
    return len(found) + unanswered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--segment-bytes", default="20000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        failures = run(Path(home), args.cycles, args.seed, args.partitions, args.segment_bytes)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
