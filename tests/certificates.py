"""Test certificates, made at test time with the openssl command line: a CA, a server
certificate for 127.0.0.1 and localhost, and client certificates whose subjects name users.

Nothing here is a secret worth keeping: the keys live in the test's temporary directory.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

DAYS = "2"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class Certificates:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def server_key(self) -> Path:
        return self.directory / "server.key"

    @property
    def server_certificate(self) -> Path:
        return self.directory / "server.pem"

    @property
    def server_keystore(self) -> Path:
        """Key and certificate in one PEM file: an ssl.keystore.location with type PEM."""
        return self.directory / "server-keystore.pem"

    def client(self, name: str) -> tuple[Path, Path]:
        """A client certificate and its key, for subject `CN=<name>,O=Workbench`; made once."""
        key, certificate = self.directory / f"{name}.key", self.directory / f"{name}.pem"
        if not certificate.exists():
            self._issue(name, f"/O=Workbench/CN={name}", None)
        return certificate, key

    def _issue(self, name: str, subject: str, extensions: str | None) -> None:
        d = self.directory
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr", "-subj", subject, cwd=d)  # fmt: skip
        extra = ["-extfile", extensions] if extensions else []
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", DAYS, "-out", f"{name}.pem", *extra,
                 cwd=d)  # fmt: skip


def make_certificates(directory: Path) -> Certificates:
    directory.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", DAYS, "-subj", "/CN=Workbench Test CA",
             cwd=directory)  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    certificates = Certificates(directory)
    certificates._issue("server", "/CN=localhost", "server.ext")
    certificates.server_keystore.write_text(
        certificates.server_key.read_text() + certificates.server_certificate.read_text()
    )
    return certificates
