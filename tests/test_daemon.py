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
