"""A full disk refuses to acknowledge and says so, but never stops the cart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.models import ProblemKind, Verdict
from kiosk.store import Store
from kiosk.store import journal as journal_mod
from tests.faults.store_kit import Disk, run_cart, small_tmpfs
from tests.helpers import shelf_items


def test_disk_full_between_a_location_and_its_shelf_run_does_not_stop_the_cart(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new shelf run that failed to start is started before the next scan; no input is lost."""
    disk = Disk(state_dir, monkeypatch)
    tries = {"runs": 0}

    def runs_table_full_once(data: bytes) -> bool:
        if b'"t":"runs"' in data:
            tries["runs"] += 1
            return tries["runs"] == 1
        return False

    disk.full = runs_table_full_once
    printed, fb = run_cart(state_dir, "KIOSK:location:Fiksi\nB0100\nB0001\n")
    assert disk.refused == 1
    assert ProblemKind.LOW_DISK in fb.problems and ProblemKind.LOW_DISK in fb.resolved
    assert fb.verdicts[0] is Verdict.ERROR  # the location did not fully take: no "OK"
    assert [p["code"] for p in printed] == ["B0100", "B0001"]
    with Store.open_readonly(state_dir) as store:
        (run,) = [r for r in store.runs() if r["location"] == "Fiksi"]
        assert {p["run"] for p in printed} == {run["id"]}
        assert {p["location"] for p in printed} == {"Fiksi"}


def test_disk_full_during_undo_is_signalled_and_the_scan_stays(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An undo that cannot be stored is refused with a signal; scanning goes on."""
    disk = Disk(state_dir, monkeypatch)
    disk.full = lambda data: b'"voided":true' in data
    printed, fb = run_cart(state_dir, "B0001\nKIOSK:undo\nB0002\n")
    assert ProblemKind.LOW_DISK in fb.problems
    assert [p["code"] for p in printed] == ["B0001", "B0002"]
    with Store.open_readonly(state_dir) as store:
        assert [s.code for s in store.scans()] == ["B0001", "KIOSK:undo", "B0002"]


def test_full_disk_at_fsync_refuses_the_scan_and_the_next_one_is_stored(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan whose fsync hits ENOSPC is not acknowledged; once space is back, scans resume."""
    disk = Disk(state_dir, monkeypatch)
    calls = {"n": 0}

    def second_fsync_full(data: bytes) -> bool:
        if data:
            return False
        calls["n"] += 1
        return calls["n"] == 2

    disk.full = second_fsync_full
    printed, fb = run_cart(state_dir, "B0001\nB0002\nB0003\n")
    assert [p["code"] for p in printed] == ["B0001", "B0003"]
    assert fb.verdicts[1] is Verdict.ERROR
    with Store.open_readonly(state_dir) as store:
        assert [s.code for s in store.scans()] == ["B0001", "B0003"]


def _big_journal(state: Path, minimum: int) -> int:
    """Scans until the journal passes ``minimum`` bytes; returns how many."""
    n = 0
    with Store.open(state) as store:
        while (state / "scans.log").stat().st_size <= minimum:
            n += 1
            store.add_scan(
                code=f"B{n:08d}", verdict=Verdict.UNKNOWN, scanner="t", ts=1.0, location="Rak"
            )
    return n


def test_daemon_starts_and_scans_with_a_big_journal_and_little_free_space(tmp_path: Path) -> None:
    """With a journal over 1 MiB and ~300 KB free, compaction waits and the cart scans."""
    with small_tmpfs(tmp_path / "disk", "3000k") as disk:
        state = disk / "state"
        with Store.open(state) as store:
            store.replace_catalog(shelf_items(), source="test")
        n = _big_journal(state, journal_mod.COMPACT_ON_OPEN)
        st = os.statvfs(disk)
        filler = max(0, st.f_bavail * st.f_frsize - 300_000)
        (disk / "filler").write_bytes(b"\0" * filler)
        log_before = (state / "scans.log").stat().st_size
        printed, fb = run_cart(state, "B0001\n")
        assert [p["seq"] for p in printed] == [n + 1]
        assert ProblemKind.LOW_DISK not in fb.problems
        assert (state / "scans.log").stat().st_size > log_before  # not compacted: appended
        (disk / "filler").unlink()
        with Store.open(state) as store:  # room again: compaction happens, nothing is lost
            store._scans_db.storage.settle()
            assert (state / "scans.log").stat().st_size < 1000
            assert len(store.scans()) == n + 1


def test_compaction_is_skipped_when_free_space_is_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start-up compaction never tries to write a snapshot the disk has no room for."""
    state = tmp_path / "state"
    n = _big_journal(state, journal_mod.COMPACT_ON_OPEN)
    real = os.statvfs

    def little_room(path: object) -> os.statvfs_result:
        st = real(path)  # type: ignore[arg-type]
        fields = list(st)
        fields[4] = 300_000 // st.f_frsize  # f_bavail
        return os.statvfs_result(fields)

    snapshot = (state / "scans.json").stat().st_ino  # the first, made while the journal was small
    monkeypatch.setattr(os, "statvfs", little_room)
    with Store.open(state) as store:
        assert [p.name for p in state.glob("scans.json*")] == ["scans.json"]  # none tried
        assert (state / "scans.json").stat().st_ino == snapshot
        assert len(store.scans()) == n
