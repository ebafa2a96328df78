"""The security metadata a broker keeps: SCRAM credentials (and ACLs).

Kafka keeps them in its metadata log; localbroker keeps them in `localbroker-security.json` in
the data directory, replaced atomically on every change and readable by its owner only (0600),
apart from the topic metadata so that the file holding credential hashes is the only one that
needs the tight mode. Credentials are salted hashes (see scram.py), never passwords.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..files import write_atomically
from ..protocol.names import ScramMechanism
from .scram import ScramCredential

SECURITY_FILE = "localbroker-security.json"
PRIVATE = 0o600


class SecurityStore:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / SECURITY_FILE
        self.scram: dict[str, dict[ScramMechanism, ScramCredential]] = {}
        self.acls: list[dict[str, Any]] = []
        if self.path.exists():
            self._load(json.loads(self.path.read_text()))

    def _load(self, document: dict[str, Any]) -> None:
        for name, mechanisms in document.get("scram_credentials", {}).items():
            self.scram[name] = {
                ScramMechanism.from_mechanism_name(mechanism): ScramCredential.from_json(
                    ScramMechanism.from_mechanism_name(mechanism), credential
                )
                for mechanism, credential in mechanisms.items()
            }
        self.acls = list(document.get("acls", []))

    def save(self) -> None:
        document = {
            "version": 1,
            "scram_credentials": {
                name: {m.mechanism_name: c.to_json() for m, c in sorted(mechanisms.items())}
                for name, mechanisms in sorted(self.scram.items())
            },
            "acls": self.acls,
        }
        write_atomically(self.path, json.dumps(document, indent=1).encode(), PRIVATE)
        self.path.chmod(PRIVATE)

    def credential(self, name: str, mechanism: ScramMechanism) -> ScramCredential | None:
        return self.scram.get(name, {}).get(mechanism)
