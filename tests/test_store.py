"""The Store facade: scans, sync state, stock takes, runs, catalogue, locking."""

from __future__ import annotations

import errno
import inspect
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from kiosk.clock import Anchor
from kiosk.exc import StoreError, StoreFull, StoreLocked
from kiosk.models import Command, Item, Scan, ScanDetail, SyncOutcome, Verdict
from kiosk.store import SCHEMA_VERSION, Store


def add(store: Store, code: str, verdict: Verdict = Verdict.OK, **kw: object) -> int:
    return store.add_scan(code=code, verdict=verdict, scanner="s1", ts=1.0, **kw).seq  # type: ignore[arg-type]


def test_scans_are_numbered_and_survive_reopen(tmp_path: Path) -> None:
    """Scans come back after a restart with their numbers, verdicts and details."""
    with Store.open(tmp_path) as store:
        assert add(store, "A1") == 1
        assert add(store, "ZZ", Verdict.UNKNOWN, detail=ScanDetail(reason="not in catalogue")) == 2
    with Store.open(tmp_path) as store:
        scans = store.scans()
        assert [(s.seq, s.code, s.verdict) for s in scans] == [
            (1, "A1", Verdict.OK),
            (2, "ZZ", Verdict.UNKNOWN),
        ]
        assert scans[1].detail == ScanDetail(reason="not in catalogue")
        assert add(store, "A2") == 3


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        (
            {"call_number": "297 SUB m", "title": "Judul"},
            ScanDetail(call_number="297 SUB m", title="Judul"),
        ),
        ({}, ScanDetail()),
        (
            {"title": 12, "reason": None},
            ScanDetail(title="12"),
        ),  # written by hand or by an old kiosk
        ({"command": "location", "arg": "Rak"}, ScanDetail(command=Command.LOCATION, arg="Rak")),
        ({"command": "teleport", "future_key": 1}, ScanDetail()),
    ],
)
def test_a_stored_detail_reads_back_whatever_it_holds(
    tmp_path: Path, stored: dict[str, Any], read: ScanDetail
) -> None:
    """A scan's detail reads back as stored; what this version does not know is left out."""
    with Store.open(tmp_path) as store:
        seq = add(store, "A1")
        store._scans.update({"detail": stored}, doc_ids=[seq])
    with Store.open(tmp_path) as store:
        assert store.scans()[0].detail == read
        assert store.pending_sync()[0].detail == read


@pytest.mark.parametrize(
    "odd", [{"verdict": "teleported"}, {"verdict": ["ok"]}, {"sync": "maybe"}, {"sync": 1}]
)
def test_a_verdict_or_answer_this_version_does_not_know_is_named(odd: dict[str, Any]) -> None:
    """A stored scan whose verdict or SLiMS answer this version does not know is refused by name."""
    doc = {"seq": 1, "code": "A1", "verdict": "ok", "ts": 1.0, **odd}
    with pytest.raises(ValueError, match="is not a valid"):
        Scan.from_dict(doc)


def test_void_hides_scan_but_keeps_record(tmp_path: Path) -> None:
    """Undoing a scan removes it from counts and sync but it stays on record."""
    with Store.open(tmp_path) as store:
        add(store, "A1")
        add(store, "A2")
        store.void(2)
        store.void(2)
        assert store.counts() == {"ok": 1}
        last = store.last_undoable()
        assert last is not None and last.seq == 1
        assert [s.seq for s in store.pending_sync()] == [1]
        assert store.scanned_codes() == {"A1"}
    with Store.open(tmp_path) as store:
        assert [s.voided for s in store.scans(include_voided=True)] == [False, True]
        assert store.counts() == {"ok": 1}


def test_sync_state_is_per_scan_and_durable(tmp_path: Path) -> None:
    """Scans confirmed by SLiMS leave the pending list, also after a restart."""
    with Store.open(tmp_path) as store:
        for code in ("A1", "A2", "A3"):
            add(store, code)
        add(store, "X", Verdict.UNKNOWN)
        assert [s.code for s in store.pending_sync()] == ["A1", "A2", "A3"]
        store.set_sync({1: "accepted", 3: "already_scanned"})
        assert [s.code for s in store.pending_sync()] == ["A2"]
    with Store.open(tmp_path) as store:
        assert [s.code for s in store.pending_sync()] == ["A2"]
        assert store.pending_count() == 1
        assert {s.seq: s.sync for s in store.scans()} == {
            1: "accepted",
            2: None,
            3: "already_scanned",
            4: None,
        }


def test_sync_answers_change_only_what_awaits_sync(tmp_path: Path) -> None:
    """SLiMS's answers leave counts and found codes as they were, and an undone scan stays out."""

    def check(store: Store) -> None:
        assert store.counts() == {"ok": 3}
        assert store.scanned_codes() == {"A1", "A3"}
        assert [s.seq for s in store.pending_sync()] == [3, 4]
        assert store.pending_count() == 2
        assert store.exported_count() == 1

    with Store.open(tmp_path) as store:
        for code in ("A1", "A2", "A3", "A1"):
            add(store, code)
        store.void(2)  # undone while its sync was under way
        store.set_sync({1: "accepted", 2: "accepted", 3: "exported"})
        check(store)
    with Store.open(tmp_path) as store:  # the journal replayed
        check(store)
        store._scans_db.storage.compact()
    with Store.open(tmp_path) as store:  # the totals saved with the snapshot
        check(store)


def test_sessions_and_runs_group_scans(tmp_path: Path) -> None:
    """Scans belong to the stock take and shelf run that were active when they were made."""
    with Store.open(tmp_path) as store:
        first = store.start_session("Stock take 2025")
        run = store.start_run("Main hall")
        add(store, "A1", run=run)
        second = store.start_session("Stock take 2026")
        add(store, "A1")
        assert store.state()["stocktake"] == "Stock take 2026"
        assert store.scanned_codes(first) == {"A1"}
        assert store.scanned_codes() == {"A1"}
    with Store.open(tmp_path) as store:
        assert [s["name"] for s in store.sessions()] == ["Stock take 2025", "Stock take 2026"]
        assert store.current_session() == second
        (r,) = store.runs(session=first)
        assert r["location"] == "Main hall" and r["first_seq"] == 1
        assert [s.seq for s in store.scans(session=first)] == [1]


def test_undo_takes_back_the_newest_live_item_scan(tmp_path: Path) -> None:
    """Undo, also after a restart, takes back the newest live book, never a command."""
    with Store.open(tmp_path) as store:
        for i in range(6):
            add(store, f"A{i}")
        store.void(6)
        add(store, "KIOSK:run", Verdict.COMMAND, detail=ScanDetail(command=Command.RUN))
    with Store.open(tmp_path) as store:
        last = store.last_undoable()
        assert last is not None and last.code == "A4"
        store.void(5)
        tally = add(
            store, "KIOSK:nolabel", Verdict.COMMAND, detail=ScanDetail(command=Command.NOLABEL)
        )
        last = store.last_undoable()
        assert last is not None and last.seq == tally
        scan = store.scan(2)
        assert scan is not None and scan.code == "A1"


def test_catalog_replacement_is_complete(tmp_path: Path) -> None:
    """A new catalogue replaces the old one entirely, also after a restart."""
    with Store.open(tmp_path) as store:
        store.replace_catalog([Item("A1", "001 ABC"), Item("A2")], source="first")
        assert store.replace_catalog([Item("B1", "900 XYZ", on_loan=True)], source="pull") == 1
    with Store.open(tmp_path) as store:
        assert store.catalog() == {"B1": Item("B1", "900 XYZ", on_loan=True)}
        info = store.catalog_info()
        assert info["source"] == "pull" and info["count"] == 1


def test_state_is_durable(tmp_path: Path) -> None:
    """The cart resumes at the location and run it was at."""
    with Store.open(tmp_path) as store:
        store.set_state(location="Ruang Referensi", run=4)
        store.set_state(run=5)
    with Store.open(tmp_path) as store:
        assert store.state() == {"location": "Ruang Referensi", "run": 5}


def test_second_writer_is_refused(tmp_path: Path) -> None:
    """Only one process can change the store; readers still can look."""
    with Store.open(tmp_path) as store:
        add(store, "A1")
        with pytest.raises(StoreLocked, match="in use"):
            Store.open(tmp_path)
        with Store.open_readonly(tmp_path) as reader:
            assert [s.code for s in reader.scans()] == ["A1"]
            with pytest.raises(StoreError, match="read-only"):
                add(reader, "A2")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A store written by a newer kiosk is not misread by an older one."""
    with Store.open(tmp_path) as store:
        store._meta.update({"schema": SCHEMA_VERSION + 1}, doc_ids=[1])
    with pytest.raises(StoreError, match="upgrade kiosk"):
        Store.open(tmp_path)


def test_disk_full_scan_is_not_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that cannot be stored raises StoreFull and leaves counts and numbering alone."""
    with Store.open(tmp_path) as store:
        add(store, "A1")
        real = os.fsync
        calls = [0]

        def fsync(fd: int) -> None:
            calls[0] += 1
            if calls[0] == 1:
                raise OSError(errno.ENOSPC, "No space left on device")
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
        with pytest.raises(StoreFull, match="disk full"):
            add(store, "A2")
        monkeypatch.undo()
        assert store.counts() == {"ok": 1}
        assert store.scanned_codes() == {"A1"}
        assert add(store, "A3") == 2
    with Store.open(tmp_path) as store:
        assert [s.code for s in store.scans()] == ["A1", "A3"]


def test_missing_state_dir_for_reader(tmp_path: Path) -> None:
    """Looking at a store that was never created says so plainly."""
    with pytest.raises(StoreError, match="does not exist"):
        Store.open_readonly(tmp_path / "nope")


def test_sync_thread_waits_for_a_scan_being_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync never reads the pending list half-way through the storing of a scan."""
    with Store.open(tmp_path) as store:
        in_fsync, release = threading.Event(), threading.Event()
        real = os.fsync

        def slow_fsync(fd: int) -> None:
            in_fsync.set()
            release.wait(10)
            real(fd)

        monkeypatch.setattr(os, "fsync", slow_fsync)
        scanning = threading.Thread(target=add, args=(store, "A1"))
        scanning.start()
        assert in_fsync.wait(10)
        seen: list[list[int]] = []
        syncing = threading.Thread(
            target=lambda: seen.append([s.seq for s in store.pending_sync()])
        )
        syncing.start()
        syncing.join(0.2)
        blocked = syncing.is_alive()
        release.set()
        scanning.join(10)
        syncing.join(10)
        assert blocked and seen == [[1]]


#: Every public method that reads or changes the records, with arguments.
LOCKED_CALLS: dict[str, Any] = {
    "close": lambda s: s.close(),
    "damaged_files": lambda s: s.damaged_files(),
    "replace_catalog": lambda s: s.replace_catalog([], source="test"),
    "catalog": lambda s: s.catalog(),
    "catalog_info": lambda s: s.catalog_info(),
    "shelf_orders": lambda s: s.shelf_orders(),
    "locations": lambda s: s.locations(),
    "state": lambda s: s.state(),
    "set_state": lambda s: s.set_state(location="R1"),
    "anchors": lambda s: s.anchors(),
    "save_anchor": lambda s: s.save_anchor(Anchor("boot", 1.0)),
    "start_session": lambda s: s.start_session("T"),
    "sessions": lambda s: s.sessions(),
    "current_session": lambda s: s.current_session(),
    "session": lambda s: s.session(0),
    "bind_session": lambda s: s.bind_session(0, {"name": "T", "started": ""}),
    "archive_session": lambda s: s.archive_session(),
    "start_run": lambda s: s.start_run("R1"),
    "current_run": lambda s: s.current_run(),
    "runs": lambda s: s.runs(),
    "add_scan": lambda s: add(s, "A9"),
    "void": lambda s: s.void(1),
    "scan": lambda s: s.scan(1),
    "scans": lambda s: s.scans(),
    "iter_scans": lambda s: list(s.iter_scans()),
    "losses": lambda s: s.losses(),
    "last_undoable": lambda s: s.last_undoable(),
    "nolabel_count": lambda s: s.nolabel_count("R1"),
    "run_scans": lambda s: s.run_scans(),
    "scanned_codes": lambda s: s.scanned_codes(),
    "pending_sync": lambda s: s.pending_sync(),
    "pending_count": lambda s: s.pending_count(),
    "exported_count": lambda s: s.exported_count(),
    "set_sync": lambda s: s.set_sync({1: SyncOutcome.ACCEPTED}),
    "counts": lambda s: s.counts(),
}


def test_every_public_method_is_listed_for_the_lock_test() -> None:
    """A new public method must be added to LOCKED_CALLS (and hold the lock)."""
    public = {
        name
        for name, fn in vars(Store).items()
        if inspect.isfunction(fn) and not name.startswith("_")
    }
    assert public == set(LOCKED_CALLS)


@pytest.mark.parametrize("name", sorted(LOCKED_CALLS))
def test_public_methods_wait_for_the_store_lock(tmp_path: Path, name: str) -> None:
    """The uploader thread and the scan loop never touch the records at the same time."""
    with Store.open(tmp_path) as store:
        add(store, "A1")
        done = threading.Event()

        def call() -> None:
            LOCKED_CALLS[name](store)
            done.set()

        worker = threading.Thread(target=call)
        with store._lock:
            worker.start()
            waited = not done.wait(0.05)
        worker.join(10)
        assert waited and done.is_set()


def test_nolabel_tally_and_current_run_survive_a_restart(tmp_path: Path) -> None:
    """After a restart the cart still knows the no-label tally per location and its run's books."""
    with Store.open(tmp_path) as store:
        store.start_run("Fiksi")
        add(store, "A1")
        for _ in range(2):
            add(
                store,
                "KIOSK:nolabel",
                Verdict.COMMAND,
                location="Fiksi",
                detail=ScanDetail(command=Command.NOLABEL),
            )
        store.start_run("Fiksi")
        add(store, "A2")
        store.void(add(store, "A3"))
    with Store.open(tmp_path) as store:
        assert store.nolabel_count("fiksi") == 2
        assert store.nolabel_count("Referensi") == 0
        assert [s.code for s in store.run_scans()] == ["A2"]
        store.void(2)
        assert store.nolabel_count("FIKSI") == 1
