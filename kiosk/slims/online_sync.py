"""Sync over the network: SLiMS's verdict per item, or verified bulk uploads.

- item mode: one ``stock_take_action`` request per item code; SLiMS's verdict
  (accepted, already scanned, not in this stock take, on loan, skipped by
  rule) is stored per scan.
- upload mode: the bulk stock-take file, in chunks; SLiMS answers only how
  many codes it newly marked found, so a chunk counts as verified when that
  number equals the chunk's size. Otherwise each of its codes is asked again
  one by one, which SLiMS answers without changing anything already found.
  Codes the cart already expects trouble with (on loan, another location,
  not file-safe) go one by one from the start.

Every scan is in the journal before its request leaves, so an "already
scanned" after a crash or a lost answer is recognised as this cart's own.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from kiosk.exc import SlimsNoStockTake
from kiosk.models import Scan, SyncOutcome, Verdict
from kiosk.slims.journal import Journal
from kiosk.slims.ledger import Groups, Ledger, Progress
from kiosk.slims.pages import UPLOAD_CODE

if TYPE_CHECKING:
    from kiosk.slims.client import SlimsClient

__all__ = ["MAX_UPLOAD_BYTES", "OnlineSync"]

log = logging.getLogger(__name__)

#: Keep each upload file well under SLiMS's usual 2 MB limit.
MAX_UPLOAD_BYTES = 1_000_000
#: Verdicts that make SLiMS's refusal likely, so those codes go one by one.
_RISKY = frozenset({Verdict.ON_LOAN, Verdict.WRONG_LOCATION})


class OnlineSync:
    """Send the pending codes to SLiMS's active stock take.

    :param bulk: upload mode (chunks of up to ``chunk`` codes); else item mode.
    """

    def __init__(
        self, client: SlimsClient, journal: Journal, *, bulk: bool, chunk: int = 2000
    ) -> None:
        self.client = client
        self.journal = journal
        self.bulk = bulk
        self.chunk = max(1, chunk)
        self.mode = "upload" if bulk else "item"

    def sync(
        self, groups: Groups, ledger: Ledger, *, stop: threading.Event, progress: Progress
    ) -> None:
        client = self.client
        # The uploader has read which stock take runs (ledger.expect) unless it
        # could not tell; only then is it asked here whether one runs at all.
        if ledger.expect is None and not client.current_stocktake().active:
            raise SlimsNoStockTake(
                f"no stock take is active in SLiMS at {client.base}; start one there "
                "(Stock Take → Initialize) or with `kiosk sync --init NAME`"
            )
        ledger.watch = client
        result = ledger.result
        earlier = self.journal.load()
        total = len(groups)
        done = 0
        singles: list[str] = []
        bulk: list[str] = []
        for k, scans in groups.items():
            alone = (
                not self.bulk
                or scans[0].verdict in _RISKY
                or not UPLOAD_CODE.match(scans[0].code.strip())
            )
            (singles if alone else bulk).append(k)
        for key in singles:
            if stop.is_set():
                result.stopped = True
                return
            self._one(groups[key], earlier, ledger, uploaded=False)
            done += 1
            progress(done, total)
        for chunk in _chunks(bulk, groups, self.chunk):
            if stop.is_set():
                result.stopped = True
                return
            codes = [groups[k][0].code.strip() for k in chunk]
            self.journal.add(str(s.seq) for k in chunk for s in groups[k])
            result.uploads += 1
            landed = client.upload(codes, name=f"kiosk-{os.urandom(6).hex()}.txt")
            result.requests += 1
            if landed == len(chunk):
                result.verified_by_count += len(chunk)
                for key in chunk:
                    ledger.record(groups[key], SyncOutcome.UPLOADED)
                done += len(chunk)
                progress(done, total)
                continue
            log.info("upload newly marked %d of %d codes; checking each", landed, len(chunk))
            for key in chunk:
                if stop.is_set():
                    result.stopped = True
                    return
                self._one(groups[key], earlier, ledger, uploaded=True)
                done += 1
                progress(done, total)

    def _one(self, scans: list[Scan], earlier: set[str], ledger: Ledger, *, uploaded: bool) -> None:
        """Ask SLiMS about one code (sent or uploaded before when ``uploaded``)."""
        client = self.client
        if not uploaded:
            self.journal.add(str(s.seq) for s in scans)
        outcome = client.action(scans[0].code.strip())
        ledger.result.requests += 1
        ours = uploaded or client.last_attempts > 1 or any(str(s.seq) in earlier for s in scans)
        if outcome is SyncOutcome.ALREADY_SCANNED and ours:
            # Our own earlier request (crashed run, lost answer, or the upload) landed.
            outcome = SyncOutcome.UPLOADED if uploaded else SyncOutcome.ACCEPTED
        ledger.record(scans, outcome)


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
