"""Building, appending to and reading partition logs in the log's unit tests.

Batches are built with `build_batch` and validated as the produce handler validates them;
every test batch of 3 records of VALUE bytes has the same size, so segment sizes and rolls are
predictable. Times are explicit `now_ms` values, never the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from localbroker.log.append_result import AppendResult
from localbroker.log.log_config import LogConfig
from localbroker.log.partition import PartitionLog
from localbroker.records.batch import validate_produced
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records

T = 1_700_000_000_000  # record timestamps start here
NOW = T + 100_000  # the broker's clock in most tests
VALUE = 20  # bytes per record value: every test batch of 3 records has the same size


def batch_bytes(values: list[bytes], timestamps: list[int] | None = None, **kwargs: int) -> bytes:
    records = [
        NewRecord(v, timestamp=T if timestamps is None else timestamps[i])
        for i, v in enumerate(values)
    ]
    return build_batch(records, now_ms=NOW, **kwargs)


BATCH_SIZE = len(batch_bytes([b"x" * VALUE] * 3))


def produce(
    log: PartitionLog,
    values: list[bytes],
    timestamps: list[int] | None = None,
    now_ms: int = NOW,
    **kwargs: int,
) -> AppendResult:
    """Validate and append one batch, as the produce handler does."""
    data = batch_bytes(values, timestamps, **kwargs)
    return log.append(validate_produced(data, log.config.max_message_bytes), data, now_ms)


def produce_batches(log: PartitionLog, count: int, timestamps: list[int] | None = None) -> None:
    """`count` batches of 3 same-sized records; batch b's values are b"<b>-<i>" padded."""
    for b in range(count):
        values = [f"{b}-{i}".encode().ljust(VALUE, b".") for i in range(3)]
        ts = None if timestamps is None else [timestamps[b]] * 3
        produce(log, values, ts)


def value(offset: int) -> bytes:
    """The value produce_batches wrote at `offset`."""
    return f"{offset // 3}-{offset % 3}".encode().ljust(VALUE, b".")


def read_all(log: PartitionLog, start: int) -> list[tuple[int, bytes | None]]:
    """(offset, value) of every record from `start` to the high watermark, fetch by fetch."""
    out: list[tuple[int, bytes | None]] = []
    offset = start
    while offset < log.high_watermark:
        records = [r for r in iter_records(log.read(offset, 1 << 20)) if r.offset >= offset]
        assert records, f"no progress at offset {offset}"
        out += [(r.offset, r.value) for r in records]
        offset = records[-1].offset + 1
    return out


def files(directory: Path, suffix: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(suffix))


# Two test batches per segment: the third does not fit and rolls a new segment.
SMALL = LogConfig(segment_bytes=2 * BATCH_SIZE + BATCH_SIZE // 2)

MakeLog = Callable[..., PartitionLog]


def timestamped_log(make_log: MakeLog) -> PartitionLog:
    """Batch b holds timestamps T+10b+5, T+10b, T+10b+9 (not in order within the batch);
    batch 1 also holds the largest timestamp of all at offset 4."""
    log = make_log()
    for b in range(6):
        stamps = [T + 10 * b + 5, T + 10 * b, T + 10 * b + 9]
        if b == 1:
            stamps[1] = T + 1000
        produce(log, [value(3 * b + i) for i in range(3)], stamps)
    return log
