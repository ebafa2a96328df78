"""The metadata journal: a change costs one appended line, and no crash loses an acknowledged one.

The crashes are real: a forked process creating topics kills itself with SIGKILL at its
N-th fsync (files.observe_fsyncs), for every N through a few compactions, and tells the
test over a pipe each topic add_topic returned for (acknowledged).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from localbroker import files
from localbroker.files import DataDirError
from localbroker.metadata import store as store_module
from localbroker.metadata.store import (
    JOURNAL_FILE,
    METADATA_FILE,
    MetadataStore,
    TopicRecord,
    new_topic_id,
)

TOPICS = 12
SMALL_JOURNAL = 600
"""Bytes past which the crash test's journal compacts: every few topics."""


def topic(name: str) -> TopicRecord:
    return TopicRecord(name, new_topic_id(), 10, {"retention.ms": "1000"})


def test_a_change_is_appended_and_leaves_the_document_alone(tmp_path: Path) -> None:
    """Issue 16: each topic rewrote the whole document (1,000 topics: 20 s). Mutation check:
    with add_topic calling save() as each change used to, the document's inode changes."""
    store = MetadataStore(tmp_path, 0)
    document = (tmp_path / METADATA_FILE).stat()
    for number in range(20):
        store.add_topic(topic(f"t{number}"))
    assert (tmp_path / METADATA_FILE).stat().st_ino == document.st_ino
    assert len((tmp_path / JOURNAL_FILE).read_bytes().splitlines()) == 20
    assert sorted(MetadataStore(tmp_path, 0).topics) == sorted(f"t{n}" for n in range(20))


def test_the_journal_is_compacted_into_the_document_once_as_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "COMPACT_AT_LEAST", SMALL_JOURNAL)
    store = MetadataStore(tmp_path, 0)
    for number in range(TOPICS):
        store.add_topic(topic(f"t{number}"))
        assert (tmp_path / JOURNAL_FILE).stat().st_size < max(
            SMALL_JOURNAL, (tmp_path / METADATA_FILE).stat().st_size
        ) + 200, "never much larger than the document"
    assert (tmp_path / METADATA_FILE).read_text().count('"topic_id"') > TOPICS // 2


def test_a_torn_last_line_is_cut_and_a_damaged_earlier_line_stops_the_start(
    tmp_path: Path,
) -> None:
    store = MetadataStore(tmp_path, 0)
    store.add_topic(topic("whole"))
    journal = tmp_path / JOURNAL_FILE
    whole = journal.read_bytes()
    journal.write_bytes(whole + whole[: len(whole) // 2].replace(b"whole", b"torn!"))
    assert set(MetadataStore(tmp_path, 0).topics) == {"whole"}

    store = MetadataStore(tmp_path, 0)  # the start above compacted: a fresh journal
    store.add_topic(topic("first"))
    store.add_topic(topic("second"))
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0].replace(b"first", b"fir5t") + lines[1])
    with pytest.raises(DataDirError) as refused:
        MetadataStore(tmp_path, 0)
    assert str(refused.value).startswith(f"{journal} is unreadable (line 1 is damaged)")


def test_a_failed_fsync_leaves_the_journal_as_it_was(tmp_path: Path) -> None:
    """Mutation check: without the ftruncate in Journal.append, the phantom's line stays and
    the next start finds it."""
    store = MetadataStore(tmp_path, 0)
    store.add_topic(topic("kept"))
    size = (tmp_path / JOURNAL_FILE).stat().st_size

    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    stop = files.observe_fsyncs(failing)
    try:
        with pytest.raises(OSError):
            store.add_topic(topic("phantom"))
    finally:
        stop()
    assert (tmp_path / JOURNAL_FILE).stat().st_size == size
    assert set(store.topics) == {"kept"}
    assert set(MetadataStore(tmp_path, 0).topics) == {"kept"}


def create_until_killed(data_dir: Path, kill_at: int, acknowledged: int) -> None:
    """In a forked child: create topics, writing each acknowledged name to the pipe, and die
    by SIGKILL at the `kill_at`-th fsync after the store has opened."""
    store_module.COMPACT_AT_LEAST = SMALL_JOURNAL
    store = MetadataStore(data_dir, 0)
    fsyncs = 0

    def count(fd: int) -> None:
        nonlocal fsyncs
        fsyncs += 1
        if fsyncs == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    files.observe_fsyncs(count)
    for number in range(TOPICS):
        name = f"t{number}"
        store.add_topic(topic(name))
        os.write(acknowledged, f"{name}\n".encode())
    os._exit(0)


def run_killed(data_dir: Path, kill_at: int) -> tuple[list[str], bool]:
    """The topics a child acknowledged before its `kill_at`-th fsync, and whether it died."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.close(readable)
            create_until_killed(data_dir, kill_at, writable)
        finally:
            os._exit(1)
    os.close(writable)
    with os.fdopen(readable) as pipe:
        names = pipe.read().split()
    _, status = os.waitpid(pid, 0)
    return names, os.WIFSIGNALED(status)


def test_killed_at_every_fsync_no_acknowledged_topic_is_lost(tmp_path: Path) -> None:
    """Every fsync of 12 topics' appends and of their compactions (document, directory,
    journal cut), each in a run killed there. Mutation check: with save() emptying the
    journal before it writes the document, a run killed between the two loses acknowledged
    topics and this fails."""
    kill_at = 1
    while True:
        data_dir = tmp_path / f"killed-at-{kill_at}"
        data_dir.mkdir()
        acknowledged, killed = run_killed(data_dir, kill_at)
        found = set(MetadataStore(data_dir, 0).topics)
        assert set(acknowledged) <= found, f"killed at fsync {kill_at}"
        assert found <= set(acknowledged) | {f"t{len(acknowledged)}"}
        if not killed:
            assert len(acknowledged) == TOPICS
            break
        kill_at += 1
    assert kill_at > TOPICS, "the kills reached every append"
