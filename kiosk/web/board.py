"""The pages' live picture of the cart, kept off the scan loop.

The board listens to the daemon the way the buzzer and screen do (it is a
:class:`~kiosk.feedback.Feedback`, teed beside the real one by the wiring):
each call only drops a note in an unbounded queue and returns, so the scan
loop never waits for a page. The board's own thread takes the notes, keeps
the current session's scans, the to-do list and the sync state up to date,
and tells the open pages through the :class:`~kiosk.web.hub.Hub`.

It reads the store only off the scan loop and only through the store's own
short queries: once at start (this session's scans), and after a sync, one
scan at a time, for SLiMS's answers.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.feedback import Feedback, Status
from kiosk.models import Command, Item, ProblemKind, Scan
from kiosk.store import Store
from kiosk.web.hub import Event, Hub
from kiosk.web.views import SyncTally, Todo, TodoList, pull_list, sync_tally

log = logging.getLogger(__name__)

#: Scans the "Now" page lists.
RECENT = 20
#: The pull list is worked out at most this often (it walks a location's catalogue).
PULL_EVERY_S = 2.0


@dataclass(frozen=True)
class Now:
    """What the "Now" page shows, as of one moment."""

    status: Status
    today: int
    total: int
    recent: list[Scan]
    sync: SyncTally
    syncing: tuple[int, int] | None
    problems: dict[ProblemKind, str] = field(default_factory=dict)
    version: int = 0


class Board:
    """Implements the :class:`~kiosk.feedback.Feedback` calls by taking notes; see the module."""

    def __init__(
        self,
        store: Store,
        hub: Hub,
        *,
        excluded_statuses: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.hub = hub
        self.excluded = tuple(excluded_statuses)
        self._clock = clock
        self._notes: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._scans: dict[int, Scan] = {}
        self._todo = TodoList()
        self._status = Status()
        self._syncing: tuple[int, int] | None = None
        self._problems: dict[ProblemKind, str] = {}
        self._catalog: Mapping[str, Item] = {}
        self._session = 0
        self._pull: tuple[int, str, float, list[Item]] | None = None
        self._now: Now | None = None
        self.version = 0
        self._changed = threading.Condition()
        self.ready = threading.Event()  # set once the stored scans are in (tests wait on it)
        self.idle = threading.Event()  # set whenever every note so far is taken in
        self._thread = threading.Thread(target=self._run, name="web-board", daemon=True)
        self._thread.start()

    # -- Feedback protocol: called on the scan loop; a queue put and nothing else ----
    def starting(self, version: str = "") -> None:
        pass

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        self._notes.put(("scan", (scan, status)))

    def status(self, status: Status) -> None:
        self._notes.put(("status", status))

    def progress(self, title: str, done: int, total: int) -> None:
        self._notes.put(("progress", (done, total)))

    def problem(self, kind: ProblemKind, message: str, *details: str) -> None:
        self._notes.put(("problem", (kind, message)))

    def resolve(self, kind: ProblemKind) -> None:
        self._notes.put(("resolve", kind))

    def close(self) -> None:
        self._notes.put(("close", None))
        self._thread.join(5.0)

    # -- the board's thread ------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._load()
        except Exception:  # the page is a convenience: scanning goes on without it
            log.exception("the web page cannot read the stored scans")
        self.ready.set()
        while True:
            self.idle.set()
            notes = [self._notes.get()]
            self.idle.clear()
            while True:  # take everything waiting, then tell the pages once
                try:
                    notes.append(self._notes.get_nowait())
                except queue.Empty:
                    break
            events: list[Event] = []
            for kind, value in notes:
                if kind == "close":
                    return
                try:
                    events += self._take(kind, value)
                except Exception:
                    log.exception("web page: cannot take in %s", kind)
            with self._lock:
                self.version += 1
            for event in events:
                self.hub.publish(event)
            with self._changed:
                self._changed.notify_all()

    def _load(self) -> None:
        catalog = self.store.catalog()
        session = self.store.current_session()
        scans = self.store.scans(session=session)
        status = _status_of(self.store)
        with self._lock:
            self._session = session
            self._scans = {}
            self._pull = None
            self._catalog = catalog
            for s in scans:
                self._scans.setdefault(s.seq, s)
            self._todo = TodoList.of(self._scans.values(), catalog)
            self._status = status

    def _take(self, kind: str, value: Any) -> list[Event]:
        if kind in ("scan", "status") and self.store.current_session() != self._session:
            self._load()  # a new stock take began: its lists start empty
        if kind == "scan":
            scan, status = value
            return self._take_scan(scan, status)
        if kind == "status":
            with self._lock:
                self._status = value
            return [Event("status")]
        if kind == "progress":
            done, total = value
            with self._lock:
                self._syncing = (done, total) if done < total else None
            return [Event("sync", json.dumps({"done": done, "total": total}))]
        if kind in ("problem", "resolve"):
            which = value[0] if kind == "problem" else value
            with self._lock:
                if kind == "problem":
                    self._problems[which] = value[1]
                else:
                    self._problems.pop(which, None)
            if which is ProblemKind.SLIMS:  # a sync ended, one way or the other
                self._refresh_sync()
            return [Event("status")]
        return []

    def _take_scan(self, scan: Scan, status: Status) -> list[Event]:
        if scan.seq <= 0:  # not stored (the store refused it): nothing changed
            return [Event("status")]
        data = {"seq": scan.seq, "code": scan.code, "verdict": str(scan.verdict)}
        event = Event("scan", json.dumps(data, ensure_ascii=False))
        with self._lock:
            self._status = status
            if scan.seq in self._scans:
                # Already read from the store (the board loaded after it was stored):
                # open pages still hear of it, the lists do not count it twice.
                return [event]
            self._scans[scan.seq] = scan
            self._todo.add(scan, self._catalog.get(scan.code))
        if scan.command is Command.UNDO:
            self._take_undo(scan)
        elif scan.command in (Command.RUN, Command.LOCATION):
            with self._lock:
                self._pull = None
        return [event]

    def _take_undo(self, undo: Scan) -> None:
        """Drop the scan the undo took back (the daemon voided it before telling us)."""
        with self._lock:
            candidates = [s for s in self._scans.values() if s.seq < undo.seq and s.undoable]
        if not candidates:
            return
        last = candidates[-1]
        stored = self.store.scan(last.seq)
        if stored is not None and stored.voided:
            with self._lock:
                del self._scans[last.seq]
                self._todo = TodoList.of(self._scans.values(), self._catalog)
                self._pull = None

    def _refresh_sync(self) -> None:
        """Read SLiMS's answers for the scans that had none, one short store query each."""
        with self._lock:
            waiting = [s.seq for s in self._scans.values() if s.sync is None]
        for seq in waiting:
            stored = self.store.scan(seq)
            if stored is not None and stored.sync is not None:
                with self._lock:
                    if seq in self._scans:
                        self._scans[seq] = stored
        status = _status_of(self.store)
        with self._lock:
            self._status = status
            self._syncing = None

    def wait(self, predicate: Callable[[Board], bool], timeout: float = 10.0) -> bool:
        """Wait until ``predicate(self)`` holds (tests and the benchmark)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def has(self, seq: int) -> bool:
        """Whether the scan ``seq`` is on the board."""
        with self._lock:
            return seq in self._scans

    # -- read by the pages (any thread) ------------------------------------------------------
    def now(self) -> Now:
        midnight = _midnight(self._clock())
        with self._lock:
            if self._now is not None and self._now.version == self.version:
                return self._now
            items = [s for s in self._scans.values() if s.command is None]
            today = sum(s.ts >= midnight for s in items)
            recent = list(self._scans.values())[-RECENT:][::-1]
            self._now = Now(
                status=self._status,
                today=today,
                total=len(items),
                recent=recent,
                sync=sync_tally(self._scans.values()),
                syncing=self._syncing,
                problems=dict(self._problems),
                version=self.version,
            )
            return self._now

    def todo(self) -> list[Todo]:
        """The to-do entries (copies: the board goes on changing its own)."""
        with self._lock:
            return [replace(t) for t in self._todo.entries()]

    def scans(self) -> list[Scan]:
        with self._lock:
            return list(self._scans.values())

    @property
    def catalog(self) -> Mapping[str, Item]:
        return self._catalog

    def locations(self) -> list[str]:
        """The catalogue's locations (from its index: no item is read)."""
        return self.store.locations()

    def pull_list(self) -> tuple[str, list[Item]]:
        """This location's books to go and find (worked out again at most every few seconds)."""
        with self._lock:
            location, version, cached = self._status.location, self.version, self._pull
        now = time.monotonic()
        fresh = cached is not None and (cached[0] == version or now - cached[2] < PULL_EVERY_S)
        if cached is not None and fresh and cached[1] == location:
            return location, cached[3]
        items = pull_list(
            self._catalog, self.scans(), location=location, excluded_statuses=self.excluded
        )
        with self._lock:
            self._pull = (version, location, now, items)
        return location, items


def _status_of(store: Store) -> Status:
    counts = store.counts()
    state = store.state()
    return Status(
        stocktake=str(state.get("stocktake", "")),
        location=str(state.get("location", "")),
        run=store.current_run(),
        counts=counts,
        scanned=sum(counts.values()),
        unsynced=store.pending_count(),
        catalog_size=len(store.catalog()),
    )


def _midnight(now: float) -> float:
    t = time.localtime(now)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


class Tee:
    """Feedback to the cart's parts and to the web page alike (the wiring puts it in place).

    The page's board is told second and only queues a note, so the buzzer and
    screen come first and never wait for it.
    """

    def __init__(self, first: Feedback, board: Board, on_close: Callable[[], None]) -> None:
        self.page: Any = None  # the running page (kiosk.web.Page), for tests and the benchmark
        self.first = first
        self.board = board
        self._on_close = on_close

    def starting(self, version: str = "") -> None:
        self.first.starting(version)

    def scan(self, scan: Scan, item: Item | None, status: Status) -> None:
        self.first.scan(scan, item, status)
        self.board.scan(scan, item, status)

    def status(self, status: Status) -> None:
        self.first.status(status)
        self.board.status(status)

    def progress(self, title: str, done: int, total: int) -> None:
        self.first.progress(title, done, total)
        self.board.progress(title, done, total)

    def problem(self, kind: ProblemKind, message: str, *details: str) -> None:
        self.first.problem(kind, message, *details)
        self.board.problem(kind, message, *details)

    def resolve(self, kind: ProblemKind) -> None:
        self.first.resolve(kind)
        self.board.resolve(kind)

    def close(self) -> None:
        try:
            self._on_close()
        finally:
            self.board.close()
            self.first.close()

    def __getattr__(self, name: str) -> Any:
        # The real panel's extras (``button``, ``display``, ``pin_factory``) stay reachable.
        return getattr(self.first, name)
