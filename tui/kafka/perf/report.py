"""ProducerPerformance's lines: a window every five seconds and the summary of a run.

`kwb perf` prints them and the workbench's traffic generator shows them, so a generator's
numbers read exactly as Kafka's own tool prints them and compare with its runs. Numbers are
formatted as Java's `String.format("%.Nf")` does: HALF_UP rounding, NaN and Infinity spelled out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .producer import ProducerTotals, Window


def jfmt(value: float, digits: int) -> str:
    """`String.format("%.Nf")` as Java prints it: HALF_UP rounding, NaN and Infinity."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    exponent = Decimal(1).scaleb(-digits)
    return str(Decimal(repr(float(value))).quantize(exponent, rounding=ROUND_HALF_UP))


def window_line(window: Window) -> str:
    return (
        f"{window.records} records sent, {jfmt(window.records_per_sec, 1)} records/sec"
        f" ({jfmt(window.mb_per_sec, 2)} MB/sec), {jfmt(window.avg_latency_ms, 1)} ms avg"
        f" latency, {jfmt(float(window.max_latency_ms), 1)} ms max latency."
    )


def total_line(total: ProducerTotals) -> str:
    return (
        f"{total.records_sent} records sent, {jfmt(total.records_per_sec, 1)} records/sec"
        f" ({jfmt(total.mb_per_sec, 2)} MB/sec), {jfmt(total.avg_latency_ms, 2)} ms avg"
        f" latency, {jfmt(total.max_latency_ms, 2)} ms max latency, {total.p50_ms} ms"
        f" 50th, {total.p95_ms} ms 95th, {total.p99_ms} ms 99th,"
        f" {total.p999_ms} ms 99.9th."
    )
