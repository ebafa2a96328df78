"""A record as the shell command that produces it again: kcat's (`c` in a record's detail).

kcat -P reads one record a line from stdin and takes the key (-k), the partition (-p) and
headers (-H name=value) as flags, so a record whose key, value or headers are not text, whose
value spans lines or is null (kcat skips an empty line) cannot be written this way:
ValueError says so. The cluster's
security protocol and SASL mechanism are passed as kcat properties; a password never is.
"""

from __future__ import annotations

import shlex

from .connection import Connection
from .record_filter import is_text
from .tail import TailRecord


def kcat_command(record: TailRecord, connection: Connection) -> str:
    """`printf '%s\\n' VALUE | kcat -P -b ... -t TOPIC -p P -k KEY -H name=value`: the record
    again, to its topic and partition."""
    parts = [record.key, record.value, *(header for _, header in record.headers)]
    if not all(part is None or is_text(part) for part in parts):
        raise ValueError("its key, value or a header is binary: copy it as JSON (y) instead")
    if record.value is None:
        raise ValueError("its value is null (a tombstone): kcat -P skips empty lines")
    value = record.value.decode()
    if "\n" in value:
        raise ValueError("its value spans lines, kcat -P reads one a line: copy it as JSON (y)")
    flags = ["kcat", "-P", "-b", connection.bootstrap_servers, "-t", record.topic]
    flags += ["-p", str(record.partition)]
    if record.key is not None:
        flags += ["-k", record.key.decode()]
    for name, header in record.headers:
        flags += ["-H", f"{name}={(header or b'').decode()}"]
    if connection.security_protocol != "PLAINTEXT":
        flags += ["-X", f"security.protocol={connection.security_protocol}"]
    if connection.sasl_mechanism:
        flags += ["-X", f"sasl.mechanism={connection.sasl_mechanism}"]
    return f"printf '%s\\n' {shlex.quote(value)} | {shlex.join(flags)}"
