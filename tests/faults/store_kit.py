"""Helpers for the store's fault tests: a cart run in-process, a disk that fills up."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import cli
from kiosk.config import Config
from kiosk.daemon import Daemon
from kiosk.scanner.stdin import StdinSource
from kiosk.store import Store
from tests.test_daemon import RecordingFeedback


def run_cart(state_dir: Path, lines: str) -> tuple[list[dict[str, Any]], RecordingFeedback]:
    """Feed ``lines`` through the real scan loop; returns the acknowledged scans and feedback."""
    out = io.StringIO()
    fb = RecordingFeedback()
    with Store.open(state_dir) as store:
        Daemon(Config(), store, [StdinSource(io.StringIO(lines))], fb, out=out).run()
    return [json.loads(line) for line in out.getvalue().splitlines()], fb


def as_read(state: Path) -> dict[str, Any]:
    """What a read-only opener (``kiosk status``, a report) sees of a store."""
    with Store.open_readonly(state) as store:
        return {
            "scans": store.scans(include_voided=True),
            "counts": store.counts(),
            "pending": [s.seq for s in store.pending_sync()],
            "codes": store.scanned_codes(),
            "sessions": store.sessions(),
            "runs": store.runs(),
            "state": store.state(),
            "losses": store.losses(),
        }


def as_read_whole(state: Path) -> dict[str, Any]:
    """What :func:`as_read` gives of a copy without its saved summary: every line read."""
    copy = state.with_name(state.name + "-whole")
    shutil.copytree(state, copy)
    (copy / "scans.sum").unlink(missing_ok=True)
    return as_read(copy)


def kiosk(capsys: pytest.CaptureFixture[str], state_dir: Path, *argv: str) -> tuple[int, str]:
    """Run one ``kiosk`` verb in-process: (exit status, standard output + error)."""
    status = cli.main(["--state-dir", str(state_dir), *argv])
    out = capsys.readouterr()
    return status, out.out + out.err


class Disk:
    """Makes ``os.write``/``os.fsync`` fail with ENOSPC for files in one folder, on demand.

    ``full`` decides per write from the bytes about to be written (``b""`` for
    an fsync), so a test can fill the disk at exactly the moment it names.
    """

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = str(folder.resolve())
        self.full: Callable[[bytes], bool] = lambda _data: False
        self.refused = 0
        real_write, real_fsync = os.write, os.fsync

        def write(fd: int, data: Any) -> int:
            self._check(fd, bytes(data))
            return real_write(fd, data)

        def fsync(fd: int) -> None:
            self._check(fd, b"")
            real_fsync(fd)

        monkeypatch.setattr(os, "write", write)
        monkeypatch.setattr(os, "fsync", fsync)

    def _check(self, fd: int, data: bytes) -> None:
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return
        if path.startswith(self.folder) and self.full(data):
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real small filesystem (tmpfs) at ``where``; skips the test if it cannot be mounted."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
