"""A record as the shell command that produces it again: kcat's (`c` in a record's detail)
or kwb's own (`C`).

Both read one record a line from stdin, so a record whose key, value or headers are not
text, whose value spans lines or is null (a line cannot say null) cannot be written this
way: `line_fields`, shared by both, says why with ValueError.

kcat -P takes the key (-k), the partition (-p) and headers (-H name=value) as flags. `kwb
produce` is Kafka's console producer: the key and headers go in the line itself
(`name:value,name:value<TAB>key<TAB>value` with parse.headers and parse.key), so a key with
a tab, or a header with the separators in it, cannot be written either; and as in Kafka's,
there is no partition flag: the key's hash picks the partition (the same one while the
topic keeps its partition count), a keyless record goes where the producer's batch does.
The cluster's security protocol and SASL mechanism are passed as properties; a password
never is.
"""

from __future__ import annotations

import shlex

from .connection import Connection
from .record_filter import is_text
from .tail import TailRecord

TextHeaders = tuple[tuple[str, str | None], ...]


def line_fields(record: TailRecord) -> tuple[str | None, str, TextHeaders]:
    """The key, value and headers as text, for a producer that reads a record a line."""
    parts = [record.key, record.value, *(header for _, header in record.headers)]
    if not all(part is None or is_text(part) for part in parts):
        raise ValueError("its key, value or a header is binary: copy it as JSON (y) instead")
    if record.value is None:
        raise ValueError("its value is null (a tombstone): a line cannot say null")
    value = record.value.decode()
    if "\n" in value or "\r" in value:
        raise ValueError("its value spans lines, the producer reads one a line: copy it as JSON")
    key = None if record.key is None else record.key.decode()
    headers = tuple(
        (name, None if header is None else header.decode()) for name, header in record.headers
    )
    return key, value, headers


def _printf(line: str) -> str:
    return f"printf '%s\\n' {shlex.quote(line)}"


def kcat_command(record: TailRecord, connection: Connection) -> str:
    """`printf '%s\\n' VALUE | kcat -P -b ... -t TOPIC -p P -k KEY -H name=value`: the record
    again, to its topic and partition."""
    key, value, headers = line_fields(record)
    flags = ["kcat", "-P", "-b", connection.bootstrap_servers, "-t", record.topic]
    flags += ["-p", str(record.partition)]
    if key is not None:
        flags += ["-k", key]
    for name, header in headers:
        flags += ["-H", f"{name}={header or ''}"]
    if connection.security_protocol != "PLAINTEXT":
        flags += ["-X", f"security.protocol={connection.security_protocol}"]
    if connection.sasl_mechanism:
        flags += ["-X", f"sasl.mechanism={connection.sasl_mechanism}"]
    return f"{_printf(value)} | {shlex.join(flags)}"


def kwb_produce_command(record: TailRecord, connection: Connection) -> str:
    """`printf '%s\\n' 'name:value<TAB>KEY<TAB>VALUE' | kwb produce --bootstrap-server ...
    --topic TOPIC --property parse.key=true --property parse.headers=true`: the record again,
    to its topic (Kafka's LineMessageReader's default separators)."""
    key, value, headers = line_fields(record)
    flags = ["kwb", "produce", "--bootstrap-server", connection.bootstrap_servers]
    flags += ["--topic", record.topic]
    line = value
    if key is not None:
        if "\t" in key:
            raise ValueError("its key holds a tab, the console producer's key.separator")
        line = f"{key}\t{line}"
        flags += ["--property", "parse.key=true"]
    if headers:
        pairs = []
        for name, header in headers:
            if header is None:
                raise ValueError(f"header {name!r} is null: a line cannot say null")
            if any(c in name for c in ",:\t") or any(c in header for c in ",\t"):
                raise ValueError(f"header {name!r} holds the console producer's separators")
            pairs.append(f"{name}:{header}")
        line = ",".join(pairs) + "\t" + line
        flags += ["--property", "parse.headers=true"]
    if connection.security_protocol != "PLAINTEXT":
        flags += ["--producer-property", f"security.protocol={connection.security_protocol}"]
    if connection.sasl_mechanism:
        flags += ["--producer-property", f"sasl.mechanism={connection.sasl_mechanism}"]
    return f"{_printf(line)} | {shlex.join(flags)}"
