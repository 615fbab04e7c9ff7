"""A store reopened after a long day replays only what its last checkpoint lacks, never less."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kiosk.models import SyncOutcome, Verdict
from kiosk.store import Store, journal, replay
from kiosk.store.records import parse_line
from kiosk.store.summary import read_known
from tests.faults.store_kit import as_read, as_read_whole, kiosk


@pytest.fixture(autouse=True)
def often(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints every few records, as a day's journal has them every 256 KiB."""
    monkeypatch.setattr(journal, "CHECKPOINT_EVERY", 4096)


def _day(state: Path, *, first: int = 1) -> None:
    """A snapshot, then a day of work after it: sessions, runs, scans, answers, an undo."""
    with Store.open(state) as store:
        if first == 1:
            for i in range(1, 41):
                store.add_scan(code=f"B{i:04d}", verdict=Verdict.OK, scanner="t", ts=float(i))
            store._scans_db.storage.compact()
        sid = store.start_session(f"Shelves {first}")
        store.set_state(location="Stacks B")
        run = store.start_run("Stacks B")
        for i in range(first + 40, first + 100):
            store.add_scan(code=f"B{i:04d}", verdict=Verdict.OK, scanner="t", ts=i, run=run)
        store.set_sync({s.seq: SyncOutcome.ACCEPTED for s in store.pending_sync()[:70]})
        store.void(first + 60)
        assert store.current_session() == sid


def test_a_reopened_store_reads_only_the_journal_past_its_last_checkpoint(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a day of work, a start reads only the last checkpoint's few records, yet sees all."""
    _day(state_dir)
    known = read_known(state_dir / "scans.sum")
    assert known is not None and known.journal_at  # a checkpoint, well into the journal
    log = (state_dir / "scans.log").read_bytes()
    assert len(log) - known.journal_at < 2 * journal.CHECKPOINT_EVERY
    parsed: list[bytes] = []

    def spy(line: bytes) -> Any:
        parsed.append(line)
        return parse_line(line)

    monkeypatch.setattr(replay, "parse_line", spy)
    seen = as_read(state_dir)
    assert len(parsed) == 1 + log[known.journal_at :].count(b"\n")  # the header, then the rest
    monkeypatch.undo()
    assert seen == as_read_whole(state_dir)
    assert seen["runs"] and seen["state"]["location"] == "Stacks B" and not seen["losses"]


def test_a_writer_reopened_after_checkpoints_goes_on_where_it_stopped(state_dir: Path) -> None:
    """A daemon restarted twice keeps every scan, answer and undo of each day."""
    _day(state_dir)
    _day(state_dir, first=200)
    seen = as_read(state_dir)
    assert seen == as_read_whole(state_dir)
    assert len(seen["scans"]) == 40 + 60 + 60 and not seen["losses"]


@pytest.mark.parametrize("opener", ["status", "writer"])
def test_a_record_damaged_before_the_checkpoint_is_still_found(
    state_dir: Path, capsys: pytest.CaptureFixture[str], opener: str
) -> None:
    """A byte flipped in a record the checkpoint holds is reported, not covered up."""
    _day(state_dir)
    known = read_known(state_dir / "scans.sum")
    assert known is not None
    log = bytearray((state_dir / "scans.log").read_bytes())
    at = log.index(b'"B0095"')
    assert at < known.journal_at
    log[at + 2] ^= 1
    (state_dir / "scans.log").write_bytes(log)
    if opener == "status":
        status, out = kiosk(capsys, state_dir, "status")
        assert status == 0 and "DAMAGE" in out and "1 record(s) lost" in out
    else:
        with Store.open(state_dir) as store:
            (loss,) = store.losses()
            assert loss.lost == 1 and "B0095" not in store.scanned_codes()


def test_a_journal_cut_below_its_checkpoint_is_reported_as_a_loss(state_dir: Path) -> None:
    """A journal shorter than its checkpoint says is read whole and its loss counted."""
    _day(state_dir)
    known = read_known(state_dir / "scans.sum")
    assert known is not None
    log = (state_dir / "scans.log").read_bytes()
    cut = log.rindex(b"\n", 0, known.journal_at - 1) + 1
    (state_dir / "scans.log").write_bytes(log[:cut])
    (loss,) = as_read(state_dir)["losses"]
    assert "fewer changes than were acknowledged" in loss.what and loss.lost
    assert loss.lost == log[cut:].count(b"\n")


@pytest.mark.parametrize("damage", ["torn", "from before a compaction", "three bytes"])
def test_a_summary_that_does_not_fit_is_ignored(state_dir: Path, damage: str) -> None:
    """A checkpoint cut short by a power cut, or an old one put back, costs time, not scans."""
    _day(state_dir)
    old = (state_dir / "scans.sum").read_bytes()
    with Store.open(state_dir) as store:
        store.add_scan(code="B0999", verdict=Verdict.OK, scanner="t", ts=999.0)
        store._scans_db.storage.compact()
        store.add_scan(code="B1000", verdict=Verdict.OK, scanner="t", ts=1000.0)
    now = (state_dir / "scans.sum").read_bytes()
    damaged = {"torn": now[: len(now) // 2], "three bytes": b"0\n\n"}.get(damage, old)
    (state_dir / "scans.sum").write_bytes(damaged)
    seen = as_read(state_dir)
    assert seen == as_read_whole(state_dir)
    assert {"B0999", "B1000"} <= seen["codes"] and not seen["losses"]


def test_a_record_torn_after_a_checkpoint_is_cut_off_where_it_began(state_dir: Path) -> None:
    """A power cut mid-append after a checkpoint costs only that unconfirmed record."""
    _day(state_dir)
    log = state_dir / "scans.log"
    whole = log.read_bytes()
    known = read_known(state_dir / "scans.sum")
    assert known is not None and 0 < known.journal_at < len(whole)
    with log.open("ab") as f:
        f.write(b'0badf00d {"t":"scans","n":999,"p":{"999":{"seq":999,"co')
    with Store.open(state_dir) as store:
        assert not store.losses()
    assert log.read_bytes() == whole
    seen = as_read(state_dir)
    assert seen == as_read_whole(state_dir) and not seen["losses"]


def test_a_restarted_cart_checkpoints_again_only_once_its_journal_has_grown(
    state_dir: Path,
) -> None:
    """The first scan after a restart is not held up writing a checkpoint nothing needs yet."""
    _day(state_dir)
    before = (state_dir / "scans.sum").read_bytes()
    with Store.open(state_dir, compact=False) as store:
        store.add_scan(code="B0999", verdict=Verdict.OK, scanner="t", ts=999.0)
        assert (state_dir / "scans.sum").read_bytes() == before
