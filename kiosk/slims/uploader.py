"""Bring the cart's found scans into SLiMS's active stock take, exactly once.

Three ways, one rule: a scan is marked synced only after SLiMS (or the written
file) confirms it, and every request is safe to repeat.

- ``item``: one ``stock_take_action`` request per item code; SLiMS's verdict
  (accepted, already scanned, not in this stock take, on loan, skipped by
  rule) is stored per scan.
- ``upload``: the bulk stock-take file, in chunks; SLiMS answers only how many
  codes it newly marked found, so a chunk counts as verified when that number
  equals the chunk's size. Otherwise each of its codes is asked again one by
  one, which SLiMS answers without changing anything already found. Codes the
  cart already expects trouble with (on loan, another location, not
  file-safe) go one by one from the start.
- ``file``: the same upload file, written for a librarian to upload by hand.

Why repeating is safe: SLiMS marks an item found only when it is still
missing; sending a found item again changes nothing and answers "already
scanned". What is not safe is *forgetting* a confirmation, so results reach
the store in batches (at least every ``FLUSH_INTERVAL`` seconds and always
before returning or raising) and a journal lists the scans sent but not yet
stored. After a crash, an "already scanned" for a journalled scan is this
cart's own earlier request that landed, and is recorded as accepted. The
journal names scans, not codes: a later re-scan of an item found earlier
(by this cart or another) must still read "already scanned".
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kiosk.exc import KioskError, SlimsNoStockTake, SyncError
from kiosk.models import Scan, SyncOutcome, Verdict
from kiosk.slims.client import SlimsClient
from kiosk.slims.pages import UPLOAD_CODE, upload_file_bytes

__all__ = [
    "MODES",
    "Journal",
    "SyncResult",
    "SyncStore",
    "Uploader",
    "export_file",
]

log = logging.getLogger(__name__)

MODES = ("auto", "item", "upload", "file")
#: Below this many codes ``auto`` prefers per-item verdicts over speed.
AUTO_UPLOAD_THRESHOLD = 1000
#: Keep each upload file well under SLiMS's usual 2 MB limit.
MAX_UPLOAD_BYTES = 1_000_000
#: Confirmed outcomes reach the store at least this often (seconds, outcomes).
FLUSH_INTERVAL, FLUSH_EVERY = 2.0, 2000
#: Verdicts that make SLiMS's refusal likely, so those codes go one by one.
_RISKY = frozenset({Verdict.ON_LOAN, Verdict.WRONG_LOCATION})


class SyncStore(Protocol):
    """What the uploader needs from :class:`kiosk.store.Store`."""

    def pending_sync(self) -> list[Scan]: ...

    def set_sync(self, results: Mapping[int, str]) -> None: ...


@dataclass
class SyncResult:
    """What one run did, per scan outcome; ``complete`` when nothing is left pending."""

    mode: str
    pending: int = 0
    codes: int = 0
    synced: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    left: int = 0
    file: str | None = None
    stopped: bool = False
    elapsed_s: float = 0.0
    requests: int = 0
    uploads: int = 0
    verified_by_count: int = 0

    @property
    def complete(self) -> bool:
        return self.left == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "pending": self.pending,
            "codes": self.codes,
            "synced": self.synced,
            "left": self.left,
            "outcomes": dict(self.outcomes),
            "file": self.file,
            "stopped": self.stopped,
            "elapsed_s": round(self.elapsed_s, 3),
            "requests": self.requests,
            "uploads": self.uploads,
            "verified_by_count": self.verified_by_count,
        }


class Journal:
    """Scans (by ``seq``) sent to SLiMS whose outcome may not be in the store yet.

    Appended before each request (no fsync: a killed process keeps what it
    wrote; only a power cut can lose the tail, and then an outcome reads
    "already scanned" instead of "accepted", nothing worse).
    """

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        self._fd: int | None = None

    def load(self) -> set[str]:
        if self.path is None:
            return set()
        try:
            return {line for line in self.path.read_text("utf-8").splitlines() if line}
        except FileNotFoundError:
            return set()

    def add(self, keys: Iterable[str]) -> None:
        if self.path is None:
            return
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        os.write(self._fd, "".join(k + "\n" for k in keys).encode("utf-8"))

    def clear(self) -> None:
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


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


class Uploader:
    """Connects a :class:`SlimsClient` (or a file) with the store's pending scans.

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
    ) -> None:
        if mode not in MODES:
            raise SyncError(f"unknown sync mode {mode!r}; choose one of {', '.join(MODES)}")
        if mode in ("item", "upload") and client is None:
            raise SyncError(
                f"sync mode {mode!r} needs SLiMS (set slims.url and the credentials), "
                "or use --mode file"
            )
        self.store = store
        self.client = client
        self.mode = mode
        self.journal = Journal(journal)
        self.chunk = max(1, chunk)
        self.out = Path(out) if out is not None else None
        self.on_progress = on_progress
        self.stop = stop if stop is not None else threading.Event()
        self.overwrite = overwrite
        self._results: dict[int, str] = {}
        self._online_check = False
        self._last_flush = 0.0

    # -- entry point ------------------------------------------------------------
    def run(self) -> SyncResult:
        """Sync every pending scan; raises SyncError (after saving progress) if cut short."""
        t0 = time.monotonic()
        pending = self.store.pending_sync()
        groups: dict[str, list[Scan]] = {}
        for scan in sorted(pending, key=lambda s: s.seq):
            if scan.code.strip():
                groups.setdefault(_key(scan.code), []).append(scan)
        mode = self._resolve(len(groups))
        result = SyncResult(mode=mode, pending=len(pending), codes=len(groups))
        self._last_flush = t0
        try:
            if groups:
                if mode == "file":
                    self._file(groups, result)
                else:
                    assert self.client is not None
                    self._online(groups, result, mode)
            self._flush(result)
        except (KioskError, OSError) as e:
            self._flush(result, failing=True)
            result.left = result.pending - result.synced
            raise SyncError(
                f"sync stopped after confirming {result.synced} of {result.pending} scans: {e}. "
                "Nothing confirmed is lost and nothing is counted twice; run the sync again"
            ) from e
        except BaseException:
            self._flush(result, failing=True)
            raise
        finally:
            self.journal.close()
        result.left = result.pending - result.synced
        result.elapsed_s = time.monotonic() - t0
        if result.complete:
            self.journal.clear()
        return result

    def _resolve(self, codes: int) -> str:
        if self.mode != "auto":
            return self.mode
        if self.client is None:
            return "file"
        return "upload" if codes >= AUTO_UPLOAD_THRESHOLD else "item"

    # -- bookkeeping -------------------------------------------------------------
    def _record(self, scans: list[Scan], outcome: str, result: SyncResult) -> None:
        for scan in scans:
            self._results[scan.seq] = outcome
            result.outcomes[outcome] += 1
        if len(self._results) >= FLUSH_EVERY or (
            time.monotonic() - self._last_flush >= FLUSH_INTERVAL
        ):
            self._flush(result)

    def _flush(self, result: SyncResult, *, failing: bool = False) -> None:
        """Store the confirmed outcomes, once SLiMS shows the stock take still active.

        SLiMS answers "accepted" even after its stock take was finished (the
        item list stays behind), so a batch counts only if the stock take is
        still running after it. On the error path an unverifiable batch stays
        pending: re-sending it is harmless.
        """
        if self._results:
            if self._online_check:
                assert self.client is not None
                try:
                    active = self.client.current_stocktake().active
                except KioskError:
                    if not failing:
                        raise
                    active = False
                if not active:
                    self._results = {}
                    if failing:
                        return
                    raise SlimsNoStockTake(
                        f"the stock take in SLiMS at {self.client.base} ended during the sync; "
                        "the last answers were not counted by SLiMS and stay pending"
                    )
            self.store.set_sync(self._results)
            result.synced += len(self._results)
            self._results = {}
        self._last_flush = time.monotonic()

    def _progress(self, done: int, total: int) -> None:
        if self.on_progress is not None:
            self.on_progress(done, total)

    # -- file mode -------------------------------------------------------------------
    def _file(self, groups: dict[str, list[Scan]], result: SyncResult) -> None:
        ok = {k: s for k, s in groups.items() if UPLOAD_CODE.match(s[0].code.strip())}
        for k in groups.keys() - ok.keys():
            log.warning(
                "item code %r cannot go in an upload file; sync it online", groups[k][0].code
            )
        if not ok:
            return
        path = self.out or Path(f"stocktake-{time.strftime('%Y%m%d-%H%M%S')}.txt")
        if path.is_dir():
            path = path / f"stocktake-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        if path.exists() and not self.overwrite:
            raise SyncError(f"{path} already exists; choose another --out (it is not overwritten)")
        data = upload_file_bytes(s[0].code.strip() for s in ok.values())
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        # The scans are marked exported next: the rename must survive a power cut first.
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        result.file = str(path)
        for scans in ok.values():
            self._record(scans, "exported", result)
        self._progress(len(ok), len(groups))

    # -- online modes --------------------------------------------------------------------
    def _online(self, groups: dict[str, list[Scan]], result: SyncResult, mode: str) -> None:
        client = self.client
        assert client is not None
        if not client.current_stocktake().active:
            raise SlimsNoStockTake(
                f"no stock take is active in SLiMS at {client.base}; start one there "
                "(Stock Take → Initialize) or with `kiosk sync --init NAME`"
            )
        self._online_check = True
        earlier = self.journal.load()
        total = len(groups)
        done = 0
        singles: list[str] = []
        bulk: list[str] = []
        for k, scans in groups.items():
            alone = (
                mode == "item"
                or scans[0].verdict in _RISKY
                or not UPLOAD_CODE.match(scans[0].code.strip())
            )
            (singles if alone else bulk).append(k)
        for key in singles:
            if self.stop.is_set():
                result.stopped = True
                return
            self._one(groups[key], earlier, result, uploaded=False)
            done += 1
            self._progress(done, total)
        for chunk in _chunks(bulk, groups, self.chunk):
            if self.stop.is_set():
                result.stopped = True
                return
            codes = [groups[k][0].code.strip() for k in chunk]
            self.journal.add(str(s.seq) for k in chunk for s in groups[k])
            result.uploads += 1
            landed = client.upload(codes, name=f"kiosk-{uuid.uuid4().hex[:12]}.txt")
            result.requests += 1
            if landed == len(chunk):
                result.verified_by_count += len(chunk)
                for key in chunk:
                    self._record(groups[key], "uploaded", result)
                done += len(chunk)
                self._progress(done, total)
                continue
            log.info("upload newly marked %d of %d codes; checking each", landed, len(chunk))
            for key in chunk:
                if self.stop.is_set():
                    result.stopped = True
                    return
                self._one(groups[key], earlier, result, uploaded=True)
                done += 1
                self._progress(done, total)

    def _one(
        self, scans: list[Scan], earlier: set[str], result: SyncResult, *, uploaded: bool
    ) -> None:
        client = self.client
        assert client is not None
        if not uploaded:
            self.journal.add(str(s.seq) for s in scans)
        outcome = client.action(scans[0].code.strip())
        result.requests += 1
        text = str(outcome)
        ours = uploaded or client.last_attempts > 1 or any(str(s.seq) in earlier for s in scans)
        if outcome is SyncOutcome.ALREADY_SCANNED and ours:
            # Our own earlier request (crashed run, lost answer, or the upload) landed.
            text = "uploaded" if uploaded else str(SyncOutcome.ACCEPTED)
        elif outcome is SyncOutcome.ACCEPTED and uploaded:
            text = str(SyncOutcome.ACCEPTED)
        self._record(scans, text, result)


def _chunks(keys: list[str], groups: Mapping[str, list[Scan]], size: int) -> Iterable[list[str]]:
    chunk: list[str] = []
    nbytes = 0
    for key in keys:
        n = len(groups[key][0].code.strip()) + 1
        if chunk and (len(chunk) >= size or nbytes + n > MAX_UPLOAD_BYTES):
            yield chunk
            chunk, nbytes = [], 0
        chunk.append(key)
        nbytes += n
    if chunk:
        yield chunk
