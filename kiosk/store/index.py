"""What the cart asks of its scans all the time, kept up to date as they change.

Counts per verdict, the codes found per stock take, the scans SLiMS has not
confirmed yet and the voided ones: the scan loop, the idle screen and the
uploader ask for these on every scan, so they are indexes, not table scans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from kiosk.models import SyncOutcome, Verdict

_FOUND = frozenset(str(v) for v in Verdict if v.counts_as_found)
#: Sync states that still await SLiMS: never dealt with, or only written to an upload file.
AWAITING_SLIMS = frozenset({None, str(SyncOutcome.EXPORTED)})


class ScanIndex:
    """Running summaries of the live (not voided) scans."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.pending: set[int] = set()  # found scans SLiMS has not answered yet
        self.exported: set[int] = set()  # of those, the ones in an upload file
        self.found: dict[int, Counter[str]] = {}
        self.voided: set[int] = set()

    @classmethod
    def build(cls, columns: Iterable[tuple[Any, ...]]) -> ScanIndex:
        """From ``(seq, verdict, code, session, sync, voided)`` rows, as stored."""
        index = cls()
        for seq, verdict, code, session, sync, voided in columns:
            if voided:
                index.voided.add(seq)
            else:
                index.note(
                    seq, {"verdict": verdict, "code": code, "session": session or 0, "sync": sync}
                )
        return index

    def note(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was stored."""
        verdict = d["verdict"]
        self.counts[verdict] += 1
        if verdict in _FOUND:
            self.found.setdefault(int(d.get("session", 0)), Counter())[d["code"]] += 1
            self.sync(seq, d.get("sync"))

    def sync(self, seq: int, outcome: str | None) -> None:
        """A found scan's sync state is ``outcome``: pending until SLiMS has answered."""
        if outcome in AWAITING_SLIMS:
            self.pending.add(seq)
        else:
            self.pending.discard(seq)
        if outcome == SyncOutcome.EXPORTED:
            self.exported.add(seq)
        else:
            self.exported.discard(seq)

    def forget(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was voided (undo)."""
        verdict = d["verdict"]
        self.counts[verdict] -= 1
        self.pending.discard(seq)
        self.exported.discard(seq)
        self.voided.add(seq)
        if verdict in _FOUND:
            found = self.found.get(int(d.get("session", 0)), Counter())
            found[d["code"]] -= 1
            if found[d["code"]] <= 0:
                del found[d["code"]]
