"""What the cart asks of its scans all the time, kept up to date as they change.

Counts per verdict, the codes found per stock take, the scans SLiMS has not
confirmed yet and the voided ones: the scan loop, the idle screen and the
uploader ask for these on every scan, so they are indexes, not table scans.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from kiosk.models import Command, SyncOutcome, Verdict

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
        #: Books without a label tallied, by (session, casefolded location).
        self.nolabel: Counter[tuple[int, str]] = Counter()

    #: The stored fields :meth:`build` reads, in order after the sequence number.
    COLUMNS = ("verdict", "code", "session", "sync", "voided", "location", "detail")

    @classmethod
    def build(cls, columns: Iterable[tuple[Any, ...]]) -> ScanIndex:
        """From ``(seq, *COLUMNS)`` rows, as stored."""
        index = cls()
        for seq, verdict, code, session, sync, voided, location, detail in columns:
            if voided:
                index.voided.add(seq)
            else:
                d = {"verdict": verdict, "code": code, "session": session or 0, "sync": sync}
                index.note(seq, d | {"location": location or "", "detail": detail})
        return index

    def _nolabel_key(self, d: Mapping[str, Any]) -> tuple[int, str] | None:
        if d["verdict"] != Verdict.COMMAND:
            return None
        detail = d.get("detail") or {}
        if isinstance(detail, str):  # nested values are kept as JSON text in memory
            detail = json.loads(detail)
        if detail.get("command") != Command.NOLABEL:
            return None
        return int(d.get("session", 0)), str(d.get("location") or "").casefold()

    def note(self, seq: int, d: Mapping[str, Any]) -> None:
        """A live scan was stored."""
        verdict = d["verdict"]
        self.counts[verdict] += 1
        if verdict in _FOUND:
            self.found.setdefault(int(d.get("session", 0)), Counter())[d["code"]] += 1
            self.sync(seq, d.get("sync"))
        elif (key := self._nolabel_key(d)) is not None:
            self.nolabel[key] += 1

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
        if (key := self._nolabel_key(d)) is not None:
            self.nolabel[key] -= 1
        if verdict in _FOUND:
            found = self.found.get(int(d.get("session", 0)), Counter())
            found[d["code"]] -= 1
            if found[d["code"]] <= 0:
                del found[d["code"]]
