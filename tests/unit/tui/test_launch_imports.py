"""What `kwb` loads before it starts its broker: the broker is a child process that starts on
the other core while the workbench loads Textual and its panes, so everything loaded before
the child is started delays both (issue 16: 0.45 s of Textual, aiokafka and the Kafka
protocol's modules came first)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("textual", "aiokafka", "kio", "localbroker.protocol", "localbroker.records")


def test_starting_the_broker_loads_none_of_the_heavy_modules() -> None:
    """tui.launch and what open_workbench calls before the child is started. Mutation check:
    with tui/broker_process.py importing localbroker.public at the top again, this fails."""
    probe = (
        "import sys, tui.launch, tui.embedded\n"
        "from tui.profiles import load_preferences, load_profiles\n"
        "load_profiles(); load_preferences()\n"
        f"print(' '.join(m for m in {HEAVY!r} if any(n == m or n.startswith(m + '.')"
        " for n in sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert loaded.stdout.split() == []
