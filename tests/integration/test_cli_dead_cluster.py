"""Every `kwb` command against a cluster that is not there: one line on stderr, a non-zero
exit, never a traceback (issue 14, point 4's audit; the panes' side is
tests/tui/test_failing_cluster.py). Each command of tui.cli.COMMANDS that talks to a cluster
has a line here (the demo runs its own broker); a new command fails
`test_every_command_is_audited` until it has one."""

from __future__ import annotations

import socket
import subprocess

import pytest
from terminal import KWB

from tui.cli import COMMANDS

COMMAND_LINES = {
    "topics": [
        ["--list"],
        ["--describe", "--topic", "t"],
        ["--create", "--topic", "t"],
        ["--alter", "--topic", "t", "--partitions", "2"],
        ["--delete", "--topic", "t"],
    ],
    "configs": [
        ["--entity-type", "topics", "--entity-name", "t", "--describe"],
        ["--entity-type", "topics", "--entity-name", "t", "--alter", "--add-config", "a=1"],
    ],
    "produce": [["--topic", "t"]],
    "consume": [["--topic", "t", "--max-messages", "1", "--timeout-ms", "3000"]],
    "groups": [
        ["--list"],
        ["--group", "g", "--describe"],
        ["--group", "g", "--reset-offsets", "--to-earliest", "--all-topics", "--execute"],
        ["--group", "g", "--delete"],
    ],
    "consumer-perf": [["--topic", "t", "--messages", "10"]],
    "acls": [
        ["--list"],
        ["--add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "t"],
        [
            "--remove",
            "--allow-principal",
            "User:alice",
            "--operation",
            "Read",
            "--topic",
            "t",
            "--force",
        ],
    ],
    "transactions": [
        ["list"],
        ["describe", "--transactional-id", "tx"],
        ["describe-producers", "--topic", "t", "--partition", "0"],
        ["abort", "--topic", "t", "--partition", "0", "--start-offset", "0"],
        ["find-hanging", "--broker-id", "1"],
    ],
}
RUNS_ITS_OWN_BROKER = {"demo"}
BOOTSTRAP_FIRST = {"transactions"}
"""kafka-transactions.sh takes --bootstrap-server before its subcommand, and so does kwb."""


def closed_port() -> int:
    """A port nothing listens on (bound and released: the OS will not hand it out again soon)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_command_is_audited() -> None:
    assert set(COMMANDS) - RUNS_ITS_OWN_BROKER == set(COMMAND_LINES) | {"perf"}


@pytest.mark.parametrize(
    "argv",
    [[command, *line] for command, lines in COMMAND_LINES.items() for line in lines],
    ids=lambda argv: " ".join(argv[:3]),
)
def test_a_command_against_no_cluster_says_so_in_one_line(argv: list[str]) -> None:
    address = f"127.0.0.1:{closed_port()}"
    bootstrap = ["--bootstrap-server", address]
    argv = [argv[0], *bootstrap, *argv[1:]] if argv[0] in BOOTSTRAP_FIRST else [*argv, *bootstrap]
    done = subprocess.run(
        [KWB, *argv],
        input="a record\n", capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert address in done.stderr, done.stderr


def test_perf_against_no_cluster_says_so_in_one_line() -> None:
    """`kwb perf` takes the address in Kafka's way, among the producer's properties."""
    address = f"127.0.0.1:{closed_port()}"
    done = subprocess.run(
        [KWB, "perf", "--topic", "t", "--num-records", "10", "--throughput", "-1",
         "--record-size", "10", "--producer-props", f"bootstrap.servers={address}"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
