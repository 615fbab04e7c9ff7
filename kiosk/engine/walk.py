"""What the librarian has walked so far, for the screens: run spans and no-label tallies.

The LOCATION, NEW RUN and NO LABEL screens say more than "done": which run
begins, which call numbers the run just finished covered, how many books
without a label were counted at this location. Those facts follow from the
stored scans; this keeps them up to date as scans are stored and taken back,
and rebuilds them from the store when the daemon starts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from kiosk.models import Command, Scan, Verdict

#: Verdicts of books that stand on the walked shelf (their call numbers make the span).
_ON_SHELF = frozenset({Verdict.OK, Verdict.MISSHELVED, Verdict.ON_LOAN, Verdict.DUPLICATE})


class Walk:
    """Run spans and no-label tallies, fed every stored (and every undone) scan."""

    def __init__(self) -> None:
        self._nolabel: Counter[str] = Counter()  # by casefolded location
        self._run: list[tuple[int, str]] = []  # (seq, call number) in the current run
        #: First and last call number of the run that ended last ("" if unknown).
        self.last_span: tuple[str, str] = ("", "")

    def recall(self, scans: Iterable[Scan], run: int) -> None:
        """After a restart: rebuild from the stored live scans, oldest first; ``run`` is current."""
        for scan in scans:
            if scan.command is Command.NOLABEL:
                self._nolabel[scan.location.casefold()] += 1
            elif scan.run == run:
                self._note_book(scan)

    def apply(self, scan: Scan) -> None:
        """A scan was stored."""
        command = scan.command
        if command is Command.NOLABEL:
            self._nolabel[scan.location.casefold()] += 1
        elif command in (Command.RUN, Command.LOCATION):
            calls = [c for _, c in self._run]
            self.last_span = (calls[0], calls[-1]) if calls else ("", "")
            self._run = []
        else:
            self._note_book(scan)

    def undo(self, scan: Scan) -> None:
        """A stored scan was taken back."""
        if scan.command is Command.NOLABEL:
            key = scan.location.casefold()
            self._nolabel[key] = max(0, self._nolabel[key] - 1)
        else:
            self._run = [(seq, c) for seq, c in self._run if seq != scan.seq]

    def nolabel(self, location: str) -> int:
        """Books without a label counted at ``location`` (any spelling of it)."""
        return self._nolabel[location.casefold()]

    def _note_book(self, scan: Scan) -> None:
        call = scan.detail.call_number
        if scan.verdict in _ON_SHELF and call:
            self._run.append((scan.seq, call))
