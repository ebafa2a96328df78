"""Java `.properties` files, as Kafka's `server.properties` and `client.properties` are written.

Supports `key=value`, `key: value` and `key value`, `#` and `!` comments, backslash line
continuations and the usual escapes, which is what Kafka's own files use.
"""

from __future__ import annotations

from pathlib import Path

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


def _separator(line: str) -> int:
    """Index of the first unescaped `=`, `:` or whitespace, or len(line) if there is none."""
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "=: \t\f":
            return index
    return len(line)


def parse_properties(text: str) -> dict[str, str]:
    properties: dict[str, str] = {}
    for line in _logical_lines(text):
        split = _separator(line)
        rest = line[split:].lstrip()
        if rest and rest[0] in "=:":
            rest = rest[1:].lstrip()
        properties[_unescape(line[:split])] = _unescape(rest)
    return properties


def load_properties(path: Path) -> dict[str, str]:
    return parse_properties(path.read_text(encoding="utf-8"))
