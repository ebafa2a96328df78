"""The leader-epoch cache: Kafka's endOffsetFor answers, its monotonic assignment and
truncations, and the `leader-epoch-checkpoint` file in Kafka's format."""

from __future__ import annotations

from pathlib import Path

import pytest
from partition_logs import NOW, MakeLog, produce_batches

from localbroker.log import leader_epochs
from localbroker.log.leader_epochs import CHECKPOINT_FILE, LeaderEpochCache

LOG_END = 25


def cache(directory: Path, *entries: tuple[int, int]) -> LeaderEpochCache:
    epochs = LeaderEpochCache(directory, "t-0", lambda: LOG_END)
    for epoch, start in entries:
        epochs.assign(epoch, start)
    return epochs


def count_writes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The checkpoint files written from now on."""
    written: list[Path] = []
    original = leader_epochs.write_atomically

    def counted(target: Path, data: bytes) -> None:
        written.append(target)
        original(target, data)

    monkeypatch.setattr(leader_epochs, "write_atomically", counted)
    return written


@pytest.mark.parametrize(
    ("requested", "answer"),
    [
        (-1, (-1, -1)),  # UNDEFINED_EPOCH: a bootstrapping follower
        (5, (5, LOG_END)),  # the latest epoch ends at the log end offset
        (3, (3, 20)),  # an epoch ends where the next starts
        (4, (3, 20)),  # an epoch nobody led: the one before it, up to the next
        (2, (1, 10)),
        (0, (0, 0)),  # older than all known: itself, up to the first known start
        (6, (-1, -1)),  # later than all known
    ],
)
def test_end_offset_for_answers_as_kafka(
    tmp_path: Path, requested: int, answer: tuple[int, int]
) -> None:
    epochs = cache(tmp_path, (1, 0), (3, 10), (5, 20))
    assert epochs.end_offset_for(requested) == answer


def test_an_empty_cache_knows_no_epoch(tmp_path: Path) -> None:
    epochs = cache(tmp_path)
    assert epochs.latest() is None
    assert epochs.end_offset_for(0) == (-1, -1)


def test_the_checkpoint_is_kafkas_file_and_reads_back(tmp_path: Path) -> None:
    cache(tmp_path, (1, 0), (3, 10), (5, 20))
    assert (tmp_path / CHECKPOINT_FILE).read_text() == "0\n3\n1 0\n3 10\n5 20\n"
    again = LeaderEpochCache(tmp_path, "t-0", lambda: LOG_END)
    again.load(lambda: iter(()))
    assert again.entries() == [(1, 0), (3, 10), (5, 20)]
    assert again.latest() == (5, 20)


def test_a_file_kafka_wrote_is_read(tmp_path: Path) -> None:
    """Kafka's reader splits on any whitespace; the file may come from a real Kafka."""
    (tmp_path / CHECKPOINT_FILE).write_text("0\n2\n0  0\n7\t42\n")
    epochs = LeaderEpochCache(tmp_path, "t-0", lambda: LOG_END)
    epochs.load(lambda: iter(()))
    assert epochs.entries() == [(0, 0), (7, 42)]


def test_assign_keeps_epochs_and_offsets_growing(tmp_path: Path) -> None:
    epochs = cache(tmp_path, (1, 0), (3, 10), (5, 20))
    epochs.assign(5, 22)  # the latest epoch again, later: nothing changes
    assert epochs.entries() == [(1, 0), (3, 10), (5, 20)]
    epochs.assign(4, 15)  # an older epoch at an earlier offset: later entries go
    assert epochs.entries() == [(1, 0), (3, 10), (4, 15)]
    epochs.assign(6, 10)  # a new epoch at an offset an older one started at
    assert epochs.entries() == [(1, 0), (6, 10)]
    assert (tmp_path / CHECKPOINT_FILE).read_text() == "0\n2\n1 0\n6 10\n"


def test_truncation_from_the_end_and_from_the_start(tmp_path: Path) -> None:
    epochs = cache(tmp_path, (1, 0), (3, 10), (5, 20))
    epochs.truncate_from_start(12)
    assert epochs.entries() == [(3, 12), (5, 20)]
    epochs.truncate_from_start(20)
    assert epochs.entries() == [(5, 20)]
    epochs = cache(tmp_path, (1, 0), (3, 10), (5, 20))
    epochs.truncate_from_end(20)
    assert epochs.entries() == [(1, 0), (3, 10)]
    epochs.truncate_from_end(5)
    assert epochs.entries() == [(1, 0)]
    assert (tmp_path / CHECKPOINT_FILE).read_text() == "0\n1\n1 0\n"


def test_a_log_records_each_new_epoch_where_it_starts(make_log: MakeLog) -> None:
    log = make_log()
    produce_batches(log, 2)
    assert log.epochs.entries() == [(0, 0)]
    assert log.epochs.end_offset_for(0) == (0, 6)


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_a_missing_or_unreadable_checkpoint_is_rebuilt_from_the_batches(
    make_log: MakeLog, damage: str
) -> None:
    log = make_log(leader_epoch=None)
    produce_batches(log, 2)
    log.append_marker(7, 0, True, NOW, leader_epoch=3)
    log.close()
    path = log.directory / CHECKPOINT_FILE
    if damage == "missing":
        path.unlink()
    else:
        path.write_text("0\n2\n0 0\n")  # a count the lines do not match
    again = make_log(leader_epoch=None)
    assert again.epochs.entries() == [(0, 0), (3, 6)]
    assert path.read_text() == "0\n2\n0 0\n3 6\n"


def test_an_epoch_the_log_lost_is_dropped_when_it_opens(
    make_log: MakeLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry is written before the batch: a crash in between leaves an epoch the log
    never got, which opening drops (Kafka's LogLoader truncates the cache to the log), in
    memory: each open drops it again, and the next change writes the file without it."""
    log = make_log()
    produce_batches(log, 2)
    log.close()
    path = log.directory / CHECKPOINT_FILE
    path.write_text("0\n2\n0 0\n4 6\n")
    written = count_writes(monkeypatch)
    for _ in range(2):
        again = make_log()
        assert again.epochs.entries() == [(0, 0)]
        again.close()
    assert written == []
    make_log().become_leader(5)
    assert path.read_text() == "0\n2\n0 0\n5 6\n"
    assert written == [path]


@pytest.mark.parametrize("batches", [0, 2])
def test_reopening_a_log_writes_no_checkpoint(
    make_log: MakeLog, monkeypatch: pytest.MonkeyPatch, batches: int
) -> None:
    """A clean start of 10,000 partitions rewrote and fsynced every checkpoint twice, the
    same bytes each time (an empty log's (0, 0) is cut at its end offset 0, then assigned
    again on leading): 17 s of start-up. Mutation checks: the cut at open written, or a
    write of the same entries not skipped, each fail this."""
    log = make_log()
    produce_batches(log, batches)
    log.close()
    written = count_writes(monkeypatch)
    for _ in range(2):
        make_log().close()
    assert written == []


def test_a_new_log_led_from_the_start_knows_its_epoch(make_log: MakeLog) -> None:
    """As Kafka's makeLeader: the epoch starts at the log end even before any batch, so
    OffsetForLeaderEpoch answers (0, 0) for an empty partition; a follower's log (None)
    knows no epoch until it gets batches, and writes no file for it."""
    assert make_log().epochs.entries() == [(0, 0)]
    assert (make_log().directory / CHECKPOINT_FILE).read_text() == "0\n1\n0 0\n"


def test_reopening_a_log_keeps_the_later_epochs_it_holds(make_log: MakeLog) -> None:
    """A log replicated in cluster mode holds epochs past 0: opening it (as every log opens,
    led in epoch 0 until the replica manager says otherwise) must not drop them, or a
    restarted broker would answer OffsetForLeaderEpoch from a cache that lost its epochs."""
    log = make_log()
    produce_batches(log, 1)
    log.become_leader(3)
    produce_batches(log, 1)
    log.close()
    again = make_log()
    assert again.epochs.entries() == [(0, 0), (3, 3)]
    produce_batches(again, 1)
    assert again.epochs.entries() == [(0, 0), (3, 3)]


def test_a_follower_log_writes_no_empty_checkpoint(tmp_path: Path) -> None:
    epochs = LeaderEpochCache(tmp_path, "t-0", lambda: 0)
    epochs.load(lambda: iter(()))
    assert epochs.latest() is None
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_deleting_records_moves_the_first_epochs_start(make_log: MakeLog) -> None:
    """DeleteRecords and retention move the log start offset; the cache drops what went
    before it and starts the first remaining epoch there (Kafka's truncateFromStart), in
    the file too, so the log opens again with it."""
    log = make_log(leader_epoch=None)
    produce_batches(log, 2)
    log.append_marker(7, 0, True, NOW, leader_epoch=2)  # offset 6
    log.delete_records_before(3, NOW)  # inside the first segment: no segment goes
    assert log.epochs.entries() == [(0, 3), (2, 6)]
    log.close()
    again = make_log(leader_epoch=None, log_start_offset=3)
    assert again.epochs.entries() == [(0, 3), (2, 6)]


def test_retention_moves_the_first_epochs_start(make_log: MakeLog) -> None:
    log = make_log(leader_epoch=None)
    produce_batches(log, 5)  # segments 0, 6, 12
    assert log.enforce_retention(NOW + 10 * 24 * 3600 * 1000) == 3  # rolled, all go
    assert log.log_start_offset == 15
    assert log.epochs.entries() == [(0, 15)]
