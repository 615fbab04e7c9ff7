"""What one sync run has confirmed, on its way into the store in batches.

Forgetting a confirmation is the one thing a sync must not do, and storing
each one alone would cost a disk write per scan. So outcomes gather here and
reach the store at least every ``FLUSH_INTERVAL`` seconds (or
``FLUSH_EVERY`` outcomes), and always before the run returns or raises.

A batch due during the run is written on a thread while the next request
is out: SLiMS's time on a 2,000-code upload is spent there instead of idle.
One batch is written at a time, and a write that fails stops the run at
its next batch or its end; until written, a batch counts nowhere.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.background import Background
from kiosk.exc import KioskError, SlimsNoStockTake
from kiosk.models import Scan, SyncOutcome

if TYPE_CHECKING:
    from kiosk.slims.admin_pages import StockTakeIdentity
    from kiosk.slims.client import SlimsClient

__all__ = [
    "FLUSH_EVERY",
    "FLUSH_INTERVAL",
    "Groups",
    "Ledger",
    "Progress",
    "SyncResult",
    "SyncStore",
]

#: Confirmed outcomes reach the store at least this often (seconds, outcomes).
FLUSH_INTERVAL, FLUSH_EVERY = 2.0, 2000

#: Pending scans by item code (trimmed, casefolded, as SLiMS compares), oldest first.
Groups = dict[str, list[Scan]]
#: ``progress(done, total)`` in item codes.
Progress = Callable[[int, int], None]


class SyncStore(Protocol):
    """What the uploader needs from :class:`kiosk.store.Store`."""

    def pending_sync(self, session: int | None = None) -> list[Scan]: ...

    def pending_count(self) -> int: ...

    def set_sync(self, results: Mapping[int, str]) -> None: ...

    def current_session(self) -> int: ...

    def session(self, sid: int) -> dict[str, Any]: ...

    def bind_session(self, sid: int, slims: Mapping[str, Any]) -> None: ...


@dataclass
class SyncResult:
    """What one run did, per scan outcome; ``complete`` when nothing is left pending.

    ``synced`` counts scans SLiMS answered; ``exported`` those only written to an
    upload file (still pending: not in SLiMS until it is uploaded and synced).
    """

    mode: str
    pending: int = 0
    codes: int = 0
    synced: int = 0
    exported: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    left: int = 0
    file: str | None = None
    stopped: bool = False
    elapsed_s: float = 0.0
    requests: int = 0
    uploads: int = 0
    verified_by_count: int = 0
    #: Scans of other (archived) sessions, never sent into this stock take.
    held_back: int = 0

    @property
    def complete(self) -> bool:
        return self.left == 0

    @property
    def confirmed(self) -> int:
        """Scans SLiMS now holds as found (accepted, already scanned, or counted in an upload)."""
        return sum(n for k, n in self.outcomes.items() if SyncOutcome(k).confirmed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "pending": self.pending,
            "codes": self.codes,
            "synced": self.synced,
            "confirmed": self.confirmed,
            "exported": self.exported,
            "left": self.left,
            "outcomes": {str(k): n for k, n in self.outcomes.items()},
            "file": self.file,
            "stopped": self.stopped,
            "elapsed_s": round(self.elapsed_s, 3),
            "requests": self.requests,
            "uploads": self.uploads,
            "verified_by_count": self.verified_by_count,
            "held_back": self.held_back,
        }


class Ledger:
    """Confirmed outcomes of one run, stored in batches.

    :param watch: once set, a batch counts only while this SLiMS still shows
        its stock take active (see :meth:`flush`).
    """

    def __init__(self, store: SyncStore, result: SyncResult, *, since: float) -> None:
        self.store = store
        self.result = result
        self.watch: SlimsClient | None = None
        #: Once set, a batch counts only while SLiMS's active stock take is still this one.
        self.expect: StockTakeIdentity | None = None
        self._batch: dict[int, str] = {}
        self._last_flush = since
        #: The batch being written on a thread.
        self._writing: Background[None] | None = None

    def record(self, scans: list[Scan], outcome: SyncOutcome) -> None:
        """Note ``outcome`` for each scan; store the batch when it is due."""
        for scan in scans:
            self._batch[scan.seq] = outcome
            self.result.outcomes[outcome] += 1
        if len(self._batch) >= FLUSH_EVERY or (
            time.monotonic() - self._last_flush >= FLUSH_INTERVAL
        ):
            self.flush(wait=False)

    def flush(self, *, failing: bool = False, wait: bool = True) -> None:
        """Store the confirmed outcomes, once SLiMS shows the stock take still active.

        SLiMS answers "accepted" even after its stock take was finished (the
        item list stays behind), so a batch counts only if the stock take is
        still running after it. On the error path an unverifiable batch stays
        pending: re-sending it is harmless. Without ``wait`` the batch is
        written on a thread; every flush first waits for the one before.
        """
        self._settle(failing=failing)
        if self._batch:
            if self.watch is not None:
                try:
                    active = self._still_running(self.watch)
                except KioskError:
                    if not failing:
                        raise
                    active = False
                if not active:
                    self._batch = {}
                    if failing:
                        return
                    raise SlimsNoStockTake(
                        f"the stock take in SLiMS at {self.watch.base} ended (or another began) "
                        "during the sync; the last answers were not counted and stay pending"
                    )
            batch, self._batch = self._batch, {}
            if wait or failing:
                self._store(batch)
            else:
                self._writing = Background(self._store, batch, name="sync-ledger")
        self._last_flush = time.monotonic()

    def _store(self, batch: dict[int, str]) -> None:
        self.store.set_sync(batch)
        exported = sum(1 for o in batch.values() if o == SyncOutcome.EXPORTED)
        self.result.exported += exported
        self.result.synced += len(batch) - exported

    def _settle(self, *, failing: bool) -> None:
        """Wait for the batch being written; raise what its write raised (unless failing)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            try:
                writing.wait()
            except BaseException:
                if not failing:
                    raise

    def _still_running(self, client: SlimsClient) -> bool:
        """SLiMS's stock take is still active, and still the one the scans are for."""
        if self.expect is None:
            return client.current_stocktake().active
        info = client.stocktake_info()
        return info.active and info.identity is not None and info.identity.same_as(self.expect)
