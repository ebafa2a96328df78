"""What Kafka's perf tools print, shared by `kwb perf` and `kwb consumer-perf`.

Java's `%.Nf` (jfmt, from tui/kafka/perf/report.py, which the traffic generator shares too)
and SimpleDateFormat dates, ToolsUtils' metrics table and Kafka's metric names, so that results
compare with Kafka's own runs; and JSON-safe numbers for `--output json`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..kafka.perf.report import jfmt
from .common import UsageError


def finite(value: Any) -> Any:
    """JSON has no NaN or Infinity; such values become null."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def json_safe(document: dict[str, Any]) -> dict[str, Any]:
    return {
        key: json_safe(value) if isinstance(value, dict) else finite(value)
        for key, value in document.items()
    }


def metrics_table(metrics: dict[str, float]) -> list[str]:
    """ToolsUtils.printMetrics: a blank line, a header, then `name : %.3f` sorted by name."""
    if not metrics:
        return []
    width = max(len(name) for name in metrics)
    lines = ["", f"{'Metric Name':<{width}}   Value"]
    lines += [f"{name:<{width}} : {jfmt(metrics[name], 3)}" for name in sorted(metrics)]
    return lines


def metric_name(group: str, name: str, **tags: str) -> str:
    """Kafka's `group:name:{tag=value, ...}` (a Java map's toString)."""
    rendered = ", ".join(f"{k.replace('_', '-')}={v}" for k, v in tags.items())
    return f"{group}:{name}:{{{rendered}}}"


# -- SimpleDateFormat -----------------------------------------------------------------------

_DATE_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+")


def date_formatter(pattern: str) -> Callable[[int], str]:
    """A formatter of epoch milliseconds (local time) for a SimpleDateFormat pattern."""
    parts: list[Callable[[datetime, int], str]] = []
    for match in _DATE_TOKEN.finditer(pattern):
        token = match.group(0)
        if token.startswith("'"):
            parts.append(_literal("'" if token == "''" else token[1:-1].replace("''", "'")))
        elif match.group(1):
            parts.append(_date_field(match.group(1), len(token)))
        else:
            parts.append(_literal(token))

    def format_ms(epoch_ms: int) -> str:
        moment = datetime.fromtimestamp(epoch_ms / 1000).astimezone()
        return "".join(part(moment, epoch_ms % 1000) for part in parts)

    return format_ms


def _literal(text: str) -> Callable[[datetime, int], str]:
    return lambda _d, _ms: text


def _date_field(letter: str, width: int) -> Callable[[datetime, int], str]:
    def number(value: Callable[[datetime], int]) -> Callable[[datetime, int], str]:
        return lambda d, _ms: str(value(d)).zfill(width)

    named: dict[str, str | None] = {
        "M": ("%B" if width >= 4 else "%b") if width >= 3 else None,
        "E": "%A" if width >= 4 else "%a",
        "a": "%p",
        "z": "%Z",
        "Z": "%z",
    }
    strftime = named.get(letter)
    if strftime is not None:
        return lambda d, _ms: d.strftime(strftime)
    if letter == "y":
        return lambda d, _ms: str(d.year)[-2:] if width == 2 else str(d.year).zfill(width)
    fields: dict[str, Callable[[datetime], int]] = {
        "M": lambda d: d.month,
        "d": lambda d: d.day,
        "H": lambda d: d.hour,
        "h": lambda d: d.hour % 12 or 12,
        "m": lambda d: d.minute,
        "s": lambda d: d.second,
    }
    if letter == "S":
        return lambda _d, ms: str(ms).zfill(width)
    if letter not in fields:
        raise UsageError(f"--date-format: pattern letter {letter!r} is not supported")
    return number(fields[letter])
