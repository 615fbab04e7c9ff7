"""Shelf order and misshelf alerts: exact no-fatigue rules, then a simulated stock take."""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pytest

from kiosk.engine.callnumber import CallNumber
from kiosk.engine.shelf import DEFAULT_MAX_GAP, Misshelf, ShelfOrder, ShelfRun
from kiosk.models import Item
from tests.test_callnumber import hand_sorted_shelves

K = DEFAULT_MAX_GAP


def code(i: int) -> str:
    return f"B{i:04d}"


def shelf(n: int = 80, on_loan: Iterable[int] = ()) -> ShelfOrder:
    """n books whose call numbers sort in the order of their numbers (listed shuffled)."""
    loaned = set(on_loan)
    items = [
        Item(code(i), f"{i // 10:03d}.{i % 10} ABC t", location="Umum", on_loan=i in loaned)
        for i in range(n)
    ]
    random.Random(n).shuffle(items)
    return ShelfOrder(items)


def walk(run: ShelfRun, books: Sequence[int | str]) -> list[Misshelf]:
    """Scan books in this order (ints are book numbers, "|" starts a new run)."""
    alerts = []
    for b in books:
        if b == "|":
            run.new_run()
            continue
        c = code(b) if isinstance(b, int) else b
        verdict = run.check(c)
        assert run.accept(c) == verdict
        if verdict is not None:
            alerts.append(verdict)
    return alerts


def alerted(alerts: list[Misshelf]) -> list[str]:
    return [a.code for a in alerts]


# -- ShelfOrder -----------------------------------------------------------------


def test_order_follows_call_numbers_not_catalogue_order():
    """Books are placed by call number whatever order the catalogue export lists them in."""
    order = shelf(30)
    assert order.codes == tuple(code(i) for i in range(30))
    assert [order.index(code(i)) for i in (0, 7, 29)] == [0, 7, 29]


def test_copies_share_a_position_and_may_stand_either_way():
    """Two copies of one book (c.1, c.2) stand at the same place; swapping them is no error."""
    items = [
        Item("A", "297.3 SUB m c.2"),
        Item("B", "297.3 SUB m c.1"),
        Item("C", "297.4 SUB m"),
    ]
    order = ShelfOrder(items)
    assert order.codes == ("B", "A", "C")
    assert order.position("A") == order.position("B") != order.position("C")
    assert walk(ShelfRun(order), ["A", "B", "C"]) == []


def test_order_keeps_only_its_location():
    """Items of other locations are not part of a location's shelf order."""
    items = [Item("A", "100 X", location="Umum"), Item("B", "100 Y", location="Referensi")]
    orders = ShelfOrder.by_location(items)
    assert set(orders) == {"Umum", "Referensi"}
    assert "A" in orders["Umum"] and "B" not in orders["Umum"]
    assert ShelfOrder(items, location="Referensi").codes == ("B",)


def test_unreadable_call_numbers_are_reported_and_never_judged():
    """Items with empty or unreadable call numbers are listed, and scanning them never alerts."""
    items = [Item(code(i), f"{100 + i} ABC") for i in range(10)]
    items += [Item("X1", ""), Item("X2", "-"), Item("X3", "???")]
    order = ShelfOrder(items)
    assert order.unplaced == ("X1", "X2", "X3")
    assert set(order.problems) == {"X1", "X2", "X3"}
    assert "X1" not in order and order.position("X1") is None
    run = ShelfRun(order)
    assert walk(run, [5, "X1", "X2", 6, "X3", 7]) == []
    assert run.anchor == code(7)


def test_neighbours_skip_books_on_loan():
    """The 'belongs between' books are ones that can be on the shelf, not books on loan."""
    order = shelf(10, on_loan={4, 6})
    assert order.neighbours(code(5)) == (code(3), code(7))
    assert order.neighbours(code(0)) == (None, code(1))
    assert order.neighbours(code(9)) == (code(8), None)
    assert order.neighbours("nope") == (None, None)


def test_duplicate_codes_keep_the_first_row():
    """A code listed twice in the catalogue is placed once, by its first row."""
    order = ShelfOrder([Item("A", "100 X"), Item("A", "900 X"), Item("B", "500 X")])
    assert order.codes == ("A", "B")


# -- the no-fatigue rules ----------------------------------------------------------


def test_first_scan_of_a_run_never_alerts():
    """The first book of a shelf run is accepted wherever the librarian starts."""
    run = ShelfRun(shelf())
    assert run.check(code(50)) is None
    walk(run, [50, 51])
    run.new_run()
    assert run.check(code(3)) is None


def test_in_order_walk_with_short_gaps_gives_no_alert():
    """Walking in order with up to max_gap books missing in a row never alerts."""
    books = [0, 1, 2]
    nxt = 3
    for g in (1, 0, K, 2, K, 0, 1):
        nxt += g
        books.append(nxt)
        nxt += 1
    assert walk(ShelfRun(shelf()), books) == []


def test_one_book_far_behind_gives_one_alert_on_it():
    """A book that belongs far earlier alerts once, on itself, saying where it belongs."""
    alerts = walk(ShelfRun(shelf()), [10, 11, 12, 3, 13, 14, 15])
    assert alerts == [Misshelf(code(3), code(2), code(4), "behind", found_after=code(12))]


def test_one_book_far_ahead_gives_one_alert_on_it():
    """A book that belongs far later alerts once, on itself; the next books are not blamed."""
    alerts = walk(ShelfRun(shelf()), [10, 11, 12, 40, 13, 14, 15])
    assert alerts == [Misshelf(code(40), code(39), code(41), "ahead", found_after=code(12))]


def test_book_just_past_max_gap_ahead_alerts_on_itself():
    """A book ahead of max_gap + 1 present books is told apart from a gap at once."""
    alerts = walk(ShelfRun(shelf()), [10, 11, 12 + K + 2, 12, 13])
    assert alerted(alerts) == [code(12 + K + 2)]


@pytest.mark.parametrize("where", [3, 20, 60])
def test_swapped_neighbours_give_one_alert(where):
    """Two neighbouring books swapped raise one alert, not two."""
    books = [*range(where - 3, where), where + 1, where, where + 2, where + 3]
    alerts = walk(ShelfRun(shelf()), books)
    assert len(alerts) == 1
    assert alerts[0].code in {code(where), code(where + 1)}


@pytest.mark.parametrize("d", range(2, K + 1))
def test_book_shortly_ahead_gives_one_alert(d):
    """A book ahead by no more than max_gap books raises a single alert, at its spot."""
    books = [8, 9, 10 + d, *range(10, 10 + d), *range(11 + d, 16 + d)]
    alerts = walk(ShelfRun(shelf()), books)
    assert alerted(alerts) == [code(10)]
    assert alerts[0].kind == "behind"
    assert alerts[0].found_after == code(10 + d)  # the real stray, for the screen to name


def test_long_gap_gives_at_most_one_alert_and_recovers():
    """Many books missing in a row cost at most one alert, on the first book after them."""
    alerts = walk(ShelfRun(shelf()), [10, 11, 12, *range(13 + K + 5, 13 + K + 15)])
    assert alerted(alerts) == [code(13 + K + 5)]


def test_books_on_loan_are_no_gap():
    """However many books are on loan in a row, walking past their place never alerts."""
    order = shelf(80, on_loan=range(20, 50))
    assert walk(ShelfRun(order), [17, 18, 19, 50, 51, 52]) == []


def test_books_already_scanned_are_no_gap():
    """Books scanned before (another run, another cart) are not counted as missing."""
    order = shelf()
    run = ShelfRun(order, seen=[code(i) for i in range(20, 50)])
    assert walk(run, [17, 18, 19, 50, 51]) == []
    run2 = ShelfRun(order)
    for i in range(20, 50):
        run2.mark_seen(code(i))
    assert walk(run2, [17, 18, 19, 50, 51]) == []
    assert walk(ShelfRun(order), [17, 18, 19, 50, 51]) != []


def test_book_out_of_place_earlier_in_the_same_run_is_no_gap():
    """A stray book scanned earlier in the run is not expected again at its own place."""
    run = ShelfRun(shelf())
    alerts = walk(run, [10, 11, 14, 12, 13, 15, 16])
    assert alerted(alerts) == [code(12)]


def test_end_of_run_and_new_run_give_no_alert():
    """Ending a run with books missing, then starting a new one anywhere, never alerts."""
    run = ShelfRun(shelf())
    assert walk(run, [30, 31, 32, 33, "|", 5, 6, 7, "|", 70, 71, "|", 50]) == []


def test_misplaced_block_gives_one_alert():
    """A handful of books put back together in the wrong place raise one alert, not one each."""
    alerts = walk(ShelfRun(shelf()), [20, 21, 22, 5, 6, 7, 23, 24])
    assert len(alerts) <= 2
    alerts = walk(ShelfRun(shelf()), [20, 21, 22, 60, 61, 23, 24])
    assert alerted(alerts) == [code(60)]


def test_wrong_start_of_run_costs_one_alert():
    """A run that starts on a stray book raises one alert, then follows the real order."""
    alerts = walk(ShelfRun(shelf()), [50, 3, 4, 5, 6, 7])
    assert alerted(alerts) == [code(3)]


def test_codes_outside_the_location_change_nothing():
    """Scanning a book of another location between two books does not disturb the run."""
    run = ShelfRun(shelf())
    assert walk(run, [10, "ELSEWHERE", 11, 12]) == []
    assert run.anchor == code(12)


def test_check_changes_nothing():
    """Asking for a verdict without storing the scan leaves the run as it was."""
    run = ShelfRun(shelf())
    walk(run, [10, 11])
    for _ in range(3):
        assert run.check(code(40)) is not None
        assert run.check(code(12)) is None
    assert run.anchor == code(11)


# -- undo ----------------------------------------------------------------------------


def test_undo_of_a_stray_scan_restores_the_run():
    """Undoing a wrongly scanned book lets the walk continue as if it had never been scanned."""
    run = ShelfRun(shelf())
    walk(run, [10, 11])
    assert run.accept(code(3)) is not None
    assert run.undo(code(3)) is True
    assert run.anchor == code(11)
    assert walk(run, [12, 3]) != []  # book 3 is expected again, so it is still out of order


def test_undo_restores_the_gap_count():
    """After undoing a scan, that book counts as expected again, so jumping over it is judged."""
    run = ShelfRun(shelf())
    seen = [12, 13, 14, 15, 16]
    walk(run, [10, 11])
    for i in seen:
        run.mark_seen(code(i))
    walk(run, [20])
    assert run.undo() is True
    assert run.check(code(20)) is None
    walk(run, [17])  # 17 scanned and undone: expected again
    run.undo()
    assert run.gap(code(11), code(20)) == 3
    assert run.check(code(21)) is not None


def test_undo_only_the_named_code():
    """Undo for a code the run did not see last does nothing."""
    run = ShelfRun(shelf())
    walk(run, [10, 11])
    assert run.undo(code(10)) is False
    assert run.anchor == code(11)
    assert run.undo(code(11)) is True
    assert run.anchor == code(10)


def test_undo_of_new_run_and_empty_history():
    """Undo reverts a 'new run' command too, and does nothing when there is nothing to undo."""
    run = ShelfRun(shelf())
    assert run.undo() is False
    walk(run, [10, 11, "|"])
    anchors = [run.anchor]
    assert run.undo() is True
    anchors.append(run.anchor)
    assert anchors == [None, code(11)]
    assert run.check(code(3)) is not None


def test_negative_max_gap_is_refused():
    """A negative max_gap is a programming error reported at once."""
    with pytest.raises(ValueError, match="max_gap"):
        ShelfRun(shelf(), max_gap=-1)


def test_misshelf_to_dict_names_the_fields_the_report_reads():
    """The alert is stored with the scan under the names the report reads."""
    d = Misshelf("A", "B", None, "behind", "C").to_dict()
    assert d == {
        "code": "A",
        "belongs_after": "B",
        "belongs_before": None,
        "kind": "behind",
        "found_after": "C",
    }


# -- real call numbers, walked in the order they stand ------------------------------


def shelf_walk(name: str, rows: Sequence[str], seed: int) -> tuple[ShelfOrder, list[str]]:
    """A shelf standing in this order, some books on loan, some missing (never > K in a row)."""
    rng = random.Random(seed)
    items = [
        Item(f"{name}-{i:04d}", cn, location=name, on_loan=rng.random() < 0.1)
        for i, cn in enumerate(rows)
    ]
    order = ShelfOrder(sorted(items, key=lambda it: rng.random()))
    present: list[str] = []
    missing_in_a_row = 0
    for it in items:
        if it.on_loan:
            continue
        if missing_in_a_row < K and rng.random() < 0.15:
            missing_in_a_row += 1
            continue
        missing_in_a_row = 0
        present.append(it.code)
    return order, present


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hand_sorted_shelves_walk_without_alarms(seed):
    """Walking correctly shelved real call numbers (numeric fiction titles too) never alerts."""
    for name, rows in hand_sorted_shelves().items():
        complete = ShelfOrder(Item(f"{name}-{i}", cn, location=name) for i, cn in enumerate(rows))
        assert walk(ShelfRun(complete), list(complete.codes)) == []
        order, present = shelf_walk(name, rows, seed)
        assert walk(ShelfRun(order), present) == [], name


def test_fiction_with_numeric_titles_walks_without_alarms():
    """The reported case: "1984" (F DEE 1) among DEE's books, and ZZZ last, gives no alert."""
    rows = ["F DEE", "F DEE 1", "FIK DEE 5 cm", "F DEE a", "F TER p", "F ZZZ a"]
    order = ShelfOrder(Item(f"B{i}", cn) for i, cn in enumerate(rows))
    assert order.codes == tuple(f"B{i}" for i in range(len(rows)))
    assert walk(ShelfRun(order), list(order.codes)) == []


# -- simulation -----------------------------------------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class Event:
    kind: str  # behind | ahead_near | ahead_far | swap
    own: set[str]
    zone: set[str]


@dataclass
class SimStats:
    scans: int = 0
    alerts: int = 0
    events: Counter[str] = field(default_factory=Counter)
    on_book: Counter[str] = field(default_factory=Counter)  # an alert on the planted book
    in_zone: Counter[str] = field(default_factory=Counter)  # an alert at its spot
    multi: Counter[str] = field(default_factory=Counter)  # more than one alert for one error
    false_alarms: int = 0
    gap_alarms: int = 0  # false alarms on the first book after > max_gap missing books
    long_gaps: int = 0

    def rates(self) -> dict[str, float]:
        out = {
            "false_alarms_per_1000_scans": 1000 * self.false_alarms / self.scans,
            "unexplained_false_alarms_per_1000_scans": 1000
            * (self.false_alarms - self.gap_alarms)
            / self.scans,
        }
        for k, n in sorted(self.events.items()):
            out[f"{k}_missed"] = 1 - self.in_zone[k] / n
            out[f"{k}_on_book"] = self.on_book[k] / n
            out[f"{k}_multi"] = self.multi[k] / n
        return out


def simulate(
    seed: int,
    n: int = 4000,
    *,
    max_gap: int = K,
    error_every: int = 60,
    separated: bool = True,
    on_loan: float = 0.06,
    missing: float = 0.02,
    missing_runs: float = 0.004,
    run_length: int = 400,
    read: Callable[[str], CallNumber] | None = None,
) -> SimStats:
    """Walk a generated location with planted errors; count alerts per error and false alarms.

    With ``separated``, errors are planted well apart from each other and from
    long runs of missing books, so that the exact rules can be asserted.
    ``read`` replaces the call-number reader (a benchmark compares two).
    """
    rng = random.Random(seed)
    items = []
    for i in range(n):
        mark = "".join(rng.choice(LETTERS) for _ in range(3))
        cn = f"{i * 1000 // n:03d}.{i:05d} {mark} {rng.choice(LETTERS).lower()}"
        items.append(Item(f"I{seed}-{i:05d}", cn, location="L", on_loan=rng.random() < on_loan))
    # A series all on loan at once.
    start = rng.randrange(n - 40)
    for i in range(start, start + rng.randrange(5, 40)):
        items[i] = Item(items[i].code, items[i].call_number, location="L", on_loan=True)
    truth = [it.code for it in items]  # generated in shelf order
    rng.shuffle(items)
    order = ShelfOrder(items) if read is None else ShelfOrder(items, read=read)
    cat = list(order.codes)
    assert cat == [c for c in truth if c in order], "the reader disagrees with the shelf"
    loan = {c for c in cat if order.on_loan(c)}
    gone: set[str] = set()
    i = 0
    long_gap_at: set[int] = set()
    while i < n:
        if rng.random() < missing_runs:
            length = rng.randrange(2, 15)
            for j in range(i, min(n, i + length)):
                gone.add(cat[j])
            if sum(1 for c in cat[i : i + length] if c not in loan) > max_gap:
                long_gap_at.update(range(i - 15, i + length + 15))
            i += length
        elif rng.random() < missing:
            gone.add(cat[i])
        i += 1
    # After each book in catalogue order: how many missing (not on loan) books precede it.
    run_missing: dict[str, int] = {}
    streak = 0
    for c in cat:
        if c in loan:
            continue
        if c in gone:
            streak += 1
        else:
            run_missing[c] = streak
            streak = 0
    phys = [c for c in cat if c not in loan and c not in gone]
    stats = SimStats(long_gaps=sum(1 for v in run_missing.values() if v > max_gap))

    events: list[Event] = []
    busy: set[int] = set()
    pos = {c: order.position(c) for c in cat}
    cat_index = {c: k for k, c in enumerate(cat)}
    planted = 0
    tries = 0
    while planted < len(phys) // error_every and tries < 10 * n:
        tries += 1
        k = rng.randrange(20, len(phys) - 400)
        kind = rng.choice(["behind", "ahead_near", "ahead_far", "swap"])
        if kind == "behind":
            d = rng.randrange(1, 300)
            span = range(k - 2, k + d + 3)
        elif kind == "ahead_near":
            d = rng.randrange(1, max_gap + 1)
            span = range(k - 2, k + d + 3)
        elif kind == "ahead_far":
            d = rng.randrange(max_gap + 20, 300)
            span = range(k - 2, k + d + 3)
        else:
            d = 1
            span = range(k - 2, k + 4)
        if separated:
            region = range(span.start - 15, span.stop + 15)
            if any(x in busy for x in region):
                continue
            if any(cat_index[phys[x]] in long_gap_at for x in span if 0 <= x < len(phys)):
                continue
            if pos[phys[k]] == pos[phys[k + 1]]:
                continue
            if any(x % run_length == 0 for x in range(span.start - 3, span.stop + 3)):
                continue  # the first book of a run is never judged
        busy.update(span)
        book = phys[k]
        if kind == "swap":
            a, b = phys[k], phys[k + 1]
            phys[k], phys[k + 1] = b, a
            events.append(Event(kind, {a, b}, {a, b, phys[k + 2]}))
        elif kind == "behind":  # book k stands d books later than it should
            phys.insert(k + d, phys.pop(k))
            events.append(Event(kind, {book}, {book}))
        else:  # book k + d stands before book k
            moved = phys.pop(k + d)
            phys.insert(k, moved)
            # Shortly ahead looks like a gap when scanned: the alert may land on a book it passed.
            zone = {moved, *phys[k + 1 : k + d + 1]} if kind == "ahead_near" else {moved}
            events.append(Event(kind, {moved}, zone))
        planted += 1

    run = ShelfRun(order, max_gap=max_gap)
    alerts: list[str] = []
    for idx, c in enumerate(phys):
        if idx and idx % run_length == 0:
            run.new_run()
        if run.accept(c) is not None:
            alerts.append(c)
    stats.scans = len(phys)
    stats.alerts = len(alerts)
    explained: set[str] = set()
    for ev in events:
        stats.events[ev.kind] += 1
        hits = [a for a in alerts if a in ev.zone]
        stats.in_zone[ev.kind] += bool(hits)
        stats.on_book[ev.kind] += any(a in ev.own for a in hits)
        stats.multi[ev.kind] += len(hits) > 1
        explained.update(ev.zone)
    for a in alerts:
        if a not in explained:
            stats.false_alarms += 1
            stats.gap_alarms += run_missing.get(a, 0) > max_gap
    return stats


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_stock_take_follows_the_rules_exactly(seed):
    """On long shelves with gaps, loans and separated errors, every error alerts exactly once."""
    s = simulate(seed)
    assert sum(s.events.values()) > 40
    for kind, n in s.events.items():
        assert s.in_zone[kind] == n, f"{kind}: missed {n - s.in_zone[kind]} of {n}"
        assert s.multi[kind] == 0, f"{kind}: {s.multi[kind]} errors alerted twice"
    assert s.on_book["behind"] == s.events["behind"]
    assert s.on_book["ahead_far"] == s.events["ahead_far"]
    assert s.on_book["swap"] == s.events["swap"]
    # The only false alarms: the first book after a long run of missing books.
    assert s.false_alarms == s.gap_alarms <= s.long_gaps


def test_simulated_stock_take_with_crowded_errors_stays_quiet():
    """Even with errors next to each other and next to gaps, alarms stay about one per error."""
    s = simulate(7, n=6000, error_every=25, separated=False)
    planted = sum(s.events.values())
    caught = sum(s.in_zone.values())
    assert caught >= 0.9 * planted
    assert s.false_alarms - s.gap_alarms <= 0.05 * planted
    assert sum(s.multi.values()) <= 0.05 * planted


if __name__ == "__main__":  # pragma: no cover - prints the table quoted in the notes
    for gap in (1, 2, 3, 4, 6):
        for sep in (True, False):
            tot: Counter[str] = Counter()
            ev: Counter[str] = Counter()
            fa = ga = scans = lg = 0
            for seed in range(10):
                st = simulate(seed, n=5000, max_gap=gap, error_every=40, separated=sep)
                fa += st.false_alarms
                ga += st.gap_alarms
                scans += st.scans
                lg += st.long_gaps
                ev.update(st.events)
                for k in st.events:
                    tot[k + ":zone"] += st.in_zone[k]
                    tot[k + ":book"] += st.on_book[k]
                    tot[k + ":multi"] += st.multi[k]
            row = [f"max_gap={gap} separated={sep} scans={scans}"]
            row.append(f"false/1000={1000 * fa / scans:.2f} (after long gaps {ga}, gaps {lg})")
            for k in sorted(ev):
                row.append(
                    f"{k}: n={ev[k]} missed={1 - tot[k + ':zone'] / ev[k]:.3f} "
                    f"on_book={tot[k + ':book'] / ev[k]:.3f} multi={tot[k + ':multi'] / ev[k]:.3f}"
                )
            sys.stdout.write("\n  ".join(row) + "\n")
