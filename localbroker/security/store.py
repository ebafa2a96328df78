"""The security metadata a broker keeps: SCRAM credentials and ACLs.

Kafka keeps them in its metadata log; localbroker keeps them in `localbroker-security.json` in
the data directory, replaced atomically on every change and readable by its owner only (0600),
apart from the topic metadata so that the file holding credential hashes is the only one that
needs the tight mode. Credentials are salted hashes (see scram.py), never passwords.

As with the topic metadata (metadata/store.py), a change is written before it is visible: a
write that fails (a full disk) answers KAFKA_STORAGE_ERROR and changes nothing, so no user
logs in and no ACL applies that would be gone at the next start. A file that cannot be read
stops the broker with one line naming it and what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..files import DataDirError, read_json, write_atomically
from ..log.dir_status import LogDirStatus
from ..protocol.names import ScramMechanism
from .acl_binding import AclBinding
from .scram import ScramCredential

SECURITY_FILE = "localbroker-security.json"
PRIVATE = 0o600

Credentials = Mapping[str, Mapping[ScramMechanism, ScramCredential]]
"""Each user's SCRAM credential per mechanism."""


class SecurityStore:
    def __init__(self, data_dir: Path, status: LogDirStatus) -> None:
        self.path = data_dir / SECURITY_FILE
        self._status = status
        self.scram: Credentials = {}
        self.acls: tuple[AclBinding, ...] = ()
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            document = read_json(self.path)
            scram = {
                name: _credentials(mechanisms)
                for name, mechanisms in document.get("scram_credentials", {}).items()
            }
            acls = tuple(AclBinding.from_json(acl) for acl in document.get("acls", []))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self._unreadable(f"no {exc}" if isinstance(exc, KeyError) else str(exc)) from None
        self.scram, self.acls = scram, acls

    def _unreadable(self, reason: str) -> DataDirError:
        return DataDirError(
            f"{self.path} is unreadable ({reason}); restore it from a backup, or move it away"
            " to start without SCRAM credentials and ACLs"
        )

    def replace(
        self, *, scram: Credentials | None = None, acls: tuple[AclBinding, ...] | None = None
    ) -> None:
        """Write the state with the given parts replaced, then make it the state in memory;
        KafkaError (KAFKA_STORAGE_ERROR), and nothing changed, when it cannot be written."""
        scram = self.scram if scram is None else scram
        acls = self.acls if acls is None else acls
        document = {
            "version": 1,
            "scram_credentials": {
                name: {m.mechanism_name: c.to_json() for m, c in sorted(mechanisms.items())}
                for name, mechanisms in sorted(scram.items())
            },
            "acls": [acl.to_json() for acl in acls],
        }
        self._status.write(
            "The security metadata",
            self.path,
            lambda: self._write(json.dumps(document, indent=1).encode()),
        )
        self.scram, self.acls = scram, acls

    def _write(self, data: bytes) -> None:
        write_atomically(self.path, data, PRIVATE)
        self.path.chmod(PRIVATE)

    def credential(self, name: str, mechanism: ScramMechanism) -> ScramCredential | None:
        return self.scram.get(name, {}).get(mechanism)


def _credentials(stored: Any) -> dict[ScramMechanism, ScramCredential]:
    """One user's credentials as stored; ValueError (or another) when they are not."""
    credentials: dict[ScramMechanism, ScramCredential] = {}
    for name, credential in stored.items():
        mechanism = ScramMechanism.from_mechanism_name(name)
        if mechanism is ScramMechanism.UNKNOWN:
            raise ValueError(f"unknown SCRAM mechanism {name!r}")
        credentials[mechanism] = ScramCredential.from_json(mechanism, credential)
    return credentials
