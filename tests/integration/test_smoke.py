"""The broker starts, answers kcat and stops (a first check that the test harness works)."""

import subprocess


def test_kcat_round_trip(broker):
    produce = subprocess.run(
        ["kcat", "-b", broker.bootstrap, "-P", "-t", "smoke", "-K:"],
        input=b"k1:v1\nk2:v2\n",
        capture_output=True,
        timeout=30,
    )
    assert produce.returncode == 0, produce.stderr
    consume = subprocess.run(
        ["kcat", "-b", broker.bootstrap, "-C", "-t", "smoke", "-e", "-f", "%k=%s@%o\\n"],
        capture_output=True,
        timeout=30,
    )
    assert consume.stdout.decode().splitlines() == ["k1=v1@0", "k2=v2@1"]
