"""The scan loop in-process: store first, then print and signal."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kiosk.config import Config
from kiosk.daemon import Daemon
from kiosk.exc import StoreFull
from kiosk.feedback import LogFeedback, Status
from kiosk.models import Item, Scan, Verdict
from kiosk.scanner.stdin import StdinSource
from kiosk.store import Store


class RecordingFeedback(LogFeedback):
    def __init__(self) -> None:
        super().__init__()
        self.verdicts: list[Verdict] = []
        self.problems: list[str] = []
        self.closed = False

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        self.verdicts.append(scan.verdict)

    def problem(self, kind: str, message: str) -> None:
        self.problems.append(kind)

    def close(self) -> None:
        self.closed = True


def run(state_dir: Path, lines: str, store_cls: type[Store] = Store) -> tuple[list[dict], RecordingFeedback, Store]:
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
    """A scan made while the Pi's clock was wrong gets its true time once the clock syncs that boot."""
    from kiosk.cli.scans import anchors_of, dated
    from kiosk.clock import Clock, SyncState
    from kiosk.models import Barcode

    now = {"wall": 1000.0, "mono": 10.0, "state": SyncState.UNSYNCED}
    clock = Clock(
        wall=lambda: now["wall"], mono=lambda: now["mono"], boot_id="boot-1",
        probe=lambda: now["state"], probe_every=0,
    )
    with Store(state_dir) as store:
        daemon = Daemon(Config(), store, [], RecordingFeedback(), clock=clock)
        early = daemon.handle(Barcode("B0001", "t", 0.0))
        assert early is not None
        assert not dated(early, anchors_of(store)).exact  # nobody knows the time yet
        now.update(wall=1_800_000_000.0, mono=20.0, state=SyncState.SYNCED)
        daemon.handle(Barcode("B0002", "t", 0.0))
    with Store.open_readonly(state_dir) as store:
        first, second = store.scans()
        anchors = anchors_of(store)
    assert dated(first, anchors).exact
    assert dated(first, anchors).wall == 1_800_000_000.0 - 10.0
    assert dated(second, anchors).wall == 1_800_000_000.0
    assert first.seq < second.seq
