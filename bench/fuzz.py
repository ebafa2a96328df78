"""Long fuzzing runs: the CI test's fuzzer (tests/fuzzing.py) for as long as you like.

    python bench/fuzz.py [--seconds 600] [--seed 1] [--round 10000]

Starts localbroker as a process (1,024 descriptors, as in CI), writes a reference topic,
then fuzzes every advertised API in rounds until the time is up, with a fresh seed per
round. After each round the broker must be alive; at the end the reference topic must read
back byte for byte and the broker's log must hold no ERROR line. Prints inputs per second
and what became of them, and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import fuzzing
from brokers import localbroker_command
from confluent_kafka import Producer

START_TIMEOUT = 30.0


def start(data_dir: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    process = subprocess.Popen(
        localbroker_command(data_dir, 0),
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        preexec_fn=limit,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    for line in process.stdout:
        match = re.search(r"listening on [^:]+:(\d+)", line)
        if match:
            return process, f"127.0.0.1:{match.group(1)}"
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError("localbroker did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--round", type=int, default=10_000, help="inputs per round")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="lb-fuzz-"))
    log = directory / "broker.log"
    process, bootstrap = start(directory / "data", log)
    try:
        producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
        for i in range(100):
            producer.produce("reference", f"ref-{i}".encode())
        assert producer.flush(30) == 0
        del producer  # it would reconnect (and complain) once the broker is stopped
        segments = sorted((directory / "data" / "reference-0").glob("*.log"))
        before = [segment.read_bytes() for segment in segments]

        def alive() -> None:
            if process.poll() is not None:
                raise RuntimeError(f"the broker exited with {process.returncode}")

        handled: Counter[str] = Counter()
        problems: list[str] = []
        started = time.monotonic()
        seed = args.seed
        while time.monotonic() - started < args.seconds:
            outcome = fuzzing.run(
                fuzzing.fuzz(bootstrap, fuzzing.Inputs(seed), args.round, alive=alive)
            )
            handled += outcome.handled
            problems += outcome.problems
            elapsed = time.monotonic() - started
            print(
                f"seed {seed}: {handled.total():,} inputs in {elapsed:.0f} s"
                f" ({handled.total() / elapsed:,.0f}/s) {dict(handled)}",
                flush=True,
            )
            seed += 1
        alive()
        intact = [segment.read_bytes() for segment in segments] == before
        errors = [line for line in log.read_text().splitlines() if " ERROR " in line]
        print(f"reference segment intact: {intact}; ERROR lines: {len(errors)}")
        for line in errors[:10]:
            print("  ", line)
        for problem in problems[:10]:
            print("  problem:", problem)
        return 0 if intact and not errors and not problems else 1
    finally:
        process.kill()
        process.wait()
        if log.exists():
            shutil.copy(log, "/tmp/lb-fuzz-broker.log")
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
