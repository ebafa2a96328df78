"""SIGKILL at random points under producers and a consumer group, checked like Jepsen does.

An idempotent producer, a plain producer and a group consumer that commits keep working
while `python -m localbroker` is killed with SIGKILL and restarted on the same port, over
and over; each kill comes after a random number of further acknowledgements (seeded, so a
failing run can be repeated with its seed). At the end everything is read back and the
history checked (tests/crash_history.py). This is the bounded CI run; bench/crash_loop.py
runs the same for as many cycles as asked.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from crash_history import CRASH_BROKER, Workload, check, wait_for_progress
from restarts import (
    READ_TIMEOUT,
    Launch,
    create_topic,
    restart,
)

CYCLES = 20
PARTITIONS = 3
TOPIC = "history"
TOPIC_CONFIGS = {"segment.bytes": "20000"}  # many rolls, snapshots and recoveries
SEED = int(os.environ.get("KWB_CRASH_SEED", "12"))


def test_sigkill_at_random_points_loses_nothing_acknowledged(
    launch: Launch, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    process = launch(tmp_path / "data", CRASH_BROKER)
    create_topic(process.bootstrap, TOPIC, PARTITIONS, TOPIC_CONFIGS)
    workload = Workload(process.bootstrap, TOPIC, PARTITIONS).start()
    history = workload.history
    try:
        for _ in range(CYCLES):
            wait_for_progress(history, rng.randint(20, 400), READ_TIMEOUT, process)
            process.kill()
            process = restart(launch, process)
        wait_for_progress(history, 100, READ_TIMEOUT, process)
    finally:
        unanswered = workload.stop(READ_TIMEOUT)
    assert unanswered == 0, f"{unanswered} records never answered after the last restart"
    process.kill()  # what the clients were told last must survive a crash too
    process = restart(launch, process)
    found = check(process.bootstrap, TOPIC, PARTITIONS, history)
    assert found == [], f"seed {SEED}: {found}"
    assert len(history.commits) >= CYCLES, "the consumer group hardly committed"
    assert sum(1 for kind, *_ in history.acked if kind == "idempotent") > CYCLES
