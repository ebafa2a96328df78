"""The durable transaction state: one JSON file, replaced atomically (fsynced) on every change
before the change is answered or acted on.

Kafka keeps this state as records in `__transaction_state`; a file holding the latest state
of every transactional id gives the same guarantee here (a decided end survives a crash and
is finished at start-up) without a compaction to write. The file is small: one entry per
transactional id, its open transaction's partitions and staged offsets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import write_atomically

FILE_NAME = "transaction-state.json"
VERSION = 1


def read(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / FILE_NAME
    if not path.exists():
        return []
    document = json.loads(path.read_text())
    if document.get("version") != VERSION:
        raise ValueError(f"{path}: unknown version {document.get('version')}")
    transactions: list[dict[str, Any]] = document["transactions"]
    return transactions


def write(data_dir: Path, transactions: list[dict[str, Any]]) -> None:
    document = {"version": VERSION, "transactions": transactions}
    write_atomically(data_dir / FILE_NAME, json.dumps(document).encode())
