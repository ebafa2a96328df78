"""Java `.properties` files, as Kafka's `server.properties` and `client.properties` are written.

Supports `key=value`, `key: value` and `key value`, `#` and `!` comments, backslash line
continuations and the usual escapes, which is what Kafka's own files use.
"""

from __future__ import annotations

import re
from pathlib import Path

_SEPARATOR = re.compile(r"(?<!\\)[=:\s]")
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _unescape(text: str) -> str:
    out = []
    chars = iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, "")
        if following == "u":
            code = "".join(next(chars, "") for _ in range(4))
            out.append(chr(int(code, 16)))
        else:
            out.append(_ESCAPES.get(following, following))
    return "".join(out)


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip() if pending else raw.strip()
        if not pending and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2:
            pending += line[:-1]
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def parse_properties(text: str) -> dict[str, str]:
    properties: dict[str, str] = {}
    for line in _logical_lines(text):
        match = _SEPARATOR.search(line)
        if match is None:
            properties[_unescape(line)] = ""
            continue
        key = line[: match.start()]
        rest = line[match.start() :].lstrip()
        if rest and rest[0] in "=:":
            rest = rest[1:].lstrip()
        properties[_unescape(key)] = _unescape(rest)
    return properties


def load_properties(path: Path) -> dict[str, str]:
    return parse_properties(path.read_text(encoding="utf-8"))
