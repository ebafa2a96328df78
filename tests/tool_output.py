"""What Kafka's tools (and kwb in their place) print, made comparable: the one place where what
legitimately differs between two runs of the same command is replaced or reordered.

- Addresses of brokers become BOOTSTRAP, topic ids TOPIC-ID, the UUID in a member id UUID.
- Timings and rates become N with the number of decimals kept (`17.65` -> `N.dd`), so a
  format (`%.2f`) is still compared, its value not; dates become DATE.
- A metrics table (`--print-metrics`) loses its padding, which follows the longest name.
- stderr keeps what the tool itself prints, Java's part reduced to what a user reads: a stack
  trace to its innermost exception's message, a log4j record of the tool's own logger to its
  level and message (`ERROR Topic 'x' does not exist as expected`); records of the Java
  client's loggers (its chatter) are dropped.
- `rows_sorted` puts the rows of tables and lists that Kafka prints in hash-map order (group
  offsets, groups, deleted records' partitions) in one order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOPIC_ID = re.compile(r"(TopicId: )[\w-]{22}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(\.\d+)?(?![\w.])")
_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}")
_PRODUCER_PERF = re.compile(r"^\d+ records sent, [\d.]+ records/sec")
_METRIC = re.compile(r"^(\S+:\S+:\{.*\})\s+: (\S+)$")
_METRIC_HEADER = re.compile(r"^Metric Name\s+Value$")
_CONSUMER_PERF = re.compile(
    r"^DATE, (DATE|\d+), [\d.]+, [\d.]+, \d+, [\d.]+, \d+, \d+, [\d.]+, [\d.]+$"
)
"""A kafka-consumer-perf-test line: its summary, or a --show-detailed-stats line."""
_CONSUMER_PERF_TIMINGS = frozenset({3, 5, 6, 7, 8, 9})
"""Fields of a kafka-consumer-perf-test line that are times or rates (MB.sec, nMsg.sec,
rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec)."""

_LOG_RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] (\w+) (.*)$")
_LOGGER = re.compile(r" \(([\w.$]+)\)$")
_TOOL_LOGGERS = ("org.apache.kafka.tools.", "kafka.admin.", "kafka.tools.")
_EXCEPTION_PREFIX = re.compile(r"^(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)(?:: |$)")
_STACK_LINE = re.compile(r"^(?:\tat |\t\.\.\. \d+ more|Caused by: )")


def _timing(match: re.Match[str]) -> str:
    decimals = match.group(1)
    return "N" + ("." + "d" * (len(decimals) - 1) if decimals else "")


def _consumer_perf_line(line: str) -> str:
    fields = line.split(", ")
    for index in _CONSUMER_PERF_TIMINGS:
        fields[index] = _NUMBER.sub(_timing, fields[index])
    return ", ".join(fields)


def normalise(text: str, bootstraps: Iterable[str] = ()) -> str:
    """stdout (or stderr after `stderr_messages`) with ids, addresses and timings replaced."""
    for bootstrap in bootstraps:
        text = text.replace(bootstrap, "BOOTSTRAP")
    text = _TOPIC_ID.sub(r"\1TOPIC-ID", text)
    text = _UUID.sub("UUID", text)
    lines = []
    for line in text.split("\n"):
        line = _DATE.sub("DATE", line)
        if _CONSUMER_PERF.match(line):
            line = _consumer_perf_line(line)
        elif _PRODUCER_PERF.match(line):
            line = _NUMBER.sub(_timing, line)
            if lines and line == lines[-1]:
                continue  # how many five-second windows a run spans is timing too
        elif metric := _METRIC.match(line):
            line = f"{metric.group(1)} : {_NUMBER.sub(_timing, metric.group(2))}"
        elif _METRIC_HEADER.match(line):
            line = "Metric Name Value"
        lines.append(line)
    return "\n".join(lines)


def innermost_message(line: str) -> str:
    """`java.util.concurrent.ExecutionException: o.a.k.c.e.XException: text` -> `text`."""
    while match := _EXCEPTION_PREFIX.match(line):
        line = line[match.end() :]
    return line


def stderr_messages(text: str) -> str:
    """stderr as a user reads it: the tool's own lines, each Java stack trace as its innermost
    message, the tool's log records as `LEVEL message`, the client's log records dropped."""
    kept: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        record = _LOG_RECORD.match(line)
        if record is not None:
            level, message = record.groups()
            while (logger := _LOGGER.search(line)) is None and index < len(lines):
                line = lines[index]  # a multi-line record ends with its logger's name
                index += 1
            if logger is not None and logger.group(1).startswith(_TOOL_LOGGERS):
                kept.append(f"{level} {innermost_message(_LOGGER.sub('', message))}")
            continue
        if _STACK_LINE.match(line):
            continue
        # the tool's own line, or a stack trace's first (Kafka's own exceptions often have no
        # frames): of an exception, its message is what a user reads
        kept.append(innermost_message(line))
    return "\n".join(kept)


def rows_sorted(text: str) -> str:
    """Each blank-line-separated block with its lines sorted, a table's header kept first."""
    blocks = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        header = lines[:1] if lines and lines[0].isupper() else []
        blocks.append("\n".join(header + sorted(lines[len(header) :])))
    return "\n\n".join(blocks)


def metrics(text: str) -> dict[str, str]:
    """A `--print-metrics` table as {metric name: value as printed}."""
    return {m.group(1): m.group(2) for m in map(_METRIC.match, text.split("\n")) if m}
