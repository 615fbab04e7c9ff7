"""Damage to the scan store costs only what is damaged, and is never silent."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kiosk.models import ProblemKind, Verdict
from kiosk.store import Store, verified
from tests.faults.store_kit import kiosk, run_cart


def _scans(state: Path, n: int, *, compact: bool = False) -> None:
    with Store.open(state) as store:
        for i in range(1, n + 1):
            store.add_scan(code=f"B{i:04d}", verdict=Verdict.OK, scanner="t", ts=float(i))
        if compact:
            store._scans_db.storage.compact()


def _live(state: Path) -> list[int]:
    with Store.open_readonly(state) as store:
        return [s.seq for s in store.scans()]


def _journal_lines(state: Path) -> list[bytes]:
    return (state / "scans.log").read_bytes().split(b"\n")


def _scan_line(lines: list[bytes], seq: int) -> int:
    """Index of the journal line that stored scan ``seq``."""
    key = b'"p":{"%d":{"seq":%d,' % (seq, seq)
    return next(i for i, line in enumerate(lines) if key in line)


@pytest.mark.parametrize("damage", ["flipped byte", "block of NULs"])
def test_a_bad_middle_record_costs_that_scan_only(
    state_dir: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """One damaged journal record loses one scan; status, doctor and the cart all say so."""
    _scans(state_dir, 6)
    lines = _journal_lines(state_dir)
    i = _scan_line(lines, 3)
    if damage == "flipped byte":
        lines[i] = lines[i].replace(b"B0003", b"B0008")
    else:
        lines[i] = lines[i][:20] + b"\0" * 40 + lines[i][60:]
    (state_dir / "scans.log").write_bytes(b"\n".join(lines))

    status, out = kiosk(capsys, state_dir, "status")
    assert status == 0 and "scans: 5" in out and "DAMAGE" in out and "1 record(s) lost" in out
    status, out = kiosk(capsys, state_dir, "doctor")
    assert "damage found" in out

    _printed, fb = run_cart(state_dir, "B0005\n")
    assert ProblemKind.STORE in fb.problems
    assert _live(state_dir) == [1, 2, 4, 5, 6, 7]
    assert list(state_dir.glob("scans.log.corrupt-*"))
    status, out = kiosk(capsys, state_dir, "report")
    assert "store damage" in out and "1 record(s) lost" in out


def test_a_report_written_to_a_file_carries_the_damage(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report file itself (HTML, text, CSV, JSON) says scans were lost, not only stderr."""
    _scans(state_dir, 6)
    lines = _journal_lines(state_dir)
    i = _scan_line(lines, 3)
    lines[i] = lines[i].replace(b"B0003", b"B0008")
    (state_dir / "scans.log").write_bytes(b"\n".join(lines))
    files = {ext: tmp_path / f"report.{ext}" for ext in ("html", "txt", "csv", "json")}
    for path in files.values():
        status, _out = kiosk(capsys, state_dir, "report", "--out", str(path))
        assert status == 0
    assert "class='damage'" in files["html"].read_text()
    assert "1 stored record(s) could not be read" in files["txt"].read_text()
    assert files["csv"].read_text().splitlines()[1].startswith("store_damage,")
    (damage,) = json.loads(files["json"].read_text())["store_damage"]
    assert damage["lost"] == 1 and "damaged record" in damage["what"]


def test_a_damaged_snapshot_line_keeps_every_other_scan_and_the_journal(state_dir: Path) -> None:
    """A bad line in the snapshot costs that scan; the journal after it still counts."""
    _scans(state_dir, 4, compact=True)
    with Store.open(state_dir) as store:
        store.add_scan(code="B0005", verdict=Verdict.OK, scanner="t", ts=5.0)
    snap = (state_dir / "scans.json").read_bytes()
    (state_dir / "scans.json").write_bytes(snap.replace(b'"B0002"', b'"B00\xff2"'))
    with Store.open(state_dir) as store:
        assert [s.seq for s in store.scans()] == [1, 3, 4, 5]
        (loss,) = store.losses()
        assert loss.lost == 1


@pytest.mark.parametrize("opener", ["status", "writer"])
def test_a_snapshot_changed_after_its_summary_was_saved_is_not_trusted(
    state_dir: Path, capsys: pytest.CaptureFixture[str], opener: str
) -> None:
    """A byte flipped in a summarised snapshot is found by status and by a writer alike."""
    _scans(state_dir, 30, compact=True)
    assert (state_dir / "scans.sum").exists()  # the summary that lets openers skip the scans
    with Store.open(state_dir) as store:
        store.add_scan(code="B0031", verdict=Verdict.OK, scanner="t", ts=31.0)
    snap = (state_dir / "scans.json").read_bytes()
    (state_dir / "scans.json").write_bytes(snap.replace(b'"B0017"', b'"B0071"'))  # same size
    if opener == "status":
        status, out = kiosk(capsys, state_dir, "status")
        assert status == 0 and "DAMAGE" in out and "checksum" in out and "scans: 31" in out
    else:
        with Store.open(state_dir) as store:
            assert len(store.scans()) == 31
            (loss,) = store.losses()
            assert "checksum" in loss.what


def _settled(path: Path) -> int:
    """Date ``path`` a minute back, as a snapshot written before today's start; its new time."""
    when = path.stat().st_mtime_ns - 60_000_000_000
    os.utime(path, ns=(when, when))
    return when


def _card_changes(path: Path, old: bytes, new: bytes, when: int) -> None:
    """Change bytes of ``path`` in place behind the file system's back: its time stays."""
    data = path.read_bytes()
    assert len(old) == len(new) and old in data
    path.write_bytes(data.replace(old, new))
    os.utime(path, ns=(when, when))


def _reboot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, boot: str) -> None:
    boot_id = tmp_path / f"boot_id-{boot}"
    boot_id.write_text(f"{boot}\n")
    monkeypatch.setattr(verified, "BOOT_ID", boot_id)


def _started(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, settled: bool
) -> tuple[Path, int]:
    """A summarised store opened once by the cart's start, in boot "first"; snapshot, its time.

    ``settled``: the snapshot was written well before that start, not just now.
    """
    _reboot(tmp_path, monkeypatch, "first")
    _scans(state_dir, 30, compact=True)
    snapshot = state_dir / "scans.json"
    when = _settled(snapshot) if settled else snapshot.stat().st_mtime_ns
    with Store.open(state_dir):  # the cart's start: the first opener of this boot
        pass
    return snapshot, when


def _only_loss(state_dir: Path) -> str:
    """What the one loss a read-only opener finds says."""
    with Store.open_readonly(state_dir) as store:
        (loss,) = store.losses()
        return loss.what


def test_a_snapshot_is_read_through_for_its_checksum_once_per_boot(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the cart's start checked the snapshot, status trusts it until the next boot."""
    snapshot, when = _started(state_dir, tmp_path, monkeypatch, settled=True)
    _card_changes(snapshot, b'"B0017"', b'"B0071"', when)
    with Store.open_readonly(state_dir) as store:
        assert store.losses() == []  # checked at the start of this boot; not read again
    _reboot(tmp_path, monkeypatch, "second")
    assert "checksum" in _only_loss(state_dir)


def test_a_snapshot_changed_through_the_file_system_is_checked_again(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot rewritten after this boot's check is read through again, and its damage found."""
    snapshot, _when = _started(state_dir, tmp_path, monkeypatch, settled=True)
    data = snapshot.read_bytes()
    snapshot.write_bytes(data.replace(b'"B0017"', b'"B0071"'))  # same size, a new time
    assert "checksum" in _only_loss(state_dir)


def test_a_snapshot_checked_just_after_it_was_written_is_checked_again(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check made within the file system's clock tick of the last write vouches for nothing."""
    snapshot, when = _started(state_dir, tmp_path, monkeypatch, settled=False)
    _card_changes(snapshot, b'"B0017"', b'"B0071"', when)  # a change now might keep its time
    assert "checksum" in _only_loss(state_dir)


def test_a_deleted_journal_before_the_first_compaction_is_detected(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Losing the journal of a young store (no snapshot yet) is reported, never silent."""
    _scans(state_dir, 3)
    (state_dir / "scans.log").unlink()
    _status, out = kiosk(capsys, state_dir, "status")
    assert "scans: 0" in out and "DAMAGE" in out and "missing" in out


def test_a_zero_length_journal_is_detected(state_dir: Path) -> None:
    """A journal cut to nothing is reported with how many changes were acknowledged."""
    _scans(state_dir, 3)
    (state_dir / "scans.log").write_bytes(b"")
    with Store.open(state_dir) as store:
        (loss,) = store.losses()
        assert loss.lost is not None and loss.lost >= 1


def test_a_journal_cut_short_below_the_mark_is_detected(state_dir: Path) -> None:
    """A journal holding fewer records than were acknowledged is reported as a loss."""
    _scans(state_dir, 70)  # the mark is written after the 1st and the 65th change
    lines = _journal_lines(state_dir)
    (state_dir / "scans.log").write_bytes(b"\n".join(lines[:10]) + b"\n")
    with Store.open_readonly(state_dir) as store:
        (loss,) = store.losses()
        assert "fewer changes" in loss.what and loss.lost is not None and loss.lost > 50


def test_a_journal_cut_at_a_record_boundary_after_a_clean_stop_is_detected(
    state_dir: Path,
) -> None:
    """Records cut off the end between two durable marks are still counted, exactly."""
    _scans(state_dir, 70)  # the durable mark counts up to the 65th change; the rest in place
    lines = _journal_lines(state_dir)
    (state_dir / "scans.log").write_bytes(b"\n".join(lines[:-4]) + b"\n")  # scans 68-70
    with Store.open_readonly(state_dir) as store:
        (loss,) = store.losses()
        assert "fewer changes than were acknowledged" in loss.what and loss.lost == 3
        assert [s.seq for s in store.scans()] == list(range(1, 68))


def test_recover_gets_back_what_an_earlier_copy_still_holds(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk store recover` takes a scan lost in the snapshot from a journal set aside earlier."""
    _scans(state_dir, 5)
    shutil.copy(state_dir / "scans.log", state_dir / "scans.log.corrupt-20260101T000000-1")
    with Store.open(state_dir) as store:
        store._scans_db.storage.compact()
    snap = (state_dir / "scans.json").read_bytes()
    (state_dir / "scans.json").write_bytes(snap.replace(b'{"seq":3,', b'{"seq":3;'))
    assert _live(state_dir) == [1, 2, 4, 5]

    status, out = kiosk(capsys, state_dir, "store", "recover")
    assert status == 0, out
    assert "recovered: 5 scan(s)" in out and "no scan is missing" in out
    assert _live(state_dir) == [1, 2, 3, 4, 5]
    with Store.open(state_dir) as store:
        assert store.losses() == [] and store.damaged_files() == []
    (kept,) = state_dir.glob("recovered-*")
    assert (kept / "scans.log.corrupt-20260101T000000-1").exists()


def test_recover_says_exactly_which_scans_no_copy_holds(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What cannot be recovered is named by scan number, and the exit status says so."""
    _scans(state_dir, 5)
    lines = _journal_lines(state_dir)
    lines[_scan_line(lines, 2)] = b"0" * 30
    (state_dir / "scans.log").write_bytes(b"\n".join(lines))
    status, out = kiosk(capsys, state_dir, "store", "recover")
    assert status == 1 and "lost: 1 scan(s), numbers 2" in out
    status, out = kiosk(capsys, state_dir, "status")
    assert "DAMAGE" in out and "1 record(s) lost" in out


def test_recover_refuses_while_the_daemon_holds_the_store(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Recovery never runs beside the daemon: one line, exit status 1, nothing changed."""
    _scans(state_dir, 2)
    before = sorted(p.name for p in state_dir.iterdir())
    with Store.open(state_dir):
        status, out = kiosk(capsys, state_dir, "store", "recover")
    assert status == 1 and out.count("\n") == 1 and "in use" in out
    assert sorted(p.name for p in state_dir.iterdir()) == before


def test_a_deleted_snapshot_is_reported_as_such(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A snapshot gone after a compaction is named as lost, not as a store that keeps changing."""
    _scans(state_dir, 3, compact=True)
    (state_dir / "scans.json").unlink()
    status, out = kiosk(capsys, state_dir, "status")
    assert status == 0 and "DAMAGE" in out and "keeps changing" not in out
