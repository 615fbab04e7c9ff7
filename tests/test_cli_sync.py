"""`kiosk sync` in file mode: honest words, a documented place, and how to get the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.models import Verdict
from kiosk.slims.file_export import export_dir
from kiosk.store import Store, journal
from tests.helpers import kiosk


def test_file_sync_says_not_yet_in_slims(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """File mode never says "confirmed": the scans are in the file, not yet in SLiMS."""
    with Store.open(state_dir) as store:
        for i, code in enumerate(("B0001", "B0002")):
            store.add_scan(code=code, verdict=Verdict.OK, scanner="s", ts=float(i))
    cfg = state_dir.parent / "kiosk.toml"
    cfg.write_text("[slims]\nexport_dirs = []\n")
    res = kiosk("--config", str(cfg), "--state-dir", str(state_dir), "sync", env=kiosk_env)
    assert res.returncode == 0, res.stderr
    assert "2 of 2 scans in the upload file, not yet in SLiMS" in res.stdout
    assert "confirmed" not in res.stdout.split("\n")[0]
    (export,) = (state_dir / "exports").iterdir()
    assert f"file: {export}" in res.stdout and "scp " in res.stdout
    assert "Stock Take" in res.stdout
    status = kiosk("--state-dir", str(state_dir), "status", env=kiosk_env)
    assert "not yet in SLiMS: 2" in status.stdout
    assert "of which in the upload file: 2" in status.stdout


def test_export_dir_falls_back_to_the_state_exports(tmp_path: Path) -> None:
    """Plain folders matching the patterns are no USB stick: the file goes to state/exports."""
    (tmp_path / "media" / "pi").mkdir(parents=True)
    fallback = tmp_path / "state" / "exports"
    assert export_dir([str(tmp_path / "media" / "*")], fallback) == (fallback, False)
    assert fallback.is_dir()


@pytest.mark.skipif(
    not (os.path.ismount("/dev/shm") and os.access("/dev/shm", os.W_OK)),
    reason="needs a writable mount point to stand in for a USB stick",
)
def test_export_dir_prefers_a_mounted_stick(tmp_path: Path) -> None:
    """A writable mount point matching the patterns (a USB stick) wins over the SD card."""
    assert export_dir(["/nonexistent/*", "/dev/sh[m]"], tmp_path / "x") == (Path("/dev/shm"), True)


def test_sync_sends_first_and_leaves_a_grown_journal_to_the_daemon(
    state_dir: Path, kiosk_env: dict[str, str]
) -> None:
    """`kiosk sync` does not fold a grown journal into a snapshot first; the daemon's open does."""
    with Store.open(state_dir) as store:
        n = 0
        while (state_dir / "scans.log").stat().st_size <= journal.COMPACT_ON_OPEN:
            n += 1
            store.add_scan(code=f"B{n:08d}", verdict=Verdict.OK, scanner="s", ts=float(n))
    cfg = state_dir.parent / "kiosk.toml"
    cfg.write_text("[slims]\nexport_dirs = []\n")
    res = kiosk("--config", str(cfg), "--state-dir", str(state_dir), "sync", env=kiosk_env)
    assert res.returncode == 0, res.stderr
    assert f"{n:,} of {n:,} scans in the upload file" in res.stdout
    assert (state_dir / "scans.log").stat().st_size > journal.COMPACT_ON_OPEN  # left as it was
    with Store.open(state_dir) as store:  # as the daemon opens it: it compacts on a thread
        store._scans_db.storage.settle()
        assert (state_dir / "scans.log").stat().st_size < 1000
        assert len(store.pending_sync()) == n
