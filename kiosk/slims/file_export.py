"""Sync without a network: write SLiMS's stock-take upload file for a librarian.

The scans are marked ``exported`` only once the file (and its name in the
folder) is on disk, so a power cut never leaves scans marked that no file
holds. ``exported`` is not "in SLiMS": those scans stay pending, each new
file holds every scan SLiMS has not answered yet (uploading an item twice
is harmless), and an online sync sends them again. Codes SLiMS's upload
cannot read stay pending for an online sync.

Where the file goes: a USB stick when one is mounted (the first writable
mount point matching the configured patterns, e.g. ``/media/*/*``), else the
state directory's ``exports`` folder (:func:`export_dir`).
"""

from __future__ import annotations

import glob
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from kiosk.exc import SyncError
from kiosk.fileio import atomic_write
from kiosk.models import SyncOutcome
from kiosk.slims.ledger import Groups, Ledger, Progress
from kiosk.slims.pages import UPLOAD_CODE, upload_file_bytes

__all__ = ["FileExport", "export_dir"]

log = logging.getLogger(__name__)


class FileExport:
    """Write the pending codes to one ``.txt`` SLiMS's Stock Take → Upload reads.

    :param out: the file, or a folder to put a dated file in; default: a dated
        file in the working directory.
    :param overwrite: replace an existing file instead of refusing.
    """

    mode = "file"

    def __init__(self, out: Path | None = None, *, overwrite: bool = False) -> None:
        self.out = out
        self.overwrite = overwrite

    def sync(
        self, groups: Groups, ledger: Ledger, *, stop: threading.Event, progress: Progress
    ) -> None:
        ok = {k: s for k, s in groups.items() if UPLOAD_CODE.match(s[0].code.strip())}
        for k in groups.keys() - ok.keys():
            log.warning(
                "item code %r cannot go in an upload file; sync it online", groups[k][0].code
            )
        if not ok:
            return
        path = self._path()
        # Durable (file and rename) before any scan is marked exported.
        atomic_write(path, [upload_file_bytes(s[0].code.strip() for s in ok.values())], mode=0o644)
        ledger.result.file = str(path)
        for scans in ok.values():
            ledger.record(scans, SyncOutcome.EXPORTED)
        progress(len(ok), len(groups))

    def _path(self) -> Path:
        path = self.out or Path(f"stocktake-{time.strftime('%Y%m%d-%H%M%S')}.txt")
        if path.is_dir():
            path = path / f"stocktake-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        if path.exists() and not self.overwrite:
            raise SyncError(f"{path} already exists; choose another --out (it is not overwritten)")
        return path


def export_dir(patterns: Sequence[str], fallback: Path) -> tuple[Path, bool]:
    """Where an upload file goes: ``(folder, on_removable_media)``.

    The first mount point (a USB stick, not a plain folder: a stick that is not
    plugged in must not leave files on the SD card under its name) that matches
    one of ``patterns`` and that this user may write; else ``fallback``, created
    if needed.
    """
    for pattern in patterns:
        for found in sorted(glob.glob(pattern)):
            if os.path.ismount(found) and os.access(found, os.W_OK | os.X_OK):
                return Path(found), True
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback, False
