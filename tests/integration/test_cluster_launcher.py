"""`localbroker --cluster 3`: three node processes, seen by real clients; the active
controller killed with -9, another takes over, the dead broker is fenced once its session
expires and its partitions are led by ISR members; the launcher stops every node with it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from launched import Launched, agreed, create
from waiting import wait_until


def test_the_cluster_survives_its_controller_killed_and_restarts(
    launcher: Callable[[], Launched],
) -> None:
    first = launcher()
    addresses, pids = first.addresses, first.pids
    controller, _ = wait_until(lambda: agreed(addresses, {0, 1, 2}), "three brokers")
    create(addresses, "before", 3)
    _, led = wait_until(lambda: agreed(addresses, {0, 1, 2}, "before"), "the topic everywhere")
    assert all(sorted(isr) == [0, 1, 2] for _, isr in led.values())

    os.kill(pids[controller], signal.SIGKILL)
    rest = [a for node, a in enumerate(addresses) if node != controller]
    alive = {0, 1, 2} - {controller}
    new_controller, after = wait_until(
        lambda: agreed(rest, alive, "before"), "the killed controller fenced", timeout=40
    )
    assert new_controller in alive
    for leader, isr in after.values():
        assert leader in alive and controller not in isr

    create(rest, "after", 2)
    wait_until(lambda: agreed(rest, alive, "after"), "a topic created afterwards")

    first.process.terminate()
    assert first.process.wait(30) == 0

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    assert all(gone(pid) for pid in pids)

    again = launcher()  # the same data directory: the same ports, brokers and topics
    assert again.addresses == addresses
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "after"), "the cluster back", timeout=40)
    wait_until(lambda: agreed(addresses, {0, 1, 2}, "before"), "the first topic back")
