"""KafkaJS (Node.js) negotiates with localbroker and produces, consumes in a group and commits.

KafkaJS picks request versions from our ApiVersions answer; this runs tests/js/roundtrip.js
(installed by .ci/run with `npm ci`), so a version KafkaJS cannot use fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent.parent / "js" / "roundtrip.js"
NODE = shutil.which("node")
INSTALLED = (SCRIPT.parent / "node_modules" / "kafkajs").is_dir()

# CI sets KWB_REQUIRE_NODE=1 so a missing Node.js fails there instead of skipping.
pytestmark = pytest.mark.skipif(
    (NODE is None or not INSTALLED) and not os.environ.get("KWB_REQUIRE_NODE"),
    reason="needs node and `npm ci --prefix tests/js` (.ci/run does both)",
)


def test_kafkajs_produces_consumes_in_a_group_and_commits(broker) -> None:
    count = 30
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(SCRIPT), broker.bootstrap, "js-topic", "js-group", str(count)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    seen = result["seen"]
    assert sorted(int(m["n"]) for m in seen) == list(range(count))
    assert all(m["key"] == f"k{m['n']}" and m["value"] == f"v{m['n']}" for m in seen)
    per_partition: dict[int, list[int]] = {}
    for message in seen:
        per_partition.setdefault(message["partition"], []).append(int(message["offset"]))
    assert all(offsets == list(range(len(offsets))) for offsets in per_partition.values())
    committed = {
        int(p["partition"]): int(p["offset"])
        for topic in result["offsets"]
        for p in topic["partitions"]
    }
    assert committed == {p: len(offsets) for p, offsets in per_partition.items()}
    assert {"groupId": "js-group", "protocolType": "consumer"} in result["groups"]
