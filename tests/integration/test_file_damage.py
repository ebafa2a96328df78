"""Every kind of file in a data directory, damaged every way, with what the broker must make
of it (a parametrized table).

A template directory is written once by a real broker and stopped cleanly: a topic of ~7
segments written by an idempotent producer (so producer snapshots exist), with records
before offset 5 deleted (so the log start offset checkpoint matters), and a group that
committed 12 times. Each case copies it, damages one file (cut to half its size, extended
with garbage, one bit flipped in its middle byte, emptied, deleted), starts a broker on the
copy (in this process, so its log lines are captured) and compares what clients get with
the table: the start refused with one line naming the file, offsets that answer
CORRUPT_MESSAGE, a log start offset, a committed offset, or everything intact (every record
at its offset, lookups by time, an idempotent retry answered as a duplicate, a new record
appended after the rest).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from brokers import running_broker
from file_damage import flip_bits
from kio.schema.errors import ErrorCode
from restarts import batch_bounds, fetch_at, produce_raw, segment_files
from wire import RawClient

from localbroker.files import DataDirError
from localbroker.groups.records import offsets_partition
from localbroker.log.checkpoints import LOG_START_OFFSET_FILE, RECOVERY_POINT_FILE
from localbroker.log.manager import CLEAN_SHUTDOWN_FILE, LOCK_FILE
from localbroker.metadata.store import META_PROPERTIES, METADATA_FILE
from localbroker.records.builder import NewRecord, build_batch
from localbroker.records.reader import iter_records

TOPIC, GROUP, RECORDS, DELETED_BEFORE = "damaged", "g", 120, 5
COMMITS = [10 * n for n in range(1, 13)]
BASE_TIME = int(time.time() * 1000) - 3_600_000
LIST_OFFSETS, OFFSET_COMMIT, OFFSET_FETCH, CREATE_TOPICS = 2, 8, 9, 19
DELETE_RECORDS, INIT_PRODUCER_ID = 21, 22
EARLIEST, LATEST = -2, -1
GARBAGE = b"\x00garbage\xff" * 20
OFFSETS_PARTITIONS = 50  # offsets.topic.num.partitions


@dataclass
class Template:
    """The directory every case starts from, and what it holds."""

    data_dir: Path
    producer_id: int
    last_batch: bytes

    @property
    def segments(self) -> list[Path]:
        return segment_files(self.data_dir / f"{TOPIC}-0")

    @property
    def offsets_segment(self) -> Path:
        [segment] = segment_files(
            self.data_dir / f"__consumer_offsets-{offsets_partition(GROUP, 50)}"
        )
        return segment


def value_of(offset: int) -> bytes:
    return b"value-%03d" % offset


def idempotent_batch(producer_id: int, offset: int) -> bytes:
    record = NewRecord(value_of(offset), timestamp=BASE_TIME + offset * 1000)
    return build_batch(
        [record], now_ms=BASE_TIME, producer_id=producer_id, producer_epoch=0, base_sequence=offset
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    data_dir = tmp_path_factory.mktemp("template") / "data"
    with running_broker(data_dir) as broker, RawClient(broker.bootstrap) as client:
        create = {
            "name": TOPIC,
            "num_partitions": 1,
            "replication_factor": 1,
            "assignments": [],
            "configs": [  # ~7 segments of ~19 one-record batches, ~9 index entries each
                {"name": "segment.bytes", "value": "1500"},
                {"name": "index.interval.bytes", "value": "100"},
            ],
        }
        client.call(CREATE_TOPICS, 7, {"topics": [create], "timeout": 5000, "validate_only": False})
        producer_id = client.call(
            INIT_PRODUCER_ID, 1, {"transactional_id": None, "transaction_timeout": 60000}
        ).producer_id
        for offset in range(RECORDS):
            batch = idempotent_batch(producer_id, offset)
            assert produce_raw(client, TOPIC, {0: batch}) == {0: (ErrorCode.none, offset)}
        deleted = client.call(
            DELETE_RECORDS,
            2,
            {
                "topics": [
                    {
                        "name": TOPIC,
                        "partitions": [{"partition_index": 0, "offset": DELETED_BEFORE}],
                    }
                ],
                "timeout": 5000,
            },
        )
        assert deleted.topics[0].partitions[0].low_watermark == DELETED_BEFORE
        for offset in COMMITS:
            partition = {"partition_index": 0, "committed_offset": offset, "committed_metadata": ""}
            answer = client.call(
                OFFSET_COMMIT,
                2,
                {
                    "group_id": GROUP,
                    "generation_id_or_member_epoch": -1,
                    "member_id": "",
                    "retention_time": -1,
                    "topics": [{"name": TOPIC, "partitions": [partition]}],
                },
            )
            assert answer.topics[0].partitions[0].error_code == ErrorCode.none
    made = Template(data_dir, producer_id, idempotent_batch(producer_id, RECORDS - 1))
    assert len(made.segments) >= 5 and (data_dir / CLEAN_SHUTDOWN_FILE).exists()
    assert made.segments[2].with_suffix(".index").stat().st_size >= 5 * 8
    return made


# -- damages -----------------------------------------------------------------------------------


def cut_half(path: Path) -> None:
    with open(path, "r+b") as file:
        file.truncate(path.stat().st_size // 2)


def extend(path: Path) -> None:
    with open(path, "ab") as file:
        file.write(GARBAGE)


def flip_middle(path: Path) -> None:
    flip_bits(path, path.stat().st_size // 2, 0x80)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def delete(path: Path) -> None:
    path.unlink()


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated": cut_half,
    "extended": extend,
    "bit-flipped": flip_middle,
    "emptied": empty,
    "deleted": delete,
}

# -- the files ---------------------------------------------------------------------------------


def newest_snapshot(data_dir: Path) -> Path:
    return sorted((data_dir / f"{TOPIC}-0").glob("*.snapshot"))[-1]


TARGETS: dict[str, Callable[[Template], Path]] = {
    "segment": lambda t: t.segments[2],
    "offset index": lambda t: t.segments[2].with_suffix(".index"),
    "time index": lambda t: t.segments[2].with_suffix(".timeindex"),
    "producer snapshot": lambda t: newest_snapshot(t.data_dir),
    "recovery points": lambda t: t.data_dir / RECOVERY_POINT_FILE,
    "log start offsets": lambda t: t.data_dir / LOG_START_OFFSET_FILE,
    "metadata": lambda t: t.data_dir / METADATA_FILE,
    "meta.properties": lambda t: t.data_dir / META_PROPERTIES,
    "offsets segment": lambda t: t.offsets_segment,
    "clean shutdown marker": lambda t: t.data_dir / CLEAN_SHUTDOWN_FILE,
    "lock": lambda t: t.data_dir / LOCK_FILE,
}

# -- what must come of it ----------------------------------------------------------------------

Lost = Callable[[Path], set[int]]  # from the undamaged file: the offsets that must be lost


def batches_past_half(original: Path) -> set[int]:
    half = original.stat().st_size // 2
    return {last for position, size, last in batch_bounds(original) if position + size > half}


def batch_in_middle(original: Path) -> set[int]:
    middle = original.stat().st_size // 2
    return {
        last
        for position, size, last in batch_bounds(original)
        if position <= middle < position + size
    }


def every_batch(original: Path) -> set[int]:
    return {last for _, _, last in batch_bounds(original)}


def commit_before_half(original: Path) -> int:
    """The commit that survives a cut at half the offsets segment: each commit is a batch."""
    kept = len(batch_bounds(original)) - len(batches_past_half(original))
    return COMMITS[kept - 1] if kept else -1


def commit_left_by_a_flip(original: Path) -> int:
    last = batch_bounds(original)[-1][2]
    return COMMITS[-2] if batch_in_middle(original) == {last} else COMMITS[-1]


@dataclass(frozen=True)
class Outcome:
    refused: bool = False
    lost: Lost | None = None
    log_start: int = DELETED_BEFORE
    committed: int | Callable[[Path], int] = COMMITS[-1]
    strays: bool = False


INTACT = Outcome()
REFUSED = Outcome(refused=True)
NO_COMMIT = Outcome(committed=-1)
DELETION_UNDONE = Outcome(log_start=0)  # Kafka resets to the first segment's base offset

TABLE: dict[tuple[str, str], Outcome] = {
    ("segment", "truncated"): Outcome(lost=batches_past_half),
    ("segment", "extended"): INTACT,
    ("segment", "bit-flipped"): Outcome(lost=batch_in_middle),
    ("segment", "emptied"): Outcome(lost=every_batch),
    ("segment", "deleted"): Outcome(lost=every_batch),
    **{("offset index", damage): INTACT for damage in DAMAGES},
    **{("time index", damage): INTACT for damage in DAMAGES},
    **{("producer snapshot", damage): INTACT for damage in DAMAGES},
    **{("recovery points", damage): INTACT for damage in DAMAGES},
    **{("log start offsets", damage): DELETION_UNDONE for damage in DAMAGES},
    **{("metadata", damage): REFUSED for damage in DAMAGES},
    ("metadata", "deleted"): Outcome(strays=True),
    **{("meta.properties", damage): REFUSED for damage in DAMAGES},
    ("meta.properties", "deleted"): INTACT,
    ("offsets segment", "truncated"): Outcome(committed=commit_before_half),
    ("offsets segment", "extended"): INTACT,
    ("offsets segment", "bit-flipped"): Outcome(committed=commit_left_by_a_flip),
    ("offsets segment", "emptied"): NO_COMMIT,
    ("offsets segment", "deleted"): NO_COMMIT,
    # Both are empty files whose presence alone counts: cutting or flipping is no damage.
    ("clean shutdown marker", "extended"): INTACT,
    ("clean shutdown marker", "deleted"): INTACT,
    ("lock", "extended"): INTACT,
    ("lock", "deleted"): INTACT,
}

# -- looking at the result ---------------------------------------------------------------------


def list_offset(client: RawClient, timestamp: int) -> int:
    wanted = {"partition_index": 0, "timestamp": timestamp}
    response = client.call(
        LIST_OFFSETS,
        7,
        {
            "replica_id": -1,
            "isolation_level": 0,
            "topics": [{"name": TOPIC, "partitions": [wanted]}],
        },
    )
    return int(response.topics[0].partitions[0].offset)


def fetched_at(client: RawClient, offset: int) -> bytes | int | None:
    """The value a fetch at `offset` gets for that offset, or its error code."""
    answer = fetch_at(client, TOPIC, 0, offset)
    if answer.error_code:
        return int(answer.error_code)
    return next(r.value for r in iter_records(bytes(answer.records)) if r.offset >= offset)


def committed_offset(client: RawClient) -> int:
    fetch = {"groups": [{"group_id": GROUP, "topics": None}], "require_stable": False}
    [group] = client.call(OFFSET_FETCH, 8, fetch).groups
    found = [p.committed_offset for t in group.topics if t.name == TOPIC for p in t.partitions]
    return int(found[0]) if found else -1


@pytest.fixture
def copy(template: Template, tmp_path: Path) -> Iterator[Template]:
    data_dir = tmp_path / "data"
    shutil.copytree(template.data_dir, data_dir)
    yield Template(data_dir, template.producer_id, template.last_batch)


@pytest.mark.parametrize(
    ("target", "damage"), list(TABLE), ids=[f"{t}-{d}".replace(" ", "-") for t, d in TABLE]
)
def test_damage(
    template: Template, copy: Template, target: str, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = TABLE[(target, damage)]
    original = TARGETS[target](template)
    damaged = TARGETS[target](copy)
    DAMAGES[damage](damaged)
    if outcome.refused:
        with pytest.raises(DataDirError) as refused, running_broker(copy.data_dir):
            pass
        assert str(refused.value).startswith(f"{damaged} is unreadable (")
        return
    with running_broker(copy.data_dir) as broker, RawClient(broker.bootstrap) as client:
        if outcome.strays:
            [stray] = [p for p in copy.data_dir.iterdir() if p.name.startswith(f"{TOPIC}-0.")]
            assert stray.name.endswith("-stray")
            assert sorted(p.name for p in stray.iterdir()) == sorted(
                p.name for p in (template.data_dir / f"{TOPIC}-0").iterdir()
            )
            return
        lost = outcome.lost(original) if outcome.lost else set()
        log_start, end = list_offset(client, EARLIEST), list_offset(client, LATEST)
        assert (log_start, end) == (outcome.log_start, RECORDS)
        # Every offset on its own, so every index entry and time index entry is used.
        fetched = {o: fetched_at(client, o) for o in range(log_start, RECORDS)}
        assert fetched == {
            o: ErrorCode.corrupt_message if o in lost else value_of(o)
            for o in range(log_start, RECORDS)
        }
        found = {o: list_offset(client, BASE_TIME + o * 1000) for o in range(log_start, RECORDS)}
        assert found == {o: min(set(range(o, RECORDS)) - lost) for o in found}
        expected = outcome.committed
        assert committed_offset(client) == (expected(original) if callable(expected) else expected)
        if RECORDS - 1 not in lost:
            retried = produce_raw(client, TOPIC, {0: template.last_batch})
            assert retried == {0: (ErrorCode.none, RECORDS - 1)}, "not seen as a duplicate"
        fresh = build_batch([NewRecord(b"after")], now_ms=int(time.time() * 1000))
        assert produce_raw(client, TOPIC, {0: fresh}) == {0: (ErrorCode.none, RECORDS)}
    if lost:
        reported = f"offsets {min(lost)}..{max(lost)}"
        assert any(
            reported in r.getMessage() and "CORRUPT_MESSAGE" in r.getMessage()
            for r in caplog.records
        ), f"no log line reports {reported}"
