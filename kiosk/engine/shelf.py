"""Shelf order of one location, and misshelf alerts that do not cry wolf.

:class:`ShelfOrder` places every catalogue item of a location by call number.
:class:`ShelfRun` follows the librarian along the shelf and judges each scan at
once, with no lookahead, so a beep can come while the book is still in hand.

How a scan is judged
--------------------
The run keeps an *anchor*: the last book that stood in order. A scanned book
*fits* after a book A when it does not stand before A in shelf order and at
most ``max_gap`` *expected* books lie between them. Expected means: in this
location's catalogue, not on loan, and not scanned yet (in any run). On-loan
and already-scanned books therefore never count as a gap, however many.

1. The first scan of a run (or after :meth:`ShelfRun.new_run`) is never an alert.
2. A book that fits after the anchor is in order; it becomes the anchor.
3. Otherwise, if it fits after the *alternative* (see 4), the alternative was
   right after all: the book is in order, becomes the anchor, and the old
   anchor becomes the alternative (so a misplaced block of books, or a book
   that was wrongly taken as anchor, costs one alert, not one per book).
4. Otherwise it is misshelved: one alert, on this book. The anchor stays, so
   the next book is judged against the last book in order, not against the
   stray one; the stray book becomes the alternative.

Consequences, each proved by a test:

* one book displaced backward, or forward past more than ``max_gap`` expected
  books: exactly one alert, on that book;
* two neighbours swapped: exactly one alert (on the second one scanned: when
  the first is scanned, one expected book is skipped, which is a legal gap);
* a book displaced forward by at most ``max_gap`` expected books cannot be
  told from a gap when it is scanned; the first book it jumped over gets the
  single alert instead;
* up to ``max_gap`` expected books missing in a row: no alert. More than that
  in a row: at most one alert, on the first book after the gap (it looks
  exactly like a book displaced forward); the next book re-anchors silently;
* the end of a run or a new run never raises an alert.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from kiosk.models import Item

if TYPE_CHECKING:
    from kiosk.engine.callnumber import CallNumber

__all__ = ["DEFAULT_MAX_GAP", "Misshelf", "ShelfOrder", "ShelfParts", "ShelfRun"]


#: Expected books that may be missing in a row without an alert. Chosen from the
#: simulation in the tests: fewer gives false alarms on ordinary gaps, more lets
#: short forward displacements put their alert on a neighbour.
DEFAULT_MAX_GAP = 3

#: Observations kept for :meth:`ShelfRun.undo` (a day's scanning fits easily).
_HISTORY = 100_000


class Misshelf(NamedTuple):
    """A book out of call-number order, and where it belongs.

    ``belongs_after`` and ``belongs_before`` are the item codes of its nearest
    catalogue neighbours in shelf order that are not on loan (``None`` at either
    end of the location). ``kind`` is ``behind`` when the book stands after
    books it should precede, ``ahead`` when it jumped past expected books.
    ``found_after`` is the last book of the run that stood in order: when a
    book stood only a few places too early, that one is the stray and this
    alert falls on the first book it jumped over, so a screen can name both.
    """

    code: str
    belongs_after: str | None
    belongs_before: str | None
    kind: Literal["behind", "ahead"]
    found_after: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class ShelfParts(NamedTuple):
    """A location's shelf order as plain columns, one entry per placed book in shelf order.

    What :class:`ShelfOrder` is made of: computed by sorting a catalogue, or
    read back from where the store saved them at pull time, so a daemon
    starts without parsing or sorting a single call number.
    """

    codes: Sequence[str]
    #: Item code → place in ``codes``, for this location's placed books only.
    places: Mapping[str, int]
    #: Shelf position per place; books that may stand either way share one.
    positions: Sequence[int]
    on_loan: Sequence[int]
    statuses: Sequence[str]
    #: Per place, the nearest place at or before / at or after it not on loan (-1 / len).
    prev_avail: Sequence[int]
    next_avail: Sequence[int]
    unplaced: tuple[str, ...] = ()
    problems: Mapping[str, tuple[str, ...]] = MappingProxyType({})


class ShelfOrder:
    """Catalogue items of one location in the order they stand on the shelf.

    Items whose call number cannot be ordered (empty, ``-``, ``???``) are kept
    apart in :attr:`unplaced`: they are never judged, and never cause alerts.
    ``read`` reads a call number; only a benchmark comparing readers passes one.
    """

    def __init__(
        self,
        items: Iterable[Item],
        *,
        location: str | None = None,
        read: Callable[[str], CallNumber] | None = None,
    ) -> None:
        if read is None:  # imported here: an order read back from the store parses nothing
            from kiosk.engine.callnumber import parse  # noqa: PLC0415

            read = parse.__wrapped__  # a whole catalogue would flood parse's cache
        self.location = location
        chosen: dict[str, Item] = {}
        for it in items:
            if (location is None or it.location == location) and it.code not in chosen:
                chosen[it.code] = it
        # Parsed call numbers live only while sorting: kept for 50,000 items they
        # would cost the daemon some 40 MB, a third of a Pi Zero's budget.
        placed: list[tuple[tuple[object, ...], tuple[object, ...], str]] = []
        unplaced: list[str] = []
        problems: dict[str, tuple[str, ...]] = {}
        for code, it in chosen.items():
            cn = read(it.call_number)
            if cn.problems:
                problems[code] = cn.problems
            if cn.orderable:
                placed.append((cn.key, cn.shelf_key, code))
            else:
                unplaced.append(code)
        placed.sort()
        codes = tuple(code for _, _, code in placed)
        # Books with equal shelf keys share a position and may stand either way.
        # Per-book numbers are kept in arrays: a list of int objects costs 4x more.
        positions = array("i")
        prev: tuple[object, ...] | None = None
        p = -1
        for _, sk, _code in placed:
            if sk != prev:
                p += 1
                prev = sk
            positions.append(p)
        loan = array("b", [chosen[c].on_loan for c in codes])
        n = len(codes)
        prev_avail = array("i", [-1]) * n
        last = -1
        for i in range(n):
            if not loan[i]:
                last = i
            prev_avail[i] = last
        next_avail = array("i", [n]) * n
        last = n
        for i in range(n - 1, -1, -1):
            if not loan[i]:
                last = i
            next_avail[i] = last
        self._take(
            ShelfParts(
                codes=codes,
                places={c: i for i, c in enumerate(codes)},
                positions=positions,
                on_loan=loan,
                statuses=tuple(chosen[c].status for c in codes),
                prev_avail=prev_avail,
                next_avail=next_avail,
                unplaced=tuple(sorted(unplaced)),
                problems=problems,
            )
        )

    @classmethod
    def from_parts(cls, parts: ShelfParts, *, location: str | None = None) -> ShelfOrder:
        """An order computed earlier (see :class:`ShelfParts`): nothing is parsed or sorted."""
        order = cls.__new__(cls)
        order.location = location
        order._take(parts)
        return order

    def _take(self, parts: ShelfParts) -> None:
        self.parts = parts
        self._codes = parts.codes
        self._index = parts.places
        self._pos_list = parts.positions
        self._loan = parts.on_loan
        self._prev_avail = parts.prev_avail
        self._next_avail = parts.next_avail
        self.positions = self._pos_list[-1] + 1 if len(self._pos_list) else 0
        self.unplaced: tuple[str, ...] = parts.unplaced
        self.problems: Mapping[str, tuple[str, ...]] = parts.problems

    @classmethod
    def by_location(cls, items: Iterable[Item]) -> dict[str, ShelfOrder]:
        """One order per location, for a whole catalogue."""
        groups: dict[str, list[Item]] = {}
        for it in items:
            groups.setdefault(it.location, []).append(it)
        return {loc: cls(its, location=loc) for loc, its in groups.items()}

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self._index.get(code) is not None

    @property
    def codes(self) -> Sequence[str]:
        """Placed item codes in shelf order."""
        return self._codes

    @property
    def statuses(self) -> Sequence[str]:
        """Item status per place in :attr:`codes`."""
        return self.parts.statuses

    def placed(self, codes: Iterable[str]) -> set[str]:
        """Those of ``codes`` placed in this order."""
        return self._index.keys() & set(codes)

    def on_loan(self, code: str) -> bool:
        """Whether a placed book is on loan (``False`` for a code not placed here)."""
        i = self._index.get(code)
        return i is not None and bool(self._loan[i])

    def index(self, code: str) -> int | None:
        """Place in :attr:`codes` (distinct for every item)."""
        return self._index.get(code)

    def position(self, code: str) -> int | None:
        """Shelf position; books that may stand in either order share one."""
        i = self._index.get(code)
        return None if i is None else self._pos_list[i]

    def neighbours(self, code: str) -> tuple[str | None, str | None]:
        """Nearest books before and after ``code`` in shelf order that are not on loan."""
        i = self._index.get(code)
        if i is None:
            return None, None
        n = len(self._codes)
        b = self._prev_avail[i - 1] if i > 0 else -1
        a = self._next_avail[i + 1] if i + 1 < n else n
        return (self._codes[b] if b >= 0 else None), (self._codes[a] if a < n else None)

    def expected_counts(self, seen: Iterable[str]) -> list[int]:
        """Books per shelf position still expected there: not on loan, not yet seen."""
        counts = [0] * self.positions
        for p, loan in zip(self._pos_list, self._loan, strict=True):
            if not loan:
                counts[p] += 1
        for code in set(seen):
            i = self._index.get(code)
            if i is not None and not self._loan[i]:
                counts[self._pos_list[i]] -= 1
        return counts


class _Fenwick:
    """Prefix sums with point updates, both O(log n)."""

    def __init__(self, values: list[int]) -> None:
        n = len(values)
        tree = array("l", [0, *values])
        for i in range(1, n + 1):
            j = i + (i & -i)
            if j <= n:
                tree[j] += tree[i]
        self._tree = tree

    def add(self, index: int, delta: int) -> None:
        i = index + 1
        tree = self._tree
        while i < len(tree):
            tree[i] += delta
            i += i & -i

    def prefix(self, end: int) -> int:
        """Sum of values[0:end]."""
        i = end
        total = 0
        tree = self._tree
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total


class _Step(NamedTuple):
    code: str  # "" for a new run
    anchor: str | None
    alt: str | None
    counted: bool  # the code left the expected books with this step
    marked: bool  # the code entered the seen set with this step


class ShelfRun:
    """The librarian's walk along one location's shelves (see the module notes).

    The engine calls :meth:`check` for the verdict, stores the scan, then calls
    :meth:`accept` with the same code; :meth:`undo` reverts the last accepted
    scan, :meth:`new_run` starts a new shelf run. Codes that are not placed in
    this location are judged ``None`` and change nothing.
    """

    def __init__(
        self,
        order: ShelfOrder,
        *,
        max_gap: int = DEFAULT_MAX_GAP,
        seen: Iterable[str] = (),
    ) -> None:
        if max_gap < 0:
            raise ValueError(f"max_gap must be 0 or more, not {max_gap}")
        self.order = order
        self.max_gap = max_gap
        self._seen: set[str] = order.placed(seen)
        self._expected = _Fenwick(order.expected_counts(self._seen))
        self._anchor: str | None = None
        self._alt: str | None = None
        self._history: deque[_Step] = deque(maxlen=_HISTORY)

    @property
    def anchor(self) -> str | None:
        """The last book of this run that stood in order."""
        return self._anchor

    def gap(self, after: str, code: str) -> int:
        """Expected books (not on loan, not scanned) strictly between two placed books."""
        pa, p = self.order.position(after), self.order.position(code)
        if pa is None or p is None or p <= pa + 1:
            return 0
        return self._expected.prefix(p) - self._expected.prefix(pa + 1)

    def check(self, code: str) -> Misshelf | None:
        """Verdict for ``code`` scanned now; changes nothing."""
        return self._judge(code)[0]

    def accept(self, code: str) -> Misshelf | None:
        """Record that ``code`` was scanned (after it is stored); returns its verdict."""
        verdict, anchor, alt = self._judge(code)
        marked = code in self.order and code not in self._seen
        counted = False
        if marked:
            self._seen.add(code)
            pos = self.order.position(code)
            if pos is not None and not self.order.on_loan(code):
                self._expected.add(pos, -1)
                counted = True
        self._history.append(_Step(code, self._anchor, self._alt, counted, marked))
        self._anchor, self._alt = anchor, alt
        return verdict

    def new_run(self) -> None:
        """Start a new shelf run: its first book is never an alert; scans so far stay seen."""
        self._history.append(_Step("", self._anchor, self._alt, False, False))
        self._anchor = self._alt = None

    def undo(self, code: str | None = None) -> bool:
        """Revert the last :meth:`accept` or :meth:`new_run`.

        With ``code``, only if the last step accepted that code, so an engine
        that undoes a scan this run never saw cannot undo the wrong one.
        Returns whether anything was reverted.
        """
        if not self._history:
            return False
        step = self._history[-1]
        if code is not None and step.code != code:
            return False
        self._history.pop()
        if step.marked:
            self._seen.discard(step.code)
        if step.counted:
            pos = self.order.position(step.code)
            if pos is not None:
                self._expected.add(pos, 1)
        self._anchor, self._alt = step.anchor, step.alt
        return True

    def mark_seen(self, code: str) -> None:
        """Count a book scanned outside this run (another cart) as no longer expected."""
        if code in self.order and code not in self._seen:
            self._seen.add(code)
            pos = self.order.position(code)
            if pos is not None and not self.order.on_loan(code):
                self._expected.add(pos, -1)

    def _fits(self, after: str, code: str) -> bool:
        pa, p = self.order.position(after), self.order.position(code)
        if pa is None or p is None or p < pa:
            return False
        return self.gap(after, code) <= self.max_gap

    def _judge(self, code: str) -> tuple[Misshelf | None, str | None, str | None]:
        """The verdict, and the anchor and alternative after this scan."""
        pos = self.order.position(code)
        if pos is None:
            return None, self._anchor, self._alt
        anchor, alt = self._anchor, self._alt
        if anchor is None or self._fits(anchor, code):
            return None, code, None
        if alt is not None and self._fits(alt, code):
            return None, code, anchor
        apos = self.order.position(anchor)
        kind: Literal["behind", "ahead"] = "behind" if apos is not None and pos < apos else "ahead"
        before, after = self.order.neighbours(code)
        return Misshelf(code, before, after, kind, anchor), anchor, code
