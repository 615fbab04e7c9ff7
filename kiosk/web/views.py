"""What the pages show, worked out from scans and the catalogue: pure, no I/O.

The to-do list follows the librarian's walk: a scan that needs a hand (a book
out of order, from another location, on loan, unknown, or marked missing in
SLiMS and now found) opens an entry; scanning the same book again where it
belongs ticks it off. The pull list ("go and find") is the report's own
judgement of what is missing, limited to one location, so the page and the
end-of-day report never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from kiosk import report
from kiosk.models import Item, Scan, SyncOutcome, Verdict

#: Item statuses that meant "SLiMS thinks this book is lost" to carts that stored such a
#: scan as excluded, before the found-again verdict (English and Indonesian installs).
LOST_STATUSES = frozenset({"missing", "lost", "hilang"})


class TodoKind(StrEnum):
    MISSHELVED = "misshelved"
    WRONG_LOCATION = "wrong_location"
    ON_LOAN = "on_loan"
    UNKNOWN = "unknown"
    FOUND_AGAIN = "found_again"


@dataclass
class Todo:
    """One book that needs a hand, and whether it has had it."""

    kind: TodoKind
    code: str
    seq: int  # the scan that opened it
    call_number: str = ""
    title: str = ""
    #: Where it belongs: the neighbours' call numbers, or its own location.
    where: str = ""
    found_in: str = ""
    done_by: int = 0  # the scan that ticked it off (0: still open)

    @property
    def done(self) -> bool:
        return self.done_by > 0


def opens(scan: Scan, item: Item | None) -> Todo | None:
    """The to-do entry a stored scan opens, if it needs a hand."""
    d = scan.detail
    call = d.call_number or (item.call_number if item else "")

    def entry(kind: TodoKind, where: str = "") -> Todo:
        return Todo(kind, scan.code, scan.seq, call, d.title, where, found_in=scan.location)

    v = scan.verdict
    if v is Verdict.MISSHELVED:
        b = d.belongs
        return entry(
            TodoKind.MISSHELVED,
            " … ".join(c for c in ((b.after_call, b.before_call) if b else ()) if c),
        )
    if v is Verdict.WRONG_LOCATION:
        return entry(
            TodoKind.WRONG_LOCATION, d.expected_location or (item.location if item else "")
        )
    if v is Verdict.ON_LOAN:
        return entry(TodoKind.ON_LOAN)
    if v is Verdict.UNKNOWN:
        return entry(TodoKind.UNKNOWN)
    if v is Verdict.FOUND_AGAIN or (v is Verdict.EXCLUDED and d.status.casefold() in LOST_STATUSES):
        return entry(TodoKind.FOUND_AGAIN)
    return None


def deals_with(todo: Todo, scan: Scan, item: Item | None) -> bool:
    """Whether a later scan of the same book ticks ``todo`` off.

    A book from another location counts once it is scanned in its own
    location; any other entry once the book is scanned again, i.e. after it
    was put back in its place (or on the pile for the desk).
    """
    if todo.done or scan.code != todo.code or scan.seq <= todo.seq:
        return False
    if todo.kind is TodoKind.WRONG_LOCATION:
        return bool(todo.where) and scan.location == todo.where
    return True


class TodoList:
    """The open and ticked-off entries, in the order they were opened."""

    def __init__(self) -> None:
        self._entries: dict[tuple[TodoKind, str], Todo] = {}

    def add(self, scan: Scan, item: Item | None) -> bool:
        """Take one stored scan into account; ``True`` if the list changed."""
        changed = False
        for todo in self._entries.values():
            if deals_with(todo, scan, item):
                todo.done_by = scan.seq
                changed = True
        new = opens(scan, item)
        if new is not None and not changed:
            old = self._entries.get((new.kind, new.code))
            if old is None or old.done:
                self._entries.pop((new.kind, new.code), None)
                self._entries[(new.kind, new.code)] = new
                changed = True
        return changed

    @classmethod
    def of(cls, scans: Iterable[Scan], catalog: Mapping[str, Item]) -> TodoList:
        todo = cls()
        for s in scans:
            todo.add(s, catalog.get(s.code))
        return todo

    def entries(self) -> list[Todo]:
        return list(self._entries.values())

    @property
    def open_count(self) -> int:
        return sum(not t.done for t in self._entries.values())


@dataclass(frozen=True)
class SyncTally:
    """Where the found scans stand with SLiMS."""

    unsynced: int = 0
    exported: int = 0
    confirmed: int = 0
    refused: int = 0  # SLiMS answered, but did not take it (not in the stock take, …)


def sync_tally(scans: Iterable[Scan]) -> SyncTally:
    unsynced = exported = confirmed = refused = 0
    for s in scans:
        if not s.verdict.counts_as_found:
            continue
        if s.sync is None:
            unsynced += 1
        elif s.sync is SyncOutcome.EXPORTED:
            exported += 1
        elif s.sync.confirmed:
            confirmed += 1
        else:
            refused += 1
    return SyncTally(unsynced, exported, confirmed, refused)


def pull_list(
    catalog: Mapping[str, Item],
    scans: Iterable[Scan],
    *,
    location: str,
    excluded_statuses: Iterable[str] = (),
) -> list[Item]:
    """Books missing inside the call-number spans walked so far at ``location``, in shelf order.

    The report's analysis on this location's share of the catalogue: a book is
    only "to find" once shelves on both sides of it were walked.
    """
    here = {c: it for c, it in catalog.items() if it.location == location}
    rep = report.build(here, scans, excluded_statuses=excluded_statuses)
    return [here[c] for c in rep.missing]


def upload_codes(scans: Iterable[Scan]) -> list[str]:
    """Found items SLiMS has not confirmed yet: the lines of a stock-take upload file."""
    codes = (
        s.code
        for s in scans
        if s.verdict.counts_as_found and not (s.sync is not None and s.sync.confirmed)
    )
    return list(dict.fromkeys(codes))
