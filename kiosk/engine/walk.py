"""What the librarian has walked in this shelf run, for the screens: the run's span.

The LOCATION and NEW RUN screens say more than "done": which call numbers the
run just finished covered. That follows from the run's stored scans; this
keeps it up to date as scans are stored and taken back, and rebuilds it from
the current run's scans when the daemon starts (never from the whole history).
"""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.models import Command, Scan, Verdict

#: Verdicts of books that stand on the walked shelf (their call numbers make the span).
_ON_SHELF = frozenset({Verdict.OK, Verdict.MISSHELVED, Verdict.ON_LOAN, Verdict.DUPLICATE})


class Walk:
    """The current run's span, fed every stored (and every undone) scan."""

    def __init__(self) -> None:
        self._run: list[tuple[int, str]] = []  # (seq, call number) in the current run
        #: First and last call number of the run that ended last ("" if unknown).
        self.last_span: tuple[str, str] = ("", "")

    def recall(self, run_scans: Iterable[Scan]) -> None:
        """After a restart: rebuild from the current run's live scans, oldest first."""
        for scan in run_scans:
            if scan.command is None:
                self._note_book(scan)

    def apply(self, scan: Scan) -> None:
        """A scan was stored."""
        command = scan.command
        if command in (Command.RUN, Command.LOCATION):
            calls = [c for _, c in self._run]
            self.last_span = (calls[0], calls[-1]) if calls else ("", "")
            self._run = []
        elif command is None:
            self._note_book(scan)

    def undo(self, scan: Scan) -> None:
        """A stored scan was taken back."""
        self._run = [(seq, c) for seq, c in self._run if seq != scan.seq]

    def _note_book(self, scan: Scan) -> None:
        call = scan.detail.call_number
        if scan.verdict in _ON_SHELF and call:
            self._run.append((scan.seq, call))
