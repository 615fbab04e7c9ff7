"""The scan loop: barcodes in, verdicts stored, feedback out.

Every source delivers into one queue and a single thread (the caller of
:meth:`Daemon.run`) decides, stores and signals, so the store has one writer
and verdicts keep the order the barcodes arrived in. The rule that matters
most: a scan is stored durably *before* it is printed or signalled.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, TextIO

from kiosk import __version__
from kiosk.clock import Clock
from kiosk.config import Config
from kiosk.engine import Decision, Engine, Statuses, shelf_order
from kiosk.engine.freshness import CatalogHealth
from kiosk.engine.shelf import ShelfOrder
from kiosk.engine.walk import Walk
from kiosk.exc import StoreError, StoreFull
from kiosk.feedback import Feedback, Status
from kiosk.models import Barcode, Command, ProblemKind, Scan, SyncOutcome, Verdict
from kiosk.scanner import Source
from kiosk.store import Store
from kiosk.text import json_line

if TYPE_CHECKING:
    from kiosk.sync_worker import SyncWorker

log = logging.getLogger(__name__)

#: How often the loop wakes without input, to feed the watchdog.
TICK_S = 1.0
#: How long start-up waits for the shelf order before scanning without it.
SHELF_WAIT_S = 0.3


class Notify(Protocol):
    """The service manager's view of the daemon (:class:`kiosk.systemd.Notifier`)."""

    def ready(self, status: str | None = None) -> bool: ...
    def watchdog(self) -> bool: ...
    def stopping(self, status: str | None = None) -> bool: ...


class _Unmanaged:
    """No service manager is listening (tests, the demo)."""

    def ready(self, status: str | None = None) -> bool:
        return False

    def watchdog(self) -> bool:
        return False

    def stopping(self, status: str | None = None) -> bool:
        return False


class _Event(NamedTuple):
    kind: str  # "barcode" | "problem" | "finished" | "scanners" | "button" | "shelf_order" |
    # "session" | "stop"
    barcode: Barcode | None = None
    text: str = ""
    #: Where the loop puts its answer (a new session: (archived id, new id) or an error text).
    reply: queue.SimpleQueue[tuple[int, int] | str] | None = None


class Daemon:
    """Wires sources → engine → store → feedback for one run of the cart."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        sources: Sequence[Source],
        feedback: Feedback,
        *,
        out: TextIO | None = None,
        sync: SyncWorker | None = None,
        notify: Notify | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.sources = list(sources)
        self.feedback = feedback
        self.out = out
        self.sync = sync
        self.notify = notify or _Unmanaged()
        self.clock = clock or Clock()
        self._anchored = False
        # SimpleQueue.put is reentrant: safe from the SIGTERM handler, unlike Queue.put.
        self._queue: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._live = {s.name for s in self.sources}
        self._stop = threading.Event()
        self._store_problems: set[ProblemKind] = set()
        #: A location/run command was stored but its new shelf run not yet (disk full).
        self._run_due = False
        #: Set once by the shelf-order thread, taken over by the scan loop.
        self._shelf_order: Mapping[str, ShelfOrder] | None = None

        self.engine = Engine(
            store.catalog(),
            cfg.stocktake,
            location=str(store.state().get("location", cfg.stocktake.location)),
            found=store.scanned_codes(),
            statuses=Statuses.resolve(
                cfg.stocktake.excluded_statuses, store.catalog_info().get("statuses")
            ),
            locations=store.locations(),
        )
        #: Run spans and no-label tallies for the screens (rebuilt from the stored scans).
        self.walk = Walk()
        self.walk.recall(store.run_scans())
        if cfg.stocktake.misshelf_check:
            self._prepare_shelf_order()

    def _prepare_shelf_order(self) -> None:
        """Hand the engine the shelf order the store made at pull time.

        Only if the store has none (its index could not be written) is the
        catalogue put in order here, on a thread of its own: a small one is
        in order before the first scan; a large one (seconds on a Pi Zero)
        finishes while scanning has already begun, and the loop hands it to
        the engine at its next event.
        """
        orders = self.store.shelf_orders()
        if orders is not None:
            self.engine.set_shelf_order(orders)
            log.info("shelf order ready: %d locations, made at pull time", len(orders))
            return
        self.engine.await_shelf_order()
        items = list(self.engine.catalog.values())

        def build() -> None:
            t0 = time.monotonic()
            try:
                orders = shelf_order(items)
            except Exception:  # nobody would hear of it on this thread: say so, scan on
                log.exception("cannot put the catalogue in shelf order; misshelf alerts are off")
                orders = {}
            took = time.monotonic() - t0
            log.info("shelf order ready: %d locations in %.2f s", len(orders), took)
            self._shelf_order = orders
            self._queue.put(_Event("shelf_order"))

        thread = threading.Thread(target=build, name="shelf-order", daemon=True)
        thread.start()
        thread.join(SHELF_WAIT_S)
        self._take_shelf_order()

    def _take_shelf_order(self) -> None:
        if self._shelf_order is not None:
            self.engine.set_shelf_order(self._shelf_order)
            self._shelf_order = None

    # -- Sink protocol (called from source threads) ------------------------------
    def barcode(self, barcode: Barcode) -> None:
        self._queue.put(_Event("barcode", barcode))

    def problem(self, message: str) -> None:
        self._queue.put(_Event("problem", text=message))

    def finished(self, source: str) -> None:
        self._queue.put(_Event("finished", text=source))

    def scanners(self, count: int) -> None:
        self._queue.put(_Event("scanners", text=str(count)))

    def button(self, name: str) -> None:
        """A cart button was pressed (called from gpiozero's thread)."""
        self._queue.put(_Event("button", text=name))

    def request_sync(self) -> None:
        """Sync as if the sync button was pressed (``kiosk sync`` signals this)."""
        self._queue.put(_Event("button", text="sync"))

    def new_session(self, name: str) -> queue.SimpleQueue[tuple[int, int] | str]:
        """Archive the current session and start ``name`` on the scan loop (the store's writer).

        The returned queue receives ``(archived id, new id)``, or why it failed.
        """
        reply: queue.SimpleQueue[tuple[int, int] | str] = queue.SimpleQueue()
        self._queue.put(_Event("session", text=name, reply=reply))
        return reply

    def stop(self) -> None:
        """Ask the loop to end (safe from signal handlers and other threads)."""
        self._stop.set()
        self._queue.put(_Event("stop"))

    # -- loop --------------------------------------------------------------------------
    def run(self) -> int:
        try:
            for source in self.sources:
                source.start(self)
            # Ready once the scanners are read (their barcodes wait in the queue);
            # the screen and the checks below follow before the first one is handled.
            self.notify.ready()
            self.feedback.starting(__version__)
            self.feedback.status(self.status())
            if losses := self.store.losses():
                lost = sum(x.lost or 0 for x in losses)
                unknown = " or more" if any(x.lost is None for x in losses) else ""
                message = f"store damage: {lost}{unknown} record(s) lost; run kiosk store recover"
                self.feedback.problem(ProblemKind.STORE, message)
            elif damaged := self.store.damaged_files():
                # Scanning goes on in a fresh store, but nobody may miss that the
                # earlier scans sit in a damaged file until someone recovers them.
                message = f"earlier scans set aside: {damaged[0].name}"
                self.feedback.problem(ProblemKind.STORE, message)
            self._check_catalog()
            self.engine.prepare()  # the shelf being walked, before its first book comes
            log.info(
                "ready: %d catalogue items, %d scans stored", len(self.engine.catalog), self.total
            )
            while not self._stop.is_set():
                self.notify.watchdog()
                try:
                    event = self._queue.get(timeout=TICK_S)
                except queue.Empty:
                    continue
                if event.kind == "barcode" and event.barcode is not None:
                    self.handle(event.barcode)
                elif event.kind == "shelf_order":
                    self._take_shelf_order()
                elif event.kind == "problem":
                    log.warning("%s", event.text)
                elif event.kind == "button":
                    self._button(event.text)
                elif event.kind == "session":
                    self._new_session(event.text, event.reply)
                elif event.kind == "scanners":
                    self._scanners(int(event.text))
                elif event.kind == "finished":
                    self._live.discard(event.text)
                    if not self._live:
                        log.info("all scanner input ended")
                        break
        finally:
            self.notify.stopping()
            for source in self.sources:
                source.stop()
            if self.sync is not None:
                self.sync.stop()
            self.feedback.close()
        return 0

    @property
    def total(self) -> int:
        return sum(self.store.counts().values())

    def status(self) -> Status:
        counts = self.store.counts()
        return Status(
            stocktake=self.store.state().get("stocktake", self.cfg.stocktake.name),
            location=self.engine.location,
            run=self.store.current_run(),
            counts=counts,
            scanned=sum(counts.values()),
            unsynced=self.store.pending_count(),
            exported=self.store.exported_count(),
            catalog_size=len(self.engine.catalog),
            paused=self.engine.paused,
            nolabel=self.store.nolabel_count(self.engine.location),
            last_span=self.walk.last_span,
        )

    def _check_catalog(self) -> None:
        """An empty or old catalogue gives wrong verdicts: say so until it is pulled again."""
        info = self.store.catalog_info()
        loaded = info.get("loaded")
        health = CatalogHealth(
            items=len(self.engine.catalog),
            loaded=float(loaded) if isinstance(loaded, int | float) else None,
            now=self.clock.now().wall,
            max_age_days=self.cfg.stocktake.catalog_max_age_days,
        )
        if not health.ok:
            log.warning("%s; pull it again: kiosk catalog pull", health.message())
            self.feedback.problem(ProblemKind.CATALOG, health.message(), *health.details())

    # -- one barcode ------------------------------------------------------------------------
    def handle(self, barcode: Barcode) -> Scan | None:
        """Decide, store, then signal one barcode; returns the stored scan."""
        self._take_shelf_order()
        decision = self.engine.decide(barcode.text)
        if self.engine.paused and decision.command not in (
            Command.RESUME,
            Command.PAUSE,
            Command.WEB,  # the page's address helps while paused too
        ):
            self.feedback.problem(ProblemKind.PAUSED, "scanning is paused; scan RESUME to go on")
            return None
        if decision.unknown_location:
            # Refused, not stored: every later book would be WRONG PLACE.
            d = decision.detail
            log.warning("location barcode %s refused: %s", barcode.text, d.reason)
            near = ", ".join(decision.near)
            self.feedback.problem(ProblemKind.LOCATION, d.reason, d.arg, *([near] if near else []))
            return None
        stamp = self.clock.now()
        try:
            self._start_due_run()
            scan = self.store.add_scan(
                code=decision.code,
                verdict=decision.verdict,
                scanner=barcode.scanner,
                ts=stamp.wall,
                location=self.engine.location,
                run=self.store.current_run(),
                detail=decision.detail,
                stamp=stamp.to_dict(),
            )
        except StoreError as e:
            self._not_stored(barcode, decision, e)
            return None
        while self._store_problems:
            self.feedback.resolve(self._store_problems.pop())
        if not self._anchored and self.clock.anchor is not None:
            try:
                self.store.save_anchor(self.clock.anchor)
                self._anchored = True
            except StoreError as e:  # the scan is stored; the anchor is tried again next scan
                log.warning("clock anchor not saved yet: %s", e)
        self.engine.apply(scan)
        self.walk.apply(scan)
        if scan.command is not None:
            try:
                self._command(scan.command)
            except StoreError as e:
                # The command is stored but did not take effect yet: no "OK" for it.
                self._not_stored(barcode, decision, e)
                return None
        self._emit(scan)
        self.feedback.scan(scan, decision.item, self.status())
        return scan

    def _not_stored(self, barcode: Barcode, decision: Decision, err: StoreError) -> None:
        kind = ProblemKind.LOW_DISK if isinstance(err, StoreFull) else ProblemKind.STORE
        self._store_problems.add(kind)
        log.error("scan of %s NOT stored: %s", barcode.text, err)
        self.feedback.problem(kind, str(err))
        unstored = Scan(0, decision.code, Verdict.ERROR, barcode.scanner, barcode.ts)
        self.feedback.scan(unstored, decision.item, self.status())

    def _emit(self, scan: Scan) -> None:
        if self.out is None:
            return
        self.out.write(json_line(scan.to_dict()) + "\n")
        self.out.flush()

    def _command(self, command: Command) -> None:
        if command is Command.UNDO:
            self._undo()
        elif command in (Command.RUN, Command.LOCATION):
            self._run_due = True
            self._start_due_run()
        elif command is Command.SYNC:
            self._sync()

    def _start_due_run(self) -> None:
        """Start the shelf run a stored command asked for (again, if the disk was full)."""
        if self._run_due:
            self.store.start_run(self.engine.location)
            self._run_due = False

    def _undo(self) -> None:
        last = self.store.last_undoable()
        if last is None:
            log.info("undo: nothing to take back")
            return
        if self.sync is not None and self.sync.running:
            # The uploader may be sending this very scan: SLiMS would keep it.
            message = "a sync is running: undo when it has finished"
            self.feedback.problem(ProblemKind.UNDO, message)
            return
        if last.sync is not None:
            # SLiMS (or the upload file) already has it: undoing here would make
            # the cart and SLiMS disagree without anyone noticing.
            log.warning("undo refused: scan %d (%s) was already synced", last.seq, last.code)
            where = "in the upload file" if last.sync is SyncOutcome.EXPORTED else "sent to SLiMS"
            message = f"{last.code} already {where}: fix it in SLiMS"
            self.feedback.problem(ProblemKind.UNDO, message, last.code)
            return
        self.store.void(last.seq)
        self.engine.undo(last)
        self.walk.undo(last)
        log.info("undo: scan %d (%s) taken back", last.seq, last.code)

    def _new_session(
        self, name: str, reply: queue.SimpleQueue[tuple[int, int] | str] | None
    ) -> None:
        """A new stock take on the cart: the old one's scans stay in its archived session."""
        old = self.store.current_session()
        try:
            new = self.store.start_session(name)
        except StoreError as e:
            log.error("new session not started: %s", e)
            self.feedback.problem(ProblemKind.STORE, str(e))
            if reply is not None:
                reply.put(str(e))
            return
        self.engine.new_session()
        self.walk = Walk()
        log.info("session %d archived; session %d (%s) begins", old, new, name)
        self.feedback.status(self.status())
        if reply is not None:
            reply.put((old, new))

    def _sync(self) -> None:
        if self.sync is None:
            log.info("sync requested, but this run has no uploader")
        else:
            self.sync.trigger()

    def _scanners(self, count: int) -> None:
        if count:
            self.feedback.resolve(ProblemKind.NO_SCANNER)
        else:
            self.feedback.problem(ProblemKind.NO_SCANNER, "no scanner connected: plug one in")

    def _button(self, name: str) -> None:
        if name == "sync":
            self._sync()
        elif name == "shutdown":
            log.info("shutdown button held: stopping")
            self.stop()
