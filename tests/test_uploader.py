"""Syncing scans into SLiMS: verdicts per scan, upload verification, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from kiosk.exc import SlimsAuthError, SyncError
from kiosk.models import Scan, Verdict
from kiosk.slims import ledger
from kiosk.slims.client import SlimsClient
from kiosk.slims.credentials import Secret
from kiosk.slims.uploader import Journal, Uploader, pick_strategy
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User
from tests.faults.store_kit import Disk
from tests.helpers import slims_cli_env

PASSWORD = "pw-uploader"
N = 60


#: Releases and languages the sync runs against here (the client tests cover them all).
RELEASES = [("9.4.2", "id"), ("9.5.1", "en"), ("9.5.2", "id"), ("9.7.0", "id"), ("develop", "en")]


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeSlims]:
    version, language = getattr(request, "param", ("9.6.1", "en"))
    items = [FakeItem(f"C{i:04d}", f"Title {i}", f"{i:03d} X") for i in range(N)]
    items[5].on_loan = True
    items[6].skip_stock_take = True
    items.append(FakeItem("OUT-1", "elsewhere"))
    users = {"admin": User(PASSWORD)}
    with FakeSlims(items, users=users, version=version, language=language) as f:
        f.start_stocktake()
        del f.stocktake["OUT-1"]  # an item outside this stock take's scope
        yield f


def client(fake: FakeSlims, **kw) -> SlimsClient:
    kw.setdefault("sleep", lambda s: None)
    return SlimsClient(fake.url, "admin", Secret(PASSWORD), **kw)


def fill(state: Path, codes: list[str], verdict: Verdict = Verdict.OK) -> Store:
    store = Store.open(state)
    for i, code in enumerate(codes):
        v = Verdict.ON_LOAN if code == "C0005" else verdict
        store.add_scan(code=code, verdict=v, scanner="s1", ts=1000.0 + i)
    return store


CODES = [f"C{i:04d}" for i in range(N)] + ["OUT-1", "NOPE-1"]


def outcomes(store: Store) -> dict[str, str | None]:
    return {s.code: s.sync for s in store.scans()}


@pytest.mark.parametrize("fake", RELEASES, indirect=True, ids=["-".join(r) for r in RELEASES])
@pytest.mark.parametrize("mode", ["item", "upload"])
def test_every_scan_gets_slims_verdict(fake: FakeSlims, tmp_path: Path, mode: str) -> None:
    """Each scan is marked with what SLiMS said about it, in item and upload mode."""
    with fill(tmp_path / "s", CODES) as store:
        result = Uploader(store, client(fake), mode=mode, chunk=16).run()
        got = outcomes(store)
        assert store.pending_sync() == []
    ok = "accepted" if mode == "item" else "uploaded"
    assert got["C0000"] == ok and got["C0059"] == ok
    assert got["C0005"] == "on_loan"
    assert got["C0006"] == "skipped_rule"
    assert got["OUT-1"] == got["NOPE-1"] == "not_in_stocktake"
    assert fake.found() == {c for c in CODES[:N] if c not in ("C0005", "C0006")}
    assert result.complete and result.synced == len(CODES)


def test_upload_verified_by_count_uses_few_requests(fake: FakeSlims, tmp_path: Path) -> None:
    """A clean upload is confirmed from SLiMS's own count, one request per chunk."""
    clean = [c for c in CODES[:N] if c not in ("C0005", "C0006")]
    with fill(tmp_path / "s", clean) as store:
        result = Uploader(store, client(fake), mode="upload", chunk=20).run()
    assert result.uploads == 3 and result.requests == 3
    assert result.verified_by_count == len(clean) and result.outcomes == {"uploaded": len(clean)}


def test_refused_login_sends_nothing(fake: FakeSlims, tmp_path: Path) -> None:
    """A password SLiMS refuses stops the sync with that reason, and every scan stays pending."""
    with fill(tmp_path / "s", CODES[:10]) as store:
        refused = SlimsClient(fake.url, "admin", Secret("not-it"), sleep=lambda s: None)
        with pytest.raises(SlimsAuthError):
            Uploader(store, refused, mode="upload").run()
        assert len(store.pending_sync()) == 10
    assert fake.found() == set()


@pytest.mark.parametrize(
    ("held", "after"),
    [
        ("index.php?p=login", 1),  # the form loads; the POST (the password check) is held
        ("stock_take/index.php", 0),  # the stock-take list, asked for once logged in
    ],
)
def test_scans_are_read_while_slims_logs_in_and_lists_stock_takes(
    fake: FakeSlims, tmp_path: Path, held: str, after: int
) -> None:
    """The cart reads its scans while SLiMS is still busy with the login and its stock takes."""
    overlapped: list[bool] = []

    class Watched(Store):
        def pending_sync(self, session: int | None = None) -> list[Scan]:
            overlapped.append(fake.held.wait(10))  # the request is on its way and held there
            fake.release.set()
            return super().pending_sync(session)

    fill(tmp_path / "s", CODES[:10]).close()
    fake.inject(held, "hold", after=after)
    with Watched(tmp_path / "s") as store:
        result = Uploader(store, client(fake), mode="upload").run()
    assert overlapped == [True]
    assert result.complete and fake.logins == 1


def test_answers_are_stored_while_the_next_upload_is_out(
    fake: FakeSlims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cart stores SLiMS's answer to one upload while SLiMS works on the next one."""
    monkeypatch.setattr(ledger, "FLUSH_EVERY", 20)  # a batch per chunk, as at 2,000 codes
    overlapped: list[bool] = []

    class Watched(Store):
        def set_sync(self, results: Mapping[int, str]) -> None:
            if not overlapped:
                overlapped.append(fake.held.wait(10))  # the second upload is held at SLiMS
                fake.release.set()
            super().set_sync(results)

    fill(tmp_path / "s", CODES[:40]).close()
    fake.inject("st_upload", "hold", after=1)
    with Watched(tmp_path / "s") as store:
        result = Uploader(store, client(fake), mode="upload", chunk=20).run()
        assert store.pending_sync() == []
    assert overlapped == [True]
    assert result.complete and result.synced == 40


def test_a_batch_the_disk_refuses_stays_pending(
    fake: FakeSlims, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers the full disk would not take stop the sync and are sent again, counted once."""
    monkeypatch.setattr(ledger, "FLUSH_EVERY", 20)
    codes = [c for c in CODES[:42] if c not in ("C0005", "C0006")]
    fill(tmp_path / "s", codes).close()
    disk = Disk(tmp_path / "s", monkeypatch)
    disk.full = lambda data: b'"sync":"uploaded"' in data and disk.refused == 0
    with Store.open(tmp_path / "s") as store:
        with pytest.raises(SyncError, match="confirming 20 of 40"):
            Uploader(store, client(fake), mode="upload", chunk=20).run()
        assert len(store.pending_sync()) == 20  # the first batch, refused by the disk
        again = Uploader(store, client(fake), mode="upload", chunk=20).run()
        final = Counter(s.sync for s in store.scans())
    assert disk.refused == 1
    assert again.complete and again.synced == 20
    assert final == {"uploaded": 40} and fake.found() == set(codes)


def test_nothing_pending_does_not_log_in(fake: FakeSlims, tmp_path: Path) -> None:
    """With every scan already confirmed, a sync is done without asking SLiMS anything."""
    with fill(tmp_path / "s", CODES[:3]) as store:
        Uploader(store, client(fake), mode="upload").run()
        again = client(fake)
        result = Uploader(store, again, mode="upload").run()
    assert result.complete and result.pending == 0
    assert again.logins == 0


@pytest.mark.parametrize("mode", ["item", "upload"])
def test_sync_never_opens_the_costly_report(fake: FakeSlims, tmp_path: Path, mode: str) -> None:
    """A sync checks its stock take on the history list, not the report that counts everything.

    SLiMS's report page took 0.5 s per look at 20,000 items (9.7.0), and a sync
    looks before it starts and before each stored batch.
    """
    with fill(tmp_path / "s", CODES[:10]) as store:
        result = Uploader(store, client(fake), mode=mode, chunk=4).run()
    assert result.complete
    assert fake.hits.get("/admin/modules/stock_take/st_report.php", 0) == 0
    assert fake.hits.get("/admin/modules/stock_take/index.php", 0) >= 2


def test_sync_asks_once_which_stock_take_runs(fake: FakeSlims, tmp_path: Path) -> None:
    """A sync learns the running stock take from one page, not also from one that says only that."""
    with fill(tmp_path / "s", CODES[:10]) as store:
        result = Uploader(store, client(fake), mode="upload").run()
    assert result.complete
    assert fake.hits.get("/admin/modules/stock_take/current.php", 0) == 0


def test_upload_with_misfits_is_checked_code_by_code(fake: FakeSlims, tmp_path: Path) -> None:
    """When SLiMS marks fewer codes than sent, each code of that chunk gets its own verdict."""
    with fill(tmp_path / "s", ["C0010", "C0006", "C0011"]) as store:
        result = Uploader(store, client(fake), mode="upload").run()
        got = outcomes(store)
    assert got == {"C0010": "uploaded", "C0006": "skipped_rule", "C0011": "uploaded"}
    assert result.uploads == 1 and result.requests == 4


def test_file_mode_writes_the_upload_file(fake: FakeSlims, tmp_path: Path) -> None:
    """Without SLiMS the scans go to a .txt a librarian can upload; none counts as in SLiMS."""
    out = tmp_path / "opname.txt"
    with fill(tmp_path / "s", ["C0001", "C0002", "C0001", "bad code!"]) as store:
        result = Uploader(store, None, out=out).run()
        assert result.mode == "file"
        assert out.read_text() == "C0001\nC0002\n"
        assert [s.sync for s in store.scans()] == ["exported", "exported", "exported", None]
        assert store.pending_count() == 4 and store.exported_count() == 3
        with pytest.raises(SyncError, match="exists"):
            store.add_scan(code="C0003", verdict=Verdict.OK, scanner="s", ts=1.0)
            Uploader(store, None, out=out).run()
        # Each file holds everything SLiMS has not answered: losing one loses nothing.
        again = Uploader(store, None, out=tmp_path).run()
        assert again.file is not None
        assert Path(again.file).read_text() == "C0001\nC0002\nC0003\n"
    assert result.confirmed == 0 and result.synced == 0 and result.exported == 3
    assert not result.complete and result.left == 1


def test_exported_scans_are_confirmed_by_a_later_online_sync(
    fake: FakeSlims, tmp_path: Path
) -> None:
    """Scans in an upload file stay pending until SLiMS itself confirms them online."""
    with fill(tmp_path / "s", ["C0001", "C0002"]) as store:
        Uploader(store, None, out=tmp_path / "a.txt").run()
        fake.stocktake["C0001"] = "e"  # the librarian uploaded the file for this one
        result = Uploader(store, client(fake), mode="item").run()
        assert outcomes(store) == {"C0001": "already_scanned", "C0002": "accepted"}
        assert store.pending_count() == 0 and store.exported_count() == 0
    assert result.complete and result.confirmed == 2


def test_progress_is_reported(fake: FakeSlims, tmp_path: Path) -> None:
    """The cart's screen gets (done, total) after every step, ending at total."""
    seen: list[tuple[int, int]] = []
    with fill(tmp_path / "s", CODES[:10]) as store:
        Uploader(
            store, client(fake), mode="item", on_progress=lambda d, t: seen.append((d, t))
        ).run()
    assert seen == [(i, 10) for i in range(1, 11)]


def test_stop_keeps_what_was_confirmed(fake: FakeSlims, tmp_path: Path) -> None:
    """Stopping mid-sync keeps the confirmed scans and leaves the rest pending."""
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 4:
            stop.set()

    with fill(tmp_path / "s", CODES[:10]) as store:
        r = Uploader(store, client(fake), mode="item", stop=stop, on_progress=progress).run()
        assert r.stopped and r.synced == 4 and len(store.pending_sync()) == 6


@pytest.mark.parametrize(
    ("mode", "target", "kind"),
    [
        ("item", "stock_take_action", "reset_after"),
        ("item", "stock_take_action", "500"),
        ("upload", "st_upload", "reset_after"),
        ("upload", "st_upload", "500"),
        ("upload", "stock_take_action", "reset_after"),
    ],
)
def test_interrupted_sync_rerun_is_exactly_once(
    fake: FakeSlims, tmp_path: Path, mode: str, target: str, kind: str
) -> None:
    """A sync cut by a network drop or a 500 loses nothing and counts nothing twice on re-run."""
    codes = [*CODES[:30], "C0006"]
    fake.inject(target, kind, times=50, after=3)
    with fill(tmp_path / "s", codes) as store:
        up = Uploader(store, client(fake, retries=0), mode=mode, chunk=8, journal=tmp_path / "j")
        with pytest.raises(SyncError, match="run the sync again"):
            up.run()
        partial = {s.seq: s.sync for s in store.scans() if s.sync}
        fake.faults.clear()
        again = Uploader(store, client(fake), mode=mode, chunk=8, journal=tmp_path / "j").run()
        final = {s.seq: s.sync for s in store.scans()}
    assert again.complete and all(final[k] == v for k, v in partial.items())
    counts = Counter(str(v) for v in final.values())
    found = fake.found()
    assert found == {c for c in codes if c not in ("C0005", "C0006")}
    # Every found item is credited to this cart exactly once; none "already scanned".
    ok = counts["accepted"] + counts["uploaded"]
    assert ok == len(found) and counts["already_scanned"] == 0
    assert not (tmp_path / "j").exists()


def test_two_carts_at_once(fake: FakeSlims, tmp_path: Path) -> None:
    """Two carts syncing overlapping scans at the same time each item is found once."""
    a_codes, b_codes = CODES[0:40], CODES[20:N]
    errors: list[BaseException] = []
    results = {}

    def cart(name: str, codes: list[str], mode: str) -> None:
        try:
            with fill(tmp_path / name, codes) as store:
                Uploader(store, client(fake), mode=mode, chunk=7).run()
                results[name] = outcomes(store)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [
        threading.Thread(target=cart, args=("a", a_codes, "item")),
        threading.Thread(target=cart, args=("b", b_codes, "upload")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert fake.found() == {c for c in CODES[:N] if c not in ("C0005", "C0006")}
    for code in set(a_codes) & set(b_codes):
        pair = {results["a"][code], results["b"][code]}
        confirmed = {"accepted", "uploaded", "already_scanned"}
        assert pair <= confirmed and pair & {"accepted", "uploaded"}


def test_killed_process_rerun_is_exactly_once(fake: FakeSlims, tmp_path: Path) -> None:
    """kill -9 while SLiMS has accepted a scan but not answered: the re-run credits it once."""
    state = tmp_path / "state"
    codes = CODES[:12]
    with fill(state, codes):
        pass
    env = slims_cli_env(fake.url, PASSWORD, tmp_path / "kiosk.toml", KIOSK_STATE_DIR=str(state))
    fake.inject("stock_take_action", "hold_after", after=7)
    cmd = [sys.executable, "-m", "kiosk", "sync", "--mode", "item", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fake.held.wait(30), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        fake.release.set()
    # C0000..C0006 answered (C0005 on loan, C0006 skipped); C0007 accepted, never answered.
    assert fake.found() == {f"C{i:04d}" for i in (0, 1, 2, 3, 4, 7)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    with Store.open(state) as store:
        final = [s.sync for s in store.scans()]
    assert Counter(final) == {"accepted": 10, "on_loan": 1, "skipped_rule": 1}
    assert len(fake.found()) == 10


@pytest.mark.parametrize(
    "fake", RELEASES[:1] + RELEASES[3:4], indirect=True, ids=["9.4-id", "9.7-id"]
)
def test_stocktake_finished_mid_sync(fake: FakeSlims, tmp_path: Path) -> None:
    """If the stock take is finished during a sync, answers after it are not counted."""
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 3:
            fake.finish_stocktake()  # SLiMS keeps answering from the leftover list

    with fill(tmp_path / "s", CODES[10:20]) as store:
        up = Uploader(store, client(fake), mode="item", on_progress=progress)
        with pytest.raises(SyncError, match=r"ended \(or another began\) during the sync"):
            up.run()
        assert len(store.pending_sync()) == 10


def test_rescan_after_failed_run_is_not_credited(fake: FakeSlims, tmp_path: Path) -> None:
    """A re-scan of an item another cart found still reads 'already scanned' after a failed run."""
    fake.stocktake["C0001"] = "e"  # found by another cart first
    fake.inject("stock_take_action", "500", times=50, after=2)
    with fill(tmp_path / "s", ["C0001", "C0002", "C0003"]) as store:
        up = Uploader(store, client(fake, retries=0), mode="item", journal=tmp_path / "j")
        with pytest.raises(SyncError):
            up.run()
        fake.faults.clear()
        store.add_scan(code="C0001", verdict=Verdict.OK, scanner="s1", ts=2000.0)
        Uploader(store, client(fake), mode="item", journal=tmp_path / "j").run()
        assert [s.sync for s in store.scans()] == [
            "already_scanned",
            "accepted",
            "accepted",
            "already_scanned",
        ]


def test_failed_sync_closes_its_journal(fake: FakeSlims, tmp_path: Path) -> None:
    """A sync that fails leaves no journal file open in the daemon's process."""
    journal = tmp_path / "j"
    fake.inject("stock_take_action", "500", times=50, after=1)
    with fill(tmp_path / "s", ["C0001", "C0002"]) as store, pytest.raises(SyncError):
        Uploader(store, client(fake, retries=0), mode="item", journal=journal).run()
    assert journal.exists()
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("no /proc/self/fd to list open files")
    opened = set()
    for fd in fds.iterdir():
        try:
            opened.add(os.readlink(fd))
        except OSError:
            continue
    assert str(journal) not in opened


def test_file_mode_makes_the_rename_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload file's directory entry is on disk before any scan is marked exported."""
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    out = tmp_path / "out"
    out.mkdir()
    with fill(tmp_path / "s", ["C0001"]) as store:
        monkeypatch.setattr(os, "fsync", fsync)
        Uploader(store, None, out=out / "opname.txt").run()
    assert out.stat().st_ino in synced


def test_pick_strategy_follows_the_mode() -> None:
    """Each sync mode gets its strategy; auto picks by SLiMS's presence and the code count."""
    journal = Journal(None)
    c = SlimsClient("http://127.0.0.1:9/", "admin", Secret(PASSWORD))
    assert pick_strategy("auto", None, codes=5, journal=journal).mode == "file"
    assert pick_strategy("auto", c, codes=5, journal=journal).mode == "item"
    assert pick_strategy("auto", c, codes=1000, journal=journal).mode == "upload"
    assert pick_strategy("file", c, codes=5, journal=journal).mode == "file"
    assert pick_strategy("upload", c, codes=5, journal=journal).mode == "upload"
    with pytest.raises(SyncError, match="needs SLiMS"):
        pick_strategy("item", None, codes=5, journal=journal)
    with pytest.raises(SyncError, match="unknown sync mode"):
        pick_strategy("bulk", c, codes=5, journal=journal)
