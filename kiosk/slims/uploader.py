"""Bring the cart's found scans into SLiMS's active stock take, exactly once.

Three ways, one rule: a scan is marked synced only after SLiMS confirms it,
and every request is safe to repeat. A scan written to the upload file is
marked ``exported`` and stays pending: SLiMS has not seen it until someone
uploads the file, and the next online sync sends it again (SLiMS answers
"already scanned" if the file got there first, which confirms it). The ways are two
strategies: :class:`~kiosk.slims.online_sync.OnlineSync` (``item`` and
``upload`` mode) and :class:`~kiosk.slims.file_export.FileExport` (``file``:
the upload file, written for a librarian to upload by hand);
:func:`pick_strategy` chooses one from the configured mode.

Why repeating is safe: SLiMS marks an item found only when it is still
missing; sending a found item again changes nothing and answers "already
scanned". What is not safe is *forgetting* a confirmation, so results reach
the store in batches (see :mod:`kiosk.slims.ledger`: at least every few
seconds and always before returning or raising) and a journal lists the
scans sent but not yet stored. After a crash, an "already scanned" for a
journalled scan is this cart's own earlier request that landed, and is
recorded as accepted. The journal names scans, not codes: a later re-scan of
an item found earlier (by this cart or another) must still read "already
scanned".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from kiosk.background import Background
from kiosk.exc import KioskError, SyncError
from kiosk.models import Scan
from kiosk.slims.admin_pages import StockTakeIdentity
from kiosk.slims.file_export import FileExport
from kiosk.slims.journal import Journal
from kiosk.slims.ledger import Groups, Ledger, Progress, SyncResult, SyncStore
from kiosk.slims.online_sync import OnlineSync

if TYPE_CHECKING:
    from kiosk.slims.client import SlimsClient, StockTakeInfo

__all__ = [
    "MODES",
    "Journal",
    "SyncResult",
    "SyncStore",
    "SyncStrategy",
    "Uploader",
    "check_mode",
    "export_file",
    "pick_strategy",
]

MODES = ("auto", "item", "upload", "file")
#: Below this many codes ``auto`` prefers per-item verdicts over speed.
AUTO_UPLOAD_THRESHOLD = 1000


class SyncStrategy(Protocol):
    """One way of bringing grouped pending scans to SLiMS, recording into a ledger."""

    @property
    def mode(self) -> str: ...

    def sync(
        self, groups: Groups, ledger: Ledger, *, stop: threading.Event, progress: Progress
    ) -> None: ...


def check_mode(mode: str, *, online: bool) -> None:
    """Refuse a mode that does not exist, or an online one without SLiMS."""
    if mode not in MODES:
        raise SyncError(f"unknown sync mode {mode!r}; choose one of {', '.join(MODES)}")
    if mode in ("item", "upload") and not online:
        raise SyncError(
            f"sync mode {mode!r} needs SLiMS (set slims.url and the credentials), "
            "or use --mode file"
        )


def pick_strategy(
    mode: str,
    client: SlimsClient | None,
    *,
    codes: int,
    journal: Journal,
    chunk: int = 2000,
    out: Path | None = None,
    overwrite: bool = False,
) -> SyncStrategy:
    """The strategy for ``mode``; ``auto`` picks file without SLiMS, upload for many codes."""
    check_mode(mode, online=client is not None)
    if client is None or mode == "file":
        return FileExport(out, overwrite=overwrite)
    if mode == "auto":
        mode = "upload" if codes >= AUTO_UPLOAD_THRESHOLD else "item"
    return OnlineSync(client, journal, bulk=mode == "upload", chunk=chunk)


def export_file(store: SyncStore, path: Path | str) -> Path:
    """Write the pending found scans to ``path`` as SLiMS's upload file (file mode).

    The file is replaced if it exists and written (possibly empty) even when
    nothing is pending, so a caller can always hand it on.
    """
    path = Path(path)
    result = Uploader(store, None, mode="file", out=path, overwrite=True).run()
    if result.file is None:
        path.write_bytes(b"")
    return path


def _key(code: str) -> str:
    # SLiMS trims codes and compares them case-insensitively.
    return code.strip().casefold()


def _group(pending: list[Scan]) -> Groups:
    groups: Groups = {}
    for scan in sorted(pending, key=lambda s: s.seq):
        if scan.code.strip():
            groups.setdefault(_key(scan.code), []).append(scan)
    return groups


class Uploader:
    """Connects a :class:`SlimsClient` (or a file) with the store's pending scans.

    :param mode: ``auto``, ``item``, ``upload`` or ``file`` (see :func:`pick_strategy`).
    :param on_progress: ``on_progress(done, total)`` in item codes, after each step.
    :param stop: set it (e.g. from a button) to end the run at the next code.
    """

    def __init__(
        self,
        store: SyncStore,
        client: SlimsClient | None = None,
        *,
        mode: str = "auto",
        journal: Path | str | None = None,
        chunk: int = 2000,
        out: Path | str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
        overwrite: bool = False,
        session: int | None = None,
    ) -> None:
        check_mode(mode, online=client is not None)
        self.store = store
        self.client = client
        self.mode = mode
        self.journal = Journal(journal)
        self.chunk = max(1, chunk)
        self.out = Path(out) if out is not None else None
        self.on_progress = on_progress
        self.stop = stop if stop is not None else threading.Event()
        self.overwrite = overwrite
        #: The session whose scans are synced (default: the current one).
        self.session = session

    def run(self) -> SyncResult:
        """Sync every pending scan of the session; raises SyncError (after saving progress)
        if cut short, or before sending anything if SLiMS runs another stock take."""
        t0 = time.monotonic()
        client = self.client
        # SLiMS checks the password and lists its stock takes while the scans are read.
        ahead = (
            Background(client.stocktake_info, name="slims-login")
            if client is not None and self.mode != "file" and self.store.pending_count()
            else None
        )
        try:
            session = self.store.current_session() if self.session is None else self.session
            everything = self.store.pending_sync()
            pending = [s for s in everything if s.session == session]
            groups = _group(pending)
            strategy = pick_strategy(
                self.mode,
                client,
                codes=len(groups),
                journal=self.journal,
                chunk=self.chunk,
                out=self.out,
                overwrite=self.overwrite,
            )
            result = SyncResult(mode=strategy.mode, pending=len(pending), codes=len(groups))
            result.held_back = len(everything) - len(pending)
            ledger = Ledger(self.store, result, since=t0)
            if groups and isinstance(strategy, OnlineSync) and client is not None:
                info = ahead.wait() if ahead is not None else client.stocktake_info()
                ahead = None
                ledger.expect = self._stocktake_for(session, pending, info)
        finally:
            if ahead is not None:  # not needed after all; the client is not shared meanwhile
                ahead.wait_quietly()
        try:
            if groups:
                strategy.sync(groups, ledger, stop=self.stop, progress=self._progress)
            ledger.flush()
        except (KioskError, OSError) as e:
            ledger.flush(failing=True)
            result.left = result.pending - result.synced - result.exported
            raise SyncError(
                f"sync stopped after confirming {result.synced} of {result.pending} scans: {e}. "
                "Nothing confirmed is lost and nothing is counted twice; run the sync again"
            ) from e
        except BaseException:
            ledger.flush(failing=True)
            raise
        finally:
            self.journal.close()
        result.left = result.pending - result.synced - result.exported
        result.elapsed_s = time.monotonic() - t0
        if result.complete:
            self.journal.clear()
        return result

    def _stocktake_for(
        self, session: int, pending: list[Scan], info: StockTakeInfo
    ) -> StockTakeIdentity | None:
        """The SLiMS stock take these scans go into; refuse if SLiMS runs another one.

        A session tied to a stock take syncs only into that one. A session tied
        to none (made offline, or before sessions existed) is tied now, unless
        some of its scans are older than SLiMS's stock take: those were made for
        an earlier count.
        """
        if not info.active or info.identity is None:
            return None  # OnlineSync says "no active stock take" in its own words
        now = info.identity
        tied = self.store.session(session).get("slims")
        if tied:
            wanted = StockTakeIdentity(str(tied.get("name", "")), str(tied.get("started", "")))
            if not wanted.same_as(now):
                raise SyncError(
                    f"not sent: the {len(pending)} scans of session {session} were made for "
                    f"SLiMS's stock take {wanted}, but SLiMS now runs {now}. A scan never goes "
                    f"into another stock take; they stay in session {session} (`kiosk report "
                    f"--session {session}`). `kiosk catalog pull` starts a session for {now}"
                )
            return now
        oldest = min(s.ts for s in pending)
        if now.predates(oldest):
            raise SyncError(
                f"not sent: session {session} has scans from "
                f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(oldest))}, before SLiMS's "
                f"stock take {now} began, so they were made for an earlier count. They stay in "
                f"session {session}; `kiosk catalog pull` archives it and starts one for {now}"
            )
        self.store.bind_session(session, now.to_dict())
        return now

    def _progress(self, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)
