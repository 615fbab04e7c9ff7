"""The offline store: catalogue, stock takes, shelf runs and scans, in TinyDB.

One process owns the store at a time (an ``flock`` on ``kiosk.lock`` in the
state directory): the daemon while it runs, or a CLI command that changes
data. Read-only openers (``kiosk status``, ``kiosk report``) take no lock and
see the state as of their opening.

Two TinyDB databases keep different rhythms apart, both on
:class:`~kiosk.store.journal.JournalStorage` (snapshot + fsynced journal, see that
module): ``catalog`` is replaced wholesale and atomically by a pull or import;
``scans`` grows by one journal record per scan, on disk before
:meth:`Store.add_scan` returns, i.e. before the cart says "OK".

Tables in ``scans``: ``meta`` (document 1: schema version, creation time and
the cart's state: stock take, location, shelf run), ``sessions`` (stock
takes), ``runs`` (shelf runs) and ``scans`` (document id = scan ``seq``, with
verdict, session, run and sync outcome). Tables in ``catalog``: ``items`` and
``meta`` (source, time, count), kept by :mod:`kiosk.store.catalog`. Beside
it, ``catalog.idx`` (:mod:`kiosk.store.catindex`) holds the same items and
every location's shelf order, made by the pull or import, so the daemon
starts without parsing the catalogue or sorting a call number; it is
derived, and made again from ``catalog.json`` whenever it does not match.

Everything the scan loop asks per scan (counts, last scan, codes already
found, scans awaiting sync) is kept as small in-memory indexes updated after
each durable write, so no call on the hot path walks all scans.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from tinydb.table import Document

from kiosk.clock import Anchor
from kiosk.exc import StoreError, StoreLocked
from kiosk.models import Item, Scan, ScanDetail, Verdict
from kiosk.store.adapter import KioskDB, open_db, rows_of
from kiosk.store.catalog import Catalogue
from kiosk.store.damage import Loss
from kiosk.store.index import ScanIndex

if TYPE_CHECKING:  # the engine's shelf order loads when the catalogue is read
    from kiosk.engine.shelf import ShelfOrder

log = logging.getLogger(__name__)

#: Version of the record layout; bump it and add a migration in ``_check_schema``.
SCHEMA_VERSION = 1


class Store:
    """Records of one cart: what the catalogue says and what was scanned.

    Every public method that reads or changes the records holds ``_lock``:
    the scan loop is the store's only writer in normal work, but a sync
    started from the cart runs on its own thread and records SLiMS's answers
    meanwhile, and TinyDB itself is not thread-safe. The lock is re-entrant,
    so public methods may call each other.
    """

    def __init__(self, state_dir: Path, *, readonly: bool = False, compact: bool = True) -> None:
        self.state_dir = Path(state_dir)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._lock_fd: int | None = None
        if not readonly:
            _prepare_dir(self.state_dir)
            self._lock_fd = _flock(self.state_dir / "kiosk.lock")
        elif not self.state_dir.is_dir():
            raise StoreError(_not_a_dir(self.state_dir))
        self._dbs: list[KioskDB] = []
        try:
            self._scans_db = open_db(
                self.state_dir / "scans.json",
                readonly=readonly,
                compact=compact,
                cold=("scans",),
                summaries={"scans": _scan_index},
            )
            self._dbs.append(self._scans_db)
            self._scans = self._scans_db.table("scans", cache_size=0)
            self._meta = self._scans_db.table("meta", cache_size=0)
            self._sessions = self._scans_db.table("sessions", cache_size=0)
            self._runs = self._scans_db.table("runs", cache_size=0)
            self._cat = Catalogue(self.state_dir, readonly=readonly)
            if not readonly:
                self._check_schema()
            meta: Mapping[str, Any] = self._meta.get(doc_id=1) or {}
            self._state: dict[str, Any] = dict(meta.get("state", {}))
            self._held: int | None = None  # see _held_back
        except BaseException:
            self.close()
            raise

    @property
    def _idx(self) -> ScanIndex:
        """The running summaries of the scans, kept by the storage with every change."""
        index = self._scans_db.storage.summaries["scans"]
        assert isinstance(index, ScanIndex)
        return index

    # -- life cycle ---------------------------------------------------------
    @classmethod
    def open(cls, state_dir: Path | str, *, compact: bool = True) -> Self:
        """Open for writing; fails with :class:`StoreLocked` if the daemon owns it.

        ``compact=False``: a short-lived writer (``kiosk sync``) leaves a grown
        journal for the daemon to fold into a snapshot, instead of doing it
        before its own work (a second and more at 200,000 scans on a Pi).
        """
        return cls(Path(state_dir), compact=compact)

    @classmethod
    def open_readonly(cls, state_dir: Path | str) -> Self:
        """Open without the lock, for reading while the daemon may be running."""
        return cls(Path(state_dir), readonly=True)

    def close(self) -> None:
        with self._lock:
            for db in self._dbs:
                db.close()
            self._dbs = []
            self._unlock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _check_schema(self) -> None:
        meta = self._meta.get(doc_id=1)
        if meta is None:
            self._meta.insert(Document({"schema": SCHEMA_VERSION, "created": time.time()}, 1))
            return
        version = int(meta.get("schema", 0))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store in {self.state_dir} has schema {version}, newer than this "
                f"kiosk understands ({SCHEMA_VERSION}); upgrade kiosk"
            )
        if version < SCHEMA_VERSION:  # pragma: no cover - no older schema exists yet
            raise StoreError(f"store schema {version} has no migration to {SCHEMA_VERSION}")

    def losses(self) -> list[Loss]:
        """Damage found in the scan store, earlier or on this opening, not yet recovered."""
        with self._lock:
            return list(self._scans_db.storage.losses)

    def damaged_files(self) -> list[Path]:
        """Files a damaged store was moved to (``*.corrupt-*``): data awaiting recovery."""
        with self._lock:
            return sorted(self.state_dir.glob("*.corrupt-*"))

    # -- catalogue (kiosk.store.catalog) ----------------------------------------
    def replace_catalog(self, items: Iterable[Item], *, source: str, **meta: Any) -> int:
        """Replace the whole catalogue atomically; see :meth:`Catalogue.replace`."""
        with self._lock:
            return self._cat.replace(items, source=source, **meta)

    def catalog(self) -> Mapping[str, Item]:
        """Item code → item; see :meth:`Catalogue.items`."""
        with self._lock:
            return self._cat.items()

    def shelf_orders(self) -> Mapping[str, ShelfOrder] | None:
        """Each location's shelf order as made at pull time (``None``: none was made)."""
        with self._lock:
            return self._cat.shelf_orders()

    def locations(self) -> list[str]:
        """The catalogue's locations, without reading its items when the index has them."""
        with self._lock:
            return self._cat.locations()

    def catalog_info(self) -> dict[str, Any]:
        """Source, time and size of the catalogue, without loading its items if not loaded."""
        with self._lock:
            return self._cat.info()

    # -- stock-take state ---------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Where the cart is: stock-take name, session, current location, shelf run."""
        with self._lock:
            return dict(self._state)

    def set_state(self, **changes: Any) -> dict[str, Any]:
        with self._lock:
            state = self._state | changes
            self._meta.update({"state": state}, doc_ids=[1])
            self._state = state
            return dict(state)

    def anchors(self) -> dict[str, Anchor]:
        """Clock anchors, one per boot whose clock got synchronised (see kiosk.clock)."""
        with self._lock:
            meta: Mapping[str, Any] = self._meta.get(doc_id=1) or {}
            return {boot: Anchor(boot, float(off)) for boot, off in meta.get("anchors", {}).items()}

    def save_anchor(self, anchor: Anchor) -> None:
        """Remember a boot's clock offset so its earlier scans can be dated exactly."""
        with self._lock:
            saved = {boot: a.offset for boot, a in self.anchors().items()}
            self._meta.update({"anchors": saved | {anchor.boot: anchor.offset}}, doc_ids=[1])

    # -- stock takes (sessions) and shelf runs -------------------------------
    # A session is one stock take as the cart lived it: its scans stay with it
    # when a new one starts (it is archived, never deleted). Scans made before
    # any session was started belong to session 0, whose record is kept in the
    # cart's state (TinyDB has no document 0).
    def start_session(self, name: str, **fields: Any) -> int:
        """Begin a stock take; later scans belong to it until another starts.

        The session that was current is archived (kept with all its scans).
        """
        with self._lock:
            previous = self.current_session()
            now = time.time()
            doc = {"name": name, "started": now, "first_seq": self._next_seq()} | fields
            sid = int(self._sessions.insert(doc))
            self._held = None
            old = self.session(previous)
            if not old.get("archived"):
                self._update_session(previous, {"archived": now, "name": old.get("name", "")})
            self.set_state(session=sid, stocktake=name)
            return sid

    def sessions(self) -> list[dict[str, Any]]:
        """Every session, oldest first; session 0 only when it holds scans or is current."""
        with self._lock:
            out = [{"id": int(k)} | d for k, d in rows_of(self._sessions).items()]
            if self.current_session() == 0 or self._idx.found.get(0) or self._has_scans(0, out):
                out.insert(0, self.session(0))
            return out

    def _has_scans(self, sid: int, rows: list[dict[str, Any]]) -> bool:
        """Whether any scan was stored before the first session ``sid + 1`` began."""
        later = [int(r.get("first_seq", 1)) for r in rows if int(r["id"]) > sid]
        return min(later, default=rows_of(self._scans).max_id + 1) > 1

    def session(self, sid: int) -> dict[str, Any]:
        """One session's record (``{}`` if there is no such session)."""
        with self._lock:
            if sid == 0:
                zero = dict(self._state.get("session0") or {})
                if self.current_session() == 0:
                    zero.setdefault("name", str(self._state.get("stocktake", "")))
                return {"id": 0, "name": "", "first_seq": 1} | zero
            doc = rows_of(self._sessions).get(str(sid))
            return {} if doc is None else {"id": sid} | dict(doc)

    def _update_session(self, sid: int, changes: Mapping[str, Any]) -> None:
        if sid == 0:
            self.set_state(session0=dict(self._state.get("session0") or {}) | dict(changes))
        else:
            self._sessions.update(dict(changes), doc_ids=[sid])

    def bind_session(self, sid: int, slims: Mapping[str, Any]) -> None:
        """Tie a session to the SLiMS stock take its scans are for (name and start)."""
        with self._lock:
            if not self.session(sid):
                raise StoreError(f"there is no session {sid}")
            self._update_session(sid, {"slims": dict(slims)})
            if sid == self.current_session() and slims.get("name"):
                self.set_state(stocktake=str(slims["name"]))

    def archive_session(self, sid: int | None = None) -> None:
        """Mark a session archived (the current one: a new one must start; see start_session)."""
        with self._lock:
            sid = self.current_session() if sid is None else sid
            if not self.session(sid):
                raise StoreError(f"there is no session {sid}")
            if not self.session(sid).get("archived"):
                self._update_session(sid, {"archived": time.time()})

    def current_session(self) -> int:
        """Id of the active stock take (0 before any was started)."""
        with self._lock:
            return int(self._state.get("session", 0))

    def start_run(self, location: str = "", **fields: Any) -> int:
        """Begin a shelf run (one pass along a shelf) in the current stock take."""
        with self._lock:
            doc = {
                "session": self.current_session(),
                "location": location,
                "started": time.time(),
                "first_seq": self._next_seq(),
            } | fields
            rid = int(self._runs.insert(doc))
            self.set_state(run=rid, location=location)
            return rid

    def current_run(self) -> int:
        """Id of the shelf run scans now belong to (the last one started; 1 before any)."""
        with self._lock:
            return int(self._state.get("run", 1))

    def runs(self, session: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            out = [{"id": int(k)} | d for k, d in rows_of(self._runs).items()]
            return out if session is None else [r for r in out if r.get("session") == session]

    # -- scans -----------------------------------------------------------------
    def add_scan(
        self,
        *,
        code: str,
        verdict: Verdict,
        scanner: str,
        ts: float,
        location: str = "",
        run: int = 0,
        detail: ScanDetail | None = None,
        stamp: Mapping[str, Any] | None = None,
    ) -> Scan:
        """Store one scan durably (fsynced) and return it with its sequence number."""
        with self._lock:
            seq = self._next_seq()
            doc: dict[str, Any] = {
                "seq": seq,
                "code": code,
                "verdict": str(verdict),
                "scanner": scanner,
                "ts": ts,
                "location": location,
                "run": run,
                "detail": (detail or ScanDetail()).to_dict(),
                "sync": None,
                "voided": False,
                "session": self.current_session(),
            }
            if stamp:
                doc["stamp"] = dict(stamp)
            self._scans.insert(Document(doc, seq))
            return Scan.from_dict(doc)

    def _next_seq(self) -> int:
        return rows_of(self._scans).max_id + 1

    def void(self, seq: int) -> None:
        """Undo a scan: kept for the record, excluded from everything else."""
        with self._lock:
            doc = rows_of(self._scans).get(str(seq))
            if doc is None or doc.get("voided"):
                return
            self._scans.update({"voided": True}, doc_ids=[seq])

    def scan(self, seq: int) -> Scan | None:
        with self._lock:
            doc = rows_of(self._scans).get(str(seq))
            return None if doc is None else Scan.from_dict(doc)

    def scans(self, *, include_voided: bool = False, session: int | None = None) -> list[Scan]:
        with self._lock:
            return list(self.iter_scans(include_voided=include_voided, session=session))

    def iter_scans(
        self, *, include_voided: bool = False, session: int | None = None
    ) -> Iterator[Scan]:
        """The scans one at a time, in order, read from disk as they are asked for.

        Memory stays flat however many scans there are (``report``, ``scans
        --json``); the store's lock is held while the iterator is running.
        """
        with self._lock:
            for _, d in rows_of(self._scans).items():
                if (include_voided or not d.get("voided")) and (
                    session is None or d.get("session", 0) == session
                ):
                    yield Scan.from_dict(d)

    def last_undoable(self) -> Scan | None:
        """The scan an undo would take back: the newest live item scan or no-label tally.

        Walks back over commands only, so it costs nothing however many scans
        are stored, and nothing but the store needs to remember undo history.
        """
        with self._lock:
            rows = rows_of(self._scans)
            seq = rows.max_id
            session = self.current_session()
            while seq > 0:
                if seq not in self._idx.voided and (doc := rows.get(str(seq))) is not None:
                    if int(doc.get("session") or 0) != session:
                        return None  # an earlier stock take's scans are not undone from this one
                    scan = Scan.from_dict(doc)
                    if scan.undoable:
                        return scan
                seq -= 1
            return None

    def scanned_codes(self, session: int | None = None) -> frozenset[str]:
        """Codes found (live, counting as found) in a stock take (default: current)."""
        with self._lock:
            sess = self.current_session() if session is None else session
            return frozenset(self._idx.found.get(sess, {}))

    def pending_sync(self, session: int | None = None) -> list[Scan]:
        """Scans of items that are here and that SLiMS has not answered yet (of one session).

        Scans written to an upload file (``exported``) stay here until SLiMS
        itself answers: the file may never be uploaded, and an online sync
        sends them again (SLiMS counts an item once however often it is sent).
        """
        with self._lock:
            rows = rows_of(self._scans)
            scans = (Scan.from_dict(rows[str(s)]) for s in self._idx.pending)
            return [s for s in scans if session is None or s.session == session]

    def pending_count(self) -> int:
        """Scans of the current stock take SLiMS has not answered yet.

        Earlier sessions' unsent scans are left out: they can never go into
        this stock take, so the cart must not keep asking for a sync for them.
        """
        with self._lock:
            return len(self._idx.pending) - self._held_back()

    def _held_back(self) -> int:
        """Pending scans of earlier sessions (their seqs come before this session's first)."""
        if self._held is None:
            first = int(self.session(self.current_session()).get("first_seq", 1))
            older = itertools.takewhile(lambda seq: seq < first, self._idx.pending)
            self._held = sum(1 for _ in older) if first > 1 else 0
        return self._held

    def nolabel_count(self, location: str) -> int:
        """Books without a label tallied at ``location`` (any spelling) in this stock take."""
        with self._lock:
            return self._idx.nolabel[(self.current_session(), location.casefold())]

    def run_scans(self) -> list[Scan]:
        """The live scans of the current shelf run, oldest first (read from its first scan)."""
        with self._lock:
            run = rows_of(self._runs).get(str(self.current_run())) or {}
            rows = rows_of(self._scans)
            first = int(run.get("first_seq", rows.max_id + 1))
            return [
                Scan.from_dict(rows[str(seq)])
                for seq in range(first, rows.max_id + 1)
                if seq not in self._idx.voided and str(seq) in rows
            ]

    def exported_count(self) -> int:
        """Pending scans that sit in an upload file, not yet in SLiMS."""
        with self._lock:
            return len(self._idx.exported)

    def set_sync(self, results: Mapping[int, str]) -> None:
        """Record SLiMS's confirmation per scan (seq → outcome), durably, in one write."""
        with self._lock:
            if not results:
                return
            outcome = {int(k): v for k, v in results.items()}

            def apply(doc: MutableMapping[str, Any]) -> None:
                doc["sync"] = outcome[int(doc["seq"])]

            self._scans.update(apply, doc_ids=list(outcome))
            self._held = None

    def counts(self) -> dict[str, int]:
        """Live scans per verdict."""
        with self._lock:
            return {k: v for k, v in self._idx.counts.items() if v}


def _scan_index(saved: bytes | None) -> ScanIndex:
    """The scan index as saved beside the snapshot, or empty (the storage fills it)."""
    return ScanIndex.load(saved) if saved else ScanIndex()


def _not_a_dir(path: Path) -> str:
    if path.exists():
        return f"state directory {path} is not a directory; choose another with --state-dir"
    return f"state directory {path} does not exist (nothing stored yet)"


@contextmanager
def exclusive(state_dir: Path) -> Iterator[None]:
    """Hold the store's process lock without opening the store (for repairs).

    Fails with :class:`StoreLocked` while the daemon or another command has it.
    """
    if not state_dir.is_dir():
        raise StoreError(_not_a_dir(state_dir))
    fd = _flock(state_dir / "kiosk.lock")
    try:
        yield
    finally:
        os.close(fd)


def _prepare_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise StoreError(_not_a_dir(path))
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as e:
        raise StoreError(f"cannot create state directory {path}: {e.strerror}") from e
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(
            f"state directory {path} is not writable by this user; "
            "fix its owner/permissions or choose another with --state-dir"
        )


def _flock(path: Path) -> int:
    """Take the store's process lock (non-blocking); returns its open descriptor."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o640)
    except OSError as e:
        raise StoreError(f"cannot open lock file {path}: {e.strerror}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        raise StoreLocked(
            f"the store in {path.parent} is in use by another kiosk process "
            f"(pid {holder or '?'}; is the daemon running? stop it or use the cart's controls)",
            pid=int(holder) if holder.isdigit() else None,
        ) from None
    # Who holds the lock, so `kiosk sync` can ask the running daemon to sync.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
