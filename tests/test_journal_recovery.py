"""The journaled storage after power cuts and failing disks: recovery, failure injection."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

from kiosk.exc import StoreError, StoreFull
from kiosk.store.adapter import open_db


def test_stale_journal_after_cut_short_compaction_is_ignored(tmp_path: Path) -> None:
    """A crash between writing the new snapshot and the new journal does not replay twice."""
    path = tmp_path / "db.json"
    d = open_db(path)
    d.table("t").insert({"i": 1})
    d.storage.compact()
    old_log = path.with_suffix(".log").read_bytes()
    d.table("t").insert({"i": 2})
    d.table("t").remove(doc_ids=[1])
    d.storage.compact()
    d.close()
    path.with_suffix(".log").write_bytes(old_log)
    d = open_db(path)
    assert d.table("t").all() == [{"i": 2}]
    d.close()


def test_torn_last_record_is_recovered_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A power cut mid-append loses only the unacknowledged record, and says so in the log."""
    path = tmp_path / "db.json"
    d = open_db(path)
    d.table("t").insert_multiple({"i": i} for i in range(3))
    d.close()
    log = path.with_suffix(".log")
    good = log.read_bytes()
    log.write_bytes(good + b'1234abcd {"t":"t","p":{"4":{"i"')
    with caplog.at_level(logging.WARNING, logger="kiosk.store.journal"):
        d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == [0, 1, 2]
    assert "interrupted write" in caplog.text
    assert log.read_bytes() == good
    assert len(list(tmp_path.glob("db.log.torn-*"))) == 1
    d.table("t").insert({"i": 3})
    d.close()
    d = open_db(path)
    assert len(d.table("t")) == 4
    d.close()


def journal_of(path: Path, n: int) -> Path:
    """A store of ``n`` documents, each its own journal record; returns the journal."""
    d = open_db(path)
    for i in range(n):
        d.table("t").insert({"i": i})
    d.close()
    return path.with_suffix(".log")


def test_damaged_complete_last_record_is_a_counted_loss_not_torn(tmp_path: Path) -> None:
    """A whole last line failing its checksum was written (so acknowledged): a loss, kept aside."""
    path = tmp_path / "db.json"
    log = journal_of(path, 3)
    data = bytearray(log.read_bytes())
    data[-3] = ord("9") if data[-3] != ord("9") else ord("8")
    log.write_bytes(bytes(data))
    d = open_db(path)
    assert len(d.table("t")) == 2
    (loss,) = d.storage.losses
    assert loss.lost == 1 and loss.kept.startswith("db.log.corrupt-")
    d.close()
    assert not list(tmp_path.glob("db.log.torn-*"))


def test_cut_off_last_record_the_mark_counted_is_a_loss_not_an_interrupted_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A last record cut mid-line after the mark counted it is reported lost, not unconfirmed."""
    path = tmp_path / "db.json"
    log = journal_of(path, 1)  # the mark is written after the first change
    log.write_bytes(log.read_bytes()[:-6])
    with caplog.at_level(logging.WARNING):
        d = open_db(path)
    assert len(d.table("t")) == 0
    (loss,) = d.storage.losses
    assert loss.lost == 1 and "fewer changes than were acknowledged" in loss.what
    assert "had been acknowledged" in caplog.text and "interrupted write" not in caplog.text
    d.close()


def test_damage_before_good_records_costs_only_that_record(tmp_path: Path) -> None:
    """A damaged middle record is skipped and counted; its neighbours stay, a copy is kept."""
    path = tmp_path / "db.json"
    log = journal_of(path, 4)
    lines = log.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"i":1', b'"i":7')
    damaged = b"\n".join(lines)
    log.write_bytes(damaged)
    d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == [0, 2, 3]
    (loss,) = d.storage.losses
    assert loss.lost == 1 and loss.kept.startswith("db.log.corrupt-")
    d.close()
    assert (tmp_path / loss.kept).read_bytes() == damaged
    d = open_db(path)  # the loss is remembered, the damage is not found twice
    assert len(d.storage.losses) == 1 and len(d.table("t")) == 3
    d.close()


def test_a_nul_block_across_several_records_counts_each_lost_record(tmp_path: Path) -> None:
    """Damage that merges three records into one unreadable line is counted as three lost."""
    path = tmp_path / "db.json"
    log = journal_of(path, 6)
    lines = log.read_bytes().split(b"\n")
    block = b"\n".join(lines[2:5])
    lines[2:5] = [b"\0" * len(block)]
    log.write_bytes(b"\n".join(lines))
    d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == [0, 4, 5]
    (loss,) = d.storage.losses
    assert loss.lost == 3
    d.close()


def test_a_record_removed_from_the_middle_is_detected(tmp_path: Path) -> None:
    """A whole line gone between readable ones (nothing unreadable left) is still a loss."""
    path = tmp_path / "db.json"
    log = journal_of(path, 5)
    lines = log.read_bytes().split(b"\n")
    del lines[3]
    log.write_bytes(b"\n".join(lines))
    with open_db(path, readonly=True) as d:
        (loss,) = d.storage.losses
        assert loss.lost == 1 and "missing between readable ones" in loss.what


def test_snapshot_failing_its_checksum_keeps_its_documents_and_a_copy(tmp_path: Path) -> None:
    """A snapshot that fails its checksum is kept aside, its readable documents still used."""
    path = tmp_path / "db.json"
    d = open_db(path)
    d.table("t").insert_multiple({"i": i} for i in range(5))
    d.storage.compact()
    d.close()
    snap = path.read_bytes().replace(b'"i":3', b'"i":8')
    path.write_bytes(snap)
    d = open_db(path)
    assert len(d.table("t")) == 5
    (loss,) = d.storage.losses
    assert "checksum" in loss.what
    d.close()
    (backup,) = tmp_path.glob("db.json.corrupt-*")
    assert backup.read_bytes() == snap


def test_readonly_reader_reports_damage_without_moving(tmp_path: Path) -> None:
    """A read-only opener never moves files, even damaged ones, but counts the damage."""
    path = tmp_path / "db.json"
    d = open_db(path)
    d.table("t").insert_multiple({"i": i} for i in range(3))
    d.storage.compact()
    d.close()
    before = path.read_bytes()
    path.write_bytes(before[:-20] + b"garbage\n")
    r = open_db(path, readonly=True)
    (loss,) = r.storage.losses
    assert "cut off" in loss.what and loss.lost == 0  # the header says 3 documents: all read
    r.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.json", "db.log", "db.mark"]


def test_readonly_reader_ignores_a_tail_being_written(tmp_path: Path) -> None:
    """A reader sees the acknowledged records and leaves the writer's partial tail alone."""
    path = tmp_path / "db.json"
    d = open_db(path)
    d.table("t").insert({"i": 1})
    log = path.with_suffix(".log")
    with log.open("ab") as f:
        f.write(b"0000")
    r = open_db(path, readonly=True)
    assert r.table("t").all() == [{"i": 1}]
    with pytest.raises(StoreError, match="read-only"):
        r.table("t").insert({"i": 2})
    r.close()
    assert log.read_bytes().endswith(b"0000")
    d.close()


def test_plain_tinydb_file_is_converted_and_kept(tmp_path: Path) -> None:
    """A store written by plain TinyDB JSON is read, converted, and its original kept."""
    path = tmp_path / "db.json"
    old = TinyDB(path)
    old.table("t").insert_multiple({"i": i} for i in range(3))
    old.close()
    d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == [0, 1, 2]
    d.close()
    assert len(list(tmp_path.glob("db.json.tinydb-*"))) == 1


def _failing(err: int, real: Any, times: int = 1) -> Any:
    """``real`` that fails with ``err`` on its first ``times`` calls."""
    left = [times]

    def call(fd: int, *args: Any) -> Any:
        if left[0] > 0:
            left[0] -= 1
            raise OSError(err, os.strerror(err))
        return real(fd, *args)

    return call


@pytest.mark.parametrize("call", ["write", "fsync"])
def test_disk_full_is_reported_and_memory_matches_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    """When the disk is full the insert fails with StoreFull and nothing half-stored remains."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert({"i": 0})
    log_size = path.with_suffix(".log").stat().st_size
    real = getattr(os, call)
    if call == "fsync":
        # The bytes reach the file, then the flush fails: they must be cut off again.
        monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC, real))
    else:
        monkeypatch.setattr(os, "write", _failing(errno.ENOSPC, real))
    with pytest.raises(StoreFull, match="disk full"):
        t.insert({"i": 1})
    monkeypatch.undo()
    assert [x["i"] for x in t.all()] == [0]
    assert path.with_suffix(".log").stat().st_size == log_size
    assert t.insert({"i": 2}) == 2  # space came back: storing goes on
    d.close()
    d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == [0, 2]
    d.close()


def test_partial_write_then_enospc_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record that only partly reached the disk before ENOSPC is removed again."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert({"i": 0})
    real_write = os.write
    calls = []

    def half(fd: int, data: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:7])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", half)
    with pytest.raises(StoreFull):
        t.update({"i": 5}, doc_ids=[1])
    monkeypatch.undo()
    assert t.get(doc_id=1) == {"i": 0}
    d.close()
    d = open_db(path)
    assert d.table("t").get(doc_id=1) == {"i": 0}
    d.close()


def test_io_error_stops_further_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After an fsync I/O error the store refuses to pretend until it is reopened."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert({"i": 0})
    monkeypatch.setattr(os, "fsync", _failing(errno.EIO, os.fsync))
    with pytest.raises(StoreError) as info:
        t.insert({"i": 1})
    assert not isinstance(info.value, StoreFull)
    monkeypatch.undo()
    with pytest.raises(StoreError, match="restart"):
        t.insert({"i": 2})
    assert len(t) == 1
    d.close()


def test_failed_snapshot_keeps_old_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole-store replacement that hits a full disk leaves the old data in place."""
    path = tmp_path / "db.json"
    d = open_db(path)
    d.table("t").insert({"i": 0})
    monkeypatch.setattr(os, "fsync", _failing(errno.ENOSPC, os.fsync))
    with pytest.raises(StoreFull):
        d.storage.write({"t": {"1": {"i": 9}}})
    monkeypatch.undo()
    assert d.table("t").all() == [{"i": 0}]
    assert not list(tmp_path.glob("*.tmp"))
    d.close()
    d = open_db(path)
    assert d.table("t").all() == [{"i": 0}]
    d.close()


def test_a_new_journal_that_cannot_be_written_leaves_the_old_pair_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk full as a compaction starts its journal fails the compaction only: inserts go on."""
    path = tmp_path / "db.json"
    d = open_db(path)
    t = d.table("t")
    t.insert({"i": 0})
    real_open = os.open

    def full(file: Any, flags: int, *args: Any) -> int:
        if str(file).endswith(".log.tmp"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, flags, *args)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(StoreFull):
        d.storage.compact()
    assert t.insert({"i": 1}) == 2
    monkeypatch.undo()
    assert not list(tmp_path.glob("*.tmp"))
    assert t.insert({"i": 2}) == 3
    d.close()
    d = open_db(path)
    assert [x["i"] for x in d.table("t").all()] == [0, 1, 2]
    d.close()
