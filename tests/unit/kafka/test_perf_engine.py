"""The load engine's pieces without a broker: values, keys, latency percentiles, windows, and
the traffic generator's spec as a form gives it.

The send loop itself runs against real brokers: `kwb perf` in tests/integration/
test_cli_perf.py, the generator in tests/tui/test_generator_pane.py.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from dataclasses import replace

import pytest

from tui.kafka.connection import SettingsError
from tui.kafka.generator import GeneratorSpec, parse_spec
from tui.kafka.perf.producer import Stats, Tally, ThroughputThrottler, Window, percentiles
from tui.kafka.perf.records import keys, values


def take(iterator: object, count: int) -> list[object]:
    return list(itertools.islice(iterator, count))  # type: ignore[call-overload]


def test_percentiles_read_off_a_histogram_are_kafkas() -> None:
    """Kafka sorts the sampled latencies and takes latencies[(int) (q * count)]."""
    rng = random.Random(7)
    for size in (1, 2, 3, 10, 999, 5000):
        sample = [int(rng.expovariate(0.2)) for _ in range(size)]
        histogram: dict[int, int] = {}
        for latency in sample:
            histogram[latency] = histogram.get(latency, 0) + 1
        ordered = sorted(sample)
        quantiles = (0.5, 0.95, 0.99, 0.999)
        assert percentiles(histogram, *quantiles) == [ordered[int(q * size)] for q in quantiles]
    assert percentiles({}, 0.5, 0.99) == [0, 0]


def test_a_retargeted_throttler_paces_from_then_on() -> None:
    """Kafka's rule (throttle while records/elapsed is above the target), counted afresh from
    a retarget: the records sent at the old rate neither earn nor owe sleep."""
    throttler = ThroughputThrottler(100, start_ms=0)
    assert not throttler.should_throttle(100, 1000)  # 100 in 1 s: on target
    assert throttler.should_throttle(150, 1000)  # ahead
    throttler.retarget(10, now=1000)
    assert throttler.sleep_time_ns == 100_000_000
    assert not throttler.should_throttle(150, 1000)  # nothing sent since: not ahead
    assert not throttler.should_throttle(160, 2000)  # 10 in the 1 s since
    assert throttler.should_throttle(161, 2000)
    throttler.retarget(-1, now=2000)  # unlimited
    assert not throttler.should_throttle(10_000, 2001)


def test_values_of_each_template() -> None:
    random_letters = take(values("random", 50), 100)
    assert all(re.fullmatch(rb"[A-Z]{50}", v) for v in random_letters)  # type: ignore[arg-type]
    assert len(set(random_letters)) == 100
    text = take(values("text", 80), 20)
    assert all(len(v) == 80 and re.fullmatch(rb"[a-z ]+", v) for v in text)  # type: ignore[arg-type]
    padded = take(values("json", 400), 20)
    for seq, value in enumerate(padded):
        document = json.loads(value)  # type: ignore[arg-type]
        assert len(value) == 400 and document["seq"] == seq  # type: ignore[arg-type]
        assert {"id", "event", "user", "email", "city", "amount", "currency", "ts", "note"} <= set(
            document
        )
    short = take(values("json", 10), 3)
    assert all(len(v) > 10 and "note" not in json.loads(v) for v in short)  # type: ignore[arg-type]
    assert take(values("sequence", 100), 3) == [b"0", b"1", b"2"]
    assert take(values("random", None), 2) == [b"0", b"1"]  # --payload-monotonic
    assert set(take(values("json", 10, [b"a", b"b"]), 50)) == {b"a", b"b"}  # --payload-file
    assert take(values("text", 30), 5) == take(values("text", 30), 5)  # seeded


def test_keys_of_each_strategy() -> None:
    assert take(keys("none"), 3) == [None, None, None]
    assert take(keys("round-robin", 3), 7) == [
        b"key-0", b"key-1", b"key-2", b"key-0", b"key-1", b"key-2", b"key-0",
    ]  # fmt: skip
    distinct = take(keys("distinct", 10), 2000)
    assert set(distinct) == {f"key-{i}".encode() for i in range(10)}
    fresh = take(keys("random"), 1000)
    assert len(set(fresh)) == 1000 and all(re.fullmatch(rb"[0-9a-f]{16}", k) for k in fresh)  # type: ignore[arg-type]


def test_stats_without_a_count_are_done_once_the_records_sent_are_answered() -> None:
    closed: list[Window] = []
    stats = Stats(None, on_window=closed.append, reporting_interval_ms=0)
    assert stats.sampling == 1 and not stats.done.is_set()
    stats.record(5, 100, stats.start + 1)
    stats.record(7, 100, stats.start + 2)
    assert [(w.records, w.p50_ms, w.p99_ms) for w in closed] == [(1, 5, 5), (1, 7, 7)]
    stats.expect(3)
    assert not stats.done.is_set()
    stats.record(9, 100, stats.start + 3)
    stats.expect(3)
    assert stats.done.is_set()
    totals = stats.totals(stats.start + 1000)
    assert (totals.records_sent, totals.records_per_sec, totals.p50_ms) == (3, 3.0, 7)


def test_tallies_absorbed_count_as_records_recorded_one_by_one() -> None:
    """librdkafka's engine counts acknowledgements in a Tally and hands it over in bulk: the
    totals, the window and the percentiles are those of the same records one by one."""
    one_by_one, bulk = Stats(None), Stats(None)
    tally = Tally()
    for latency, size in [(3, 10), (5, 20), (5, 30), (40, 40)]:
        one_by_one.record(latency, size, one_by_one.start)
        tally.delivered(latency, size)
    tally.failed("NOT_LEADER_OR_FOLLOWER: no leader")
    tally.failed("a second failure")
    bulk.absorb(tally.take())
    assert tally.take() == Tally()  # taken: counting starts afresh
    end = one_by_one.start + 1000
    assert bulk.totals(bulk.start + 1000) == one_by_one.totals(end)
    assert replace(bulk.window(), elapsed_ms=0) == replace(one_by_one.window(), elapsed_ms=0)
    assert (bulk.errors, bulk.first_error) == (2, "NOT_LEADER_OR_FOLLOWER: no leader")


def form(**fields: str) -> dict[str, str]:
    return {
        "topic": "orders",
        "rate": "500",
        "record_size": "200",
        "template": "json",
        "keys": "distinct",
        "key_count": "10",
        "headers": "source=kwb, env = demo",
        "compression": "lz4",
        "acks": "all",
    } | fields


def test_a_form_makes_a_spec() -> None:
    spec = parse_spec(**form())
    assert spec == GeneratorSpec(
        "orders", 500.0, 200, "json", "distinct", 10, (("source", b"kwb"), ("env", b"demo")), "lz4"
    )
    assert spec.describe() == (
        "500/s · json 200 B · 10 distinct keys · 2 header(s) · lz4 · acks=all"
    )
    unlimited = parse_spec(**form(rate=" ", keys="none", key_count="", headers=""))
    assert (unlimited.rate, unlimited.load().throughput, unlimited.load().num_records) == (
        None,
        -1,
        None,
    )
    assert parse_spec(**form(rate="MAX")).rate is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"topic": " "}, "a topic is needed"),
        ({"rate": "0"}, "rate 0: a rate must be more than 0 records/s"),
        ({"rate": "-1"}, "rate -1: a rate must be more than 0 records/s"),
        ({"rate": "lots"}, "rate 'lots' is not a number of records/s"),
        ({"record_size": "0"}, "record size 0 is less than 1 byte"),
        ({"record_size": "1.5"}, "record size '1.5' is not a whole number of bytes"),
        ({"record_size": "1048576"}, "more than max.request.size (1048576 bytes)"),
        ({"key_count": "0"}, "0 keys: round-robin and distinct need 1 or more"),
        ({"headers": "=x"}, "header 1: expected name=value, got '=x'"),
        ({"acks": "2"}, "acks '2' is not one of all, -1, 0, 1"),
    ],
)
def test_what_a_form_cannot_run_is_said(fields: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        parse_spec(**form(**fields))
