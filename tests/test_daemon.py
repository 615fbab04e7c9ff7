"""The scan loop in-process: store first, then print and signal."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.clock import Clock
from kiosk.config import Config
from kiosk.daemon import Daemon
from kiosk.exc import StoreFull
from kiosk.feedback import LogFeedback, Status
from kiosk.models import Item, ProblemKind, Scan, SyncOutcome, Verdict
from kiosk.scanner.stdin import StdinSource
from kiosk.store import Store
from tests.helpers import shelf_items


class RecordingFeedback(LogFeedback):
    """What the librarian would have seen and heard; tests wait on it, never sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.verdicts: list[Verdict] = []
        self.problems: list[ProblemKind] = []
        self.details: list[tuple[str, ...]] = []
        self.resolved: list[ProblemKind] = []
        self.closed = False
        self._cond = threading.Condition()

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        self.verdicts.append(scan.verdict)

    def problem(self, kind: ProblemKind, message: str, *details: str) -> None:
        with self._cond:
            self.problems.append(kind)
            self.details.append(details)
            self._cond.notify_all()

    def resolve(self, kind: ProblemKind) -> None:
        with self._cond:
            self.resolved.append(kind)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[], bool]) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout=10)

    def close(self) -> None:
        self.closed = True


def run(
    state_dir: Path, lines: str, store_cls: type[Store] = Store
) -> tuple[list[dict[str, Any]], RecordingFeedback, Store]:
    out = io.StringIO()
    fb = RecordingFeedback()
    store = store_cls(state_dir)
    try:
        Daemon(Config(), store, [StdinSource(io.StringIO(lines))], fb, out=out).run()
    finally:
        store.close()
    return [json.loads(line) for line in out.getvalue().splitlines()], fb, store


def test_each_scan_is_printed_stored_and_signalled(state_dir: Path) -> None:
    """Every barcode line yields one JSON line, one stored scan and one feedback signal."""
    printed, fb, _ = run(state_dir, "B0001\nB0002\nB9999\nB0001\n")
    assert [p["verdict"] for p in printed] == ["ok", "ok", "unknown", "duplicate"]
    assert [p["seq"] for p in printed] == [1, 2, 3, 4]
    assert fb.verdicts == [Verdict.OK, Verdict.OK, Verdict.UNKNOWN, Verdict.DUPLICATE]
    assert fb.closed
    with Store.open_readonly(state_dir) as store:
        assert [s.to_dict() for s in store.scans()] == printed


def test_empty_lines_are_ignored(state_dir: Path) -> None:
    """A blank line from the scanner is not a scan and does not stop the loop."""
    printed, _, _ = run(state_dir, "\n   \nB0001\n")
    assert [p["code"] for p in printed] == ["B0001"]


def test_undo_command_takes_back_the_last_item(state_dir: Path) -> None:
    """KIOSK:undo voids the previous scan, so rescanning that book is ok again."""
    printed, _, _ = run(state_dir, "B0001\nB0002\nKIOSK:undo\nB0002\n")
    assert [p["verdict"] for p in printed] == ["ok", "ok", "command", "ok"]
    with Store.open_readonly(state_dir) as store:
        assert [s.code for s in store.scans()] == ["B0001", "KIOSK:undo", "B0002"]
        assert [s.seq for s in store.scans(include_voided=True) if s.voided] == [2]


def test_location_survives_a_restart(state_dir: Path) -> None:
    """The location set by command barcode is still in force after the daemon restarts."""
    run(state_dir, "KIOSK:location:Fiksi\n")
    printed, _, _ = run(state_dir, "B0001\n")
    assert printed[0]["verdict"] == "wrong_location"
    assert printed[0]["location"] == "Fiksi"


def test_full_disk_is_signalled_and_nothing_printed(state_dir: Path) -> None:
    """When the disk is full, the scan is not acknowledged: an error signal, no JSON line."""

    class FullStore(Store):
        def add_scan(self, **kw: object) -> Scan:
            raise StoreFull(28, "disk full: cannot write scans")

    printed, fb, _ = run(state_dir, "B0001\n", FullStore)
    assert printed == []
    assert fb.verdicts == [Verdict.ERROR]
    assert "low_disk" in fb.problems


def test_scans_before_the_clock_is_set_are_dated_honestly(state_dir: Path) -> None:
    """A scan made while the clock was wrong gets its true time once the clock syncs that boot."""
    from kiosk.clock import Clock, SyncState, dated
    from kiosk.models import Barcode

    class Pi:  # the Pi's clocks, moved by hand
        wall, mono, state = 1000.0, 10.0, SyncState.UNSYNCED

    clock = Clock(
        wall=lambda: Pi.wall,
        mono=lambda: Pi.mono,
        boot_id="boot-1",
        probe=lambda: Pi.state,
        probe_every=0,
    )
    with Store(state_dir) as store:
        daemon = Daemon(Config(), store, [], RecordingFeedback(), clock=clock)
        early = daemon.handle(Barcode("B0001", "t", 0.0))
        assert early is not None
        assert not dated(early.stamp, early.ts, store.anchors()).exact  # nobody knows the time yet
        Pi.wall, Pi.mono, Pi.state = 1_800_000_000.0, 20.0, SyncState.SYNCED
        daemon.handle(Barcode("B0002", "t", 0.0))
    with Store.open_readonly(state_dir) as store:
        first, second = store.scans()
        anchors = store.anchors()
    assert dated(first.stamp, first.ts, anchors).exact
    assert dated(first.stamp, first.ts, anchors).wall == 1_800_000_000.0 - 10.0
    assert dated(second.stamp, second.ts, anchors).wall == 1_800_000_000.0
    assert first.seq < second.seq


def test_sync_command_from_the_cart_reaches_slims(tmp_path: Path) -> None:
    """Scanning KIOSK:sync sends found items to SLiMS, each marked accepted; scanning goes on."""
    from kiosk.config import Slims
    from kiosk.models import Barcode
    from kiosk.sync_worker import SyncWorker
    from tests.fakeslims import FakeItem, FakeSlims, User

    items = [FakeItem(it.code, it.title, it.call_number) for it in shelf_items()]
    with FakeSlims(items, users={"admin": User("pw")}) as slims:
        slims.start_stocktake()
        creds = tmp_path / "credentials.toml"
        creds.write_text('password = "pw"\n')
        creds.chmod(0o600)
        slims_cfg = Slims(url=slims.url, username="admin", credentials_file=str(creds), retries=0)
        cfg = Config(slims=slims_cfg, state_dir=str(tmp_path / "state"))
        with Store.open(cfg.state_path) as store:
            store.replace_catalog(shelf_items(), source="test")
            fb = RecordingFeedback()
            worker = SyncWorker(cfg, store, fb)
            daemon = Daemon(cfg, store, [], fb, sync=worker)
            for code in ("B0001", "B0002", "KIOSK:sync"):
                daemon.handle(Barcode(code, "t", 0.0))
            assert worker.finished.wait(30)
            daemon.handle(Barcode("B0003", "t", 0.0))  # scanning goes on after the sync
            outcomes = {s.code: s.sync for s in store.scans()}
        assert outcomes == {
            "B0001": "accepted",
            "B0002": "accepted",
            "KIOSK:sync": None,
            "B0003": None,
        }
        assert slims.stocktake["B0001"] == slims.stocktake["B0002"] == "e"
        assert slims.stocktake["B0003"] == "m"


def test_sync_without_slims_writes_the_upload_file(tmp_path: Path) -> None:
    """With no SLiMS, a sync from the cart writes the upload file; the scan still awaits SLiMS."""
    from kiosk.config import Slims
    from kiosk.models import Barcode
    from kiosk.sync_worker import SyncWorker

    cfg = Config(slims=Slims(credentials_file="", export_dirs=()), state_dir=str(tmp_path / "s"))
    with Store.open(cfg.state_path) as store:
        store.replace_catalog(shelf_items(), source="test")
        worker = SyncWorker(cfg, store, RecordingFeedback())
        daemon = Daemon(cfg, store, [], RecordingFeedback(), sync=worker)
        for code in ("B0004", "KIOSK:sync"):
            daemon.handle(Barcode(code, "t", 0.0))
        assert worker.finished.wait(30)
        assert store.pending_count() == 1 and store.exported_count() == 1
        assert daemon.status().exported == 1
    (export,) = (cfg.state_path / "exports").iterdir()
    assert export.read_text().split() == ["B0004"]


def test_undo_takes_back_a_mistaken_no_label_tally(state_dir: Path) -> None:
    """Undo right after KIOSK:nolabel removes that tally, not the book before it."""
    run(state_dir, "B0001\nKIOSK:nolabel\nKIOSK:undo\n")
    with Store.open_readonly(state_dir) as store:
        assert [s.code for s in store.scans()] == ["B0001", "KIOSK:undo"]


def test_missing_scanner_is_shown_until_one_is_plugged_in(state_dir: Path) -> None:
    """With no scanner the cart shows a 'no scanner' problem; plugging one in clears it."""
    from kiosk.config import Scanner
    from kiosk.scanner.discovery import Node
    from kiosk.scanner.evdev import EvdevSource, PipeDevice

    nodes: list[Node] = []
    dev = PipeDevice("cart scanner")
    src = EvdevSource(
        Scanner(), discover=lambda: list(nodes), open_device=lambda _n: dev, watch=None
    )
    fb = RecordingFeedback()
    with Store(state_dir) as store:
        daemon = Daemon(Config(), store, [src], fb)
        loop = threading.Thread(target=daemon.run)
        loop.start()
        try:
            assert fb.wait_for(lambda: "no_scanner" in fb.problems)
            nodes.append(Node(path="/dev/input/event3", name="cart scanner", use=True, label="c"))
            src.notify("add", "/dev/input/event3")
            assert fb.wait_for(lambda: "no_scanner" in fb.resolved)
        finally:
            daemon.stop()
            loop.join(10)


def test_undo_of_an_already_synced_scan_is_refused(state_dir: Path) -> None:
    """Undo cannot take back a book SLiMS has already counted; the cart says so instead."""
    from kiosk.models import Barcode

    fb = RecordingFeedback()
    with Store(state_dir) as store:
        daemon = Daemon(Config(), store, [], fb)
        scan = daemon.handle(Barcode("B0001", "t", 0.0))
        assert scan is not None
        store.set_sync({scan.seq: SyncOutcome.ACCEPTED})
        daemon.handle(Barcode("KIOSK:undo", "t", 0.0))
        assert [s.code for s in store.scans()] == ["B0001", "KIOSK:undo"]
    assert "undo" in fb.problems


def test_damaged_store_set_aside_is_shown_on_the_cart(state_dir: Path) -> None:
    """When an earlier store was set aside as damaged, the cart says so while it scans on."""
    (state_dir / "scans.log.corrupt-20261123-101500").write_text("damaged")
    printed, fb, _ = run(state_dir, "B0001\n")
    assert "store" in fb.problems
    assert [p["verdict"] for p in printed] == ["ok"]


def test_failed_shelf_order_turns_misshelf_alerts_off_not_scanning(
    state_dir: Path, monkeypatch: Any, caplog: Any
) -> None:
    """If the shelf order cannot be built, scanning goes on without misshelf alerts and says so."""
    from kiosk.engine.shelf import ShelfOrder
    from kiosk.models import Barcode

    def broken(items: Any) -> Any:
        raise ValueError("unreadable catalogue")

    monkeypatch.setattr(ShelfOrder, "by_location", staticmethod(broken))
    with Store(state_dir) as store:
        store.replace_catalog(shelf_items(), source="test")
        store.start_run("Rak Umum")
        daemon = Daemon(Config(), store, [], RecordingFeedback())
        verdicts = [daemon.handle(Barcode(c, "t", 0.0)) for c in ("B0001", "B0011", "B0002")]
    assert [s.verdict for s in verdicts if s is not None] == [Verdict.OK] * 3
    assert "misshelf alerts are off" in caplog.text


def test_misshelved_book_among_the_first_scans_after_a_restart_is_flagged(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Right after a restart on a 50,000-item catalogue, the first book out of order is flagged."""
    from kiosk.engine.shelf import ShelfOrder
    from kiosk.models import Barcode

    catalog = [
        Item(f"B{i:05d}", f"{i // 50:03d}.{i % 50:02d} ABC", f"Book {i}", f"Rak {i % 4}")
        for i in range(50_000)
    ]
    with Store(tmp_path) as store:
        store.replace_catalog(catalog, source="test")
        store.start_run("Rak 0")

    def no_sorting(*_args: Any, **_kw: Any) -> Any:
        raise AssertionError("call numbers sorted at start")

    monkeypatch.setattr(ShelfOrder, "__init__", no_sorting)  # the order made at import is used
    with Store(tmp_path) as store:
        daemon = Daemon(Config(), store, [], RecordingFeedback())
        walk = [f"B{i:05d}" for i in (400, 404, 408, 412, 416, 40_000)]
        scans = [daemon.handle(Barcode(code, "t", 0.0)) for code in walk]
    assert [s.verdict if s else None for s in scans] == [Verdict.OK] * 5 + [Verdict.MISSHELVED]


class StatusFeedback(RecordingFeedback):
    """Also keeps the cart's status after each scan, as the screens receive it."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[Status] = []

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        super().scan(scan, item, status)
        self.statuses.append(status)


def walk(
    state_dir: Path, lines: str, cfg: Config | None = None, clock: Clock | None = None
) -> StatusFeedback:
    fb = StatusFeedback()
    with Store.open(state_dir) as store:
        sources = [StdinSource(io.StringIO(lines))]
        Daemon(cfg or Config(), store, sources, fb, clock=clock).run()
    return fb


def test_new_run_screen_knows_the_run_and_the_span_walked(state_dir: Path) -> None:
    """After KIOSK:run the cart knows the new run and the call numbers the last one covered."""
    fb = walk(state_dir, "KIOSK:location:rak umum\nB0001\nB0002\nB0003\nKIOSK:run\n")
    after = fb.statuses[-1]
    assert fb.statuses[0].location == "Rak Umum"  # the catalogue's spelling
    assert after.run == fb.statuses[0].run + 1
    assert after.last_span == ("001.4 ARI p", "020 SUL p")


def test_no_label_tally_counts_per_location_and_survives_a_restart(state_dir: Path) -> None:
    """The NO LABEL screen's tally counts this location's unlabelled books, undo included."""
    fb = walk(state_dir, "KIOSK:location:Fiksi\nKIOSK:nolabel\nKIOSK:nolabel\nKIOSK:undo\n")
    assert [s.nolabel for s in fb.statuses] == [0, 1, 2, 1]
    again = walk(state_dir, "KIOSK:nolabel\nKIOSK:location:Rak Umum\nKIOSK:nolabel\n")
    assert [s.nolabel for s in again.statuses] == [2, 0, 1]


def test_unknown_location_is_a_problem_not_a_chirp(state_dir: Path) -> None:
    """A location barcode naming no catalogue location is refused, stored nowhere, and named."""
    fb = walk(state_dir, "KIOSK:location:Fiksii\nB0001\n")
    assert fb.problems == [ProblemKind.LOCATION]
    assert fb.details == [("Fiksii", "Fiksi")]
    assert fb.verdicts == [Verdict.OK]  # the next book is not WRONG PLACE
    with Store.open_readonly(state_dir) as store:
        assert [s.code for s in store.scans()] == ["B0001"]


def test_empty_catalogue_is_shown_as_a_problem(tmp_path: Path) -> None:
    """With no catalogue every scan would be UNKNOWN: the cart says so at start."""
    fb = walk(tmp_path / "empty", "")
    assert fb.problems == [ProblemKind.CATALOG] and fb.details == [()]


def test_stale_catalogue_is_shown_with_its_age(state_dir: Path) -> None:
    """A catalogue older than stocktake.catalog_max_age_days is a problem naming its age."""
    import time

    from kiosk.config import StockTake

    cfg = Config(stocktake=StockTake(catalog_max_age_days=2))
    assert walk(state_dir, "", cfg).problems == []
    later = Clock(wall=lambda: time.time() + 3 * 86_400)
    stale = walk(state_dir, "", cfg, clock=later)
    assert stale.problems == [ProblemKind.CATALOG] and stale.details == [("3",)]
