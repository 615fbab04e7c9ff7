"""Realistic stock-take walks through the real daemon, checked list by list.

A generated library of 2,500 items (SLiMS export format) is walked in shelf
order through ``kiosk run --simulate --json``: two shelf runs at one location
(the second one *behind* the first, as when the cart turns round), then a
second location, with every kind of mistake planted along the way. The report
(``kiosk report --format json``) must list exactly what was planted, and the
cart must have said exactly what a librarian should hear: one alert per
displaced book, on that book, and "ok" for every book in its place.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from kiosk.cli import sample_data as sample
from kiosk.engine.callnumber import parse, sort_key
from kiosk.models import Item
from kiosk.slims.export import parse_export
from kiosk.store import Store
from tests.helpers import ROOT, kiosk

P = "KIOSK:"
#: One planted action: a :class:`Plan` method name and its arguments.
Step = tuple[Any, ...]
#: What a pull from SLiMS 9.6 learns: statuses with the skip flag, and the one for lost items.
EXCLUDED_STATUSES = ("Repair", "No Loan", "Missing")
LOST_STATUSES = ("Missing",)
RAK, FIKSI, REF, ANAK = "Rak Umum", "Fiksi", "Referensi", "Koleksi Anak"


def library() -> list[Item]:
    """The generated library as stored after a pull, plus two unreadable call numbers."""
    rows = sample.generate(2500, seed=5150)
    loans = set(sample.loans(rows))
    items = [it._replace(on_loan=it.code in loans) for it in parse_export(sample.to_csv(rows))]
    items.append(Item("B90001", "???", "Label torn off", RAK))
    items.append(Item("B90002", "", "Never classified", RAK))
    return items


def plain(it: Item) -> bool:
    """On the shelf and judged normally: not on loan, no special status."""
    return not it.on_loan and not it.status


def shelf(items: Iterable[Item], location: str) -> list[Item]:
    """A location's placeable items in the order they stand."""
    placed = [it for it in items if it.location == location and parse(it.call_number).orderable]
    return sorted(placed, key=lambda it: (sort_key(it.call_number), it.code))


def neighbours(row: list[Item], i: int) -> tuple[str | None, str | None]:
    """Nearest items before and after row[i] that are not on loan (where it belongs)."""
    before = next((row[j].code for j in range(i - 1, -1, -1) if not row[j].on_loan), None)
    after = next((row[j].code for j in range(i + 1, len(row)) if not row[j].on_loan), None)
    return before, after


@dataclass
class Plan:
    """The barcodes to scan, and everything the cart and the report must say about them."""

    catalog: dict[str, Item]
    location: str = ""
    codes: list[str] = field(default_factory=list)
    #: Expected verdict of every stored scan, in order (scans while paused are not stored).
    verdicts: list[tuple[str, str]] = field(default_factory=list)
    found: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    misshelved: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    wrong_location: dict[str, tuple[str, str]] = field(default_factory=dict)
    on_loan_on_shelf: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    found_again: list[str] = field(default_factory=list)
    unknown: Counter[str] = field(default_factory=Counter)
    invalid: list[str] = field(default_factory=list)
    times: Counter[str] = field(default_factory=Counter)
    no_label: Counter[str] = field(default_factory=Counter)
    undone: list[str] = field(default_factory=list)
    #: (location, first code, last code) of each shelf span walked, and its items.
    spans: list[tuple[str, str, str]] = field(default_factory=list)
    inside: set[str] = field(default_factory=set)

    def scan(self, code: str, verdict: str) -> None:
        self.codes.append(code)
        self.verdicts.append((code, verdict))
        if verdict in ("ok", "misshelved", "on_loan", "wrong_location", "duplicate"):
            self.times[code] += 1
        if verdict in ("ok", "misshelved", "on_loan", "wrong_location"):
            self.found.add(code)

    def unstored(self, code: str) -> None:
        """A barcode the cart must ignore (scanned while paused)."""
        self.codes.append(code)

    def command(self, body: str) -> None:
        self.scan(P + body, "command")
        if body.startswith("location:"):
            self.location = body.split(":", 1)[1]
        elif body == "nolabel":
            self.no_label[self.location] += 1

    def book(self, it: Item) -> None:
        """Scan a book that stands where it belongs (or is on loan / excluded)."""
        if it.status in LOST_STATUSES:
            self.scan(it.code, "found_again")
            self.found_again.append(it.code)
        elif it.status in EXCLUDED_STATUSES:
            self.scan(it.code, "excluded")
            self.excluded.append(it.code)
        elif it.on_loan:
            self.scan(it.code, "on_loan")
            self.on_loan_on_shelf.append(it.code)
        else:
            self.scan(it.code, "ok")

    def stray(self, row: list[Item], i: int) -> None:
        """Scan row[i] where it does not belong, in its own location: one alert, on it."""
        self.scan(row[i].code, "misshelved")
        self.misshelved[row[i].code] = neighbours(row, i)

    def elsewhere(self, it: Item) -> None:
        """Scan a book of another location here."""
        self.scan(it.code, "wrong_location")
        self.wrong_location[it.code] = (it.location, self.location)

    def undo_last(self) -> None:
        code, verdict = self.verdicts[-1]
        self.command("undo")
        self.undone.append(code)
        self.found.discard(code)
        self.misshelved.pop(code, None)
        self.wrong_location.pop(code, None)
        if verdict != "command":
            self.times[code] -= 1


class Shelf:
    """One location's shelf with positions reserved for planted mistakes."""

    def __init__(self, items: list[Item], location: str) -> None:
        self.row = shelf(items, location)
        self.used: set[int] = set()

    def quiet(self, start: int) -> int:
        """The first position from ``start`` whose book and near neighbours are plain and
        stand at distinct shelf places, away from other plants (so a planted mistake is
        the only thing happening there)."""
        row = self.row
        for i in range(start, len(row) - 6):
            window = range(i - 2, i + 4)
            keys = [parse(row[j].call_number).shelf_key for j in range(i - 1, i + 3)]
            if (
                all(plain(row[j]) for j in window)
                and all(a < b for a, b in itertools.pairwise(keys))
                and not any(abs(i - u) < 10 for u in self.used)
            ):
                self.used.add(i)
                return i
        raise AssertionError(f"no quiet place after {start}")

    def bounds(self, lo: int, hi: int) -> tuple[int, int]:
        """A walkable stretch near [lo, hi): plain books at both ends, distinct keys at edges."""
        row = self.row

        def ok_edge(i: int, j: int) -> bool:
            return sort_key(row[i].call_number) != sort_key(row[j].call_number)

        while not (plain(row[lo]) and (lo == 0 or ok_edge(lo - 1, lo))):
            lo += 1
        while not (plain(row[hi - 1]) and (hi == len(row) or ok_edge(hi - 1, hi))):
            hi -= 1
        return lo, hi


def walk(
    plan: Plan,
    sh: Shelf,
    lo: int,
    hi: int,
    *,
    skip: set[int],
    extra: dict[int, list[Step]],
    present: Iterable[int] = (),
) -> None:
    """Walk sh.row[lo:hi] in order, leaving out ``skip`` and doing ``extra[i]`` after book i.

    On the shelf are plain books, books of an excluded status that stays on the shelf
    ("No Loan"), and of the books on loan only those in ``present``.
    """
    assert lo + 5 < min(skip | extra.keys()) and max(skip | extra.keys()) < hi - 5
    on_shelf = set(present)
    for i in range(lo, hi):
        it = sh.row[i]
        there = plain(it) or it.status == "No Loan" or (it.on_loan and i in on_shelf)
        if there and i not in skip:
            plan.book(it)
        for name, *args in extra.get(i, ()):
            getattr(plan, name)(*args)
    plan.spans.append((plan.location, sh.row[lo].code, sh.row[hi - 1].code))
    plan.inside |= {it.code for it in sh.row[lo:hi]}


def build_plan(items: list[Item]) -> Plan:
    """Three shelf runs with mistakes planted; hooks[i] are steps done right after book i."""
    plan = Plan({it.code: it for it in items})
    rak, fiksi = Shelf(items, RAK), Shelf(items, FIKSI)
    ref, anak = shelf(items, REF), shelf(items, ANAK)
    far_rak = [it for it in rak.row[1600:] if plain(it)]
    strangers = [it for it in ref + anak if plain(it)]

    # -- Rak Umum, run 1: about rak.row[600:1300] -----------------------------------------------
    plan.command(f"location:{RAK}")
    lo1, hi1 = rak.bounds(600, 1300)
    missing = [rak.quiet(lo1 + 20 + 60 * k) for k in range(6)]
    back = [rak.quiet(lo1 + 400), rak.quiet(lo1 + 520)]  # put back about 40 books too late
    swaps = [rak.quiet(lo1 + 450), rak.quiet(lo1 + 580)]
    ahead_home = rak.quiet(lo1 + 640)  # scanned early, near the start of the run
    to_fiksi = rak.quiet(lo1 + 480)  # this book turns up in Fiksi
    dup = rak.quiet(lo1 + 30)
    mistake_home = rak.quiet(lo1 + 660)
    loaned_here = [
        i for i in range(lo1 + 10, hi1 - 10) if rak.row[i].on_loan and not rak.row[i].status
    ][:3]  # on the shelf although SLiMS says they are on loan
    assert len(loaned_here) == 3
    plan.missing |= {rak.row[i].code for i in missing}
    hooks: dict[int, list[Step]] = {rak.quiet(h + 40): [("stray", rak.row, h)] for h in back}
    hooks[rak.quiet(lo1 + 60)] = [("stray", rak.row, ahead_home)]
    hooks[rak.quiet(lo1 + 90)] = [("stray", rak.row, rak.row.index(far_rak[0]))]
    hooks[rak.quiet(lo1 + 120)] = [("elsewhere", strangers[0])]
    hooks[rak.quiet(lo1 + 150)] = [("elsewhere", strangers[-1])]
    hooks[dup] = [("scan", rak.row[dup].code, "duplicate")]
    hooks[rak.quiet(lo1 + 180)] = [
        ("scan", "B99001", "unknown"),
        ("scan", "#$%", "invalid"),
        ("scan", "ZX-77", "unknown"),
        ("scan", "ab", "invalid"),
        ("scan", "B99001", "unknown"),
    ]
    hooks[rak.quiet(lo1 + 210)] = [("command", "nolabel"), ("command", "nolabel")]
    # A book of another location scanned by mistake, and taken back at once.
    hooks[rak.quiet(lo1 + 240)] = [("elsewhere", strangers[1]), ("undo_last",)]
    # A book from further along scanned too early by mistake, taken back; scanned at home later.
    hooks[rak.quiet(lo1 + 270)] = [("stray", rak.row, mistake_home), ("undo_last",)]
    # Pausing: what is scanned meanwhile is not stored at all.
    hooks[rak.quiet(lo1 + 300)] = [
        ("command", "pause"),
        ("unstored", "B99002"),
        ("command", "resume"),
    ]
    # The unreadable call number stands somewhere in the middle: found, never judged.
    hooks[rak.quiet(lo1 + 330)] = [("book", plan.catalog["B90001"])]
    for sw in swaps:  # scanned by the hook, in swapped order
        hooks[sw] = [("book", rak.row[sw + 1]), ("stray", rak.row, sw)]
    skip = {*missing, *back, ahead_home, to_fiksi, *swaps, *(sw + 1 for sw in swaps)}
    walk(plan, rak, lo1, hi1, skip=skip, extra=hooks, present=loaned_here)

    # -- Rak Umum, run 2: the cart turns round and walks about rak.row[150:450] -----------------
    plan.command("run")
    lo2, hi2 = rak.bounds(150, 450)
    missing2 = [rak.quiet(lo2 + 40), rak.quiet(lo2 + 200)]
    swap2 = rak.quiet(lo2 + 120)
    plan.missing |= {rak.row[i].code for i in missing2}
    hooks2: dict[int, list[Step]] = {
        swap2: [("book", rak.row[swap2 + 1]), ("stray", rak.row, swap2)],
        rak.quiet(lo2 + 160): [("scan", rak.row[lo1].code, "duplicate")],
    }
    walk(plan, rak, lo2, hi2, skip={*missing2, swap2, swap2 + 1}, extra=hooks2)

    # -- Fiksi, the whole shelf -----------------------------------------------------------------
    plan.command(f"location:{FIKSI}")
    lo3, hi3 = fiksi.bounds(0, len(fiksi.row))
    missing3 = [fiksi.quiet(lo3 + 30), fiksi.quiet(lo3 + 200)]
    back3 = fiksi.quiet(lo3 + 100)
    plan.missing |= {fiksi.row[i].code for i in missing3}
    hooks3: dict[int, list[Step]] = {
        fiksi.quiet(back3 + 40): [("stray", fiksi.row, back3)],
        fiksi.quiet(lo3 + 150): [("elsewhere", rak.row[to_fiksi])],
        fiksi.quiet(lo3 + 250): [("elsewhere", far_rak[-1]), ("command", "nolabel")],
    }
    walk(plan, fiksi, lo3, hi3, skip={*missing3, back3}, extra=hooks3)
    return plan


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the planned walk through the daemon once; every test below checks one aspect."""
    items = library()
    plan = build_plan(items)
    state = tmp_path_factory.mktemp("walk") / "state"
    with Store.open(state) as store:
        learned = {"skipped": list(EXCLUDED_STATUSES), "lost": list(LOST_STATUSES)}
        store.replace_catalog(items, source="generated SLiMS export", statuses=learned)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "SLIMS_"))}
    env["PYTHONPATH"] = str(ROOT)
    res = kiosk(
        "--state-dir",
        str(state),
        "run",
        "--simulate",
        "--json",
        input="".join(c + "\n" for c in plan.codes),
        env=env,
    )
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    rep = kiosk("--state-dir", str(state), "report", "--format", "json", env=env)
    assert rep.returncode == 0, rep.stderr
    return {
        "plan": plan,
        "items": items,
        "lines": lines,
        "report": json.loads(rep.stdout),
        "state": state,
        "env": env,
    }


def test_every_scan_gets_the_planned_verdict(walked: dict[str, Any]) -> None:
    """Each barcode gets exactly the verdict a librarian should hear: ok for every book in place."""
    plan: Plan = walked["plan"]
    got = [(r["code"], r["verdict"]) for r in walked["lines"]]
    assert len(got) == len(plan.verdicts) > 1200
    wrong = [
        (i, want, have)
        for i, (want, have) in enumerate(zip(plan.verdicts, got, strict=True))
        if want != have
    ]
    assert wrong == []


def test_one_alert_per_displaced_book_on_that_book(walked: dict[str, Any]) -> None:
    """No alarm fatigue: each displaced book raises exactly one misshelved alert, on itself."""
    plan: Plan = walked["plan"]
    lines = walked["lines"]
    taken_back = {
        lines[i - 1]["seq"] for i, r in enumerate(lines) if r["detail"].get("command") == "undo"
    }
    alerts = [r for r in lines if r["verdict"] == "misshelved" and r["seq"] not in taken_back]
    assert Counter(r["code"] for r in alerts) == Counter(list(plan.misshelved))
    for r in alerts:
        assert (r["detail"]["belongs_after"], r["detail"]["belongs_before"]) == plan.misshelved[
            r["code"]
        ]
    assert len(plan.misshelved) == 8  # 2 late, 2 early, 3 swapped pairs, 1 in Fiksi


def test_found_missing_on_loan_and_not_covered(walked: dict[str, Any]) -> None:
    """Found is every item scanned; missing only planted gaps; the rest on loan or not covered."""
    plan: Plan = walked["plan"]
    rep = walked["report"]
    items: list[Item] = walked["items"]
    assert sorted(rep["found"]) == sorted(plan.found)
    assert len(rep["found"]) == len(set(rep["found"]))
    assert sorted(rep["missing"]) == sorted(plan.missing)
    assert len(plan.missing) == 10
    on_loan = {it.code for it in items if it.on_loan} - set(plan.on_loan_on_shelf)
    assert sorted(rep["on_loan"]) == sorted(on_loan)
    not_covered = {
        it.code
        for it in items
        if plain(it) and it.code not in plan.inside and it.code not in plan.found
    }
    assert sorted(rep["not_covered"]) == sorted(not_covered)
    assert "B90002" in not_covered and "B90001" in plan.found


def test_misshelved_rows_name_the_neighbours(walked: dict[str, Any]) -> None:
    """Misshelved rows say which books the stray belongs between, with their call numbers."""
    plan: Plan = walked["plan"]
    rows = walked["report"]["misshelved"]
    assert {r["code"]: (r["belongs_after"], r["belongs_before"]) for r in rows} == plan.misshelved
    assert len(rows) == len(plan.misshelved)
    cat = plan.catalog
    for r in rows:
        assert r["belongs_after_call"] == cat[r["belongs_after"]].call_number
        assert r["belongs_before_call"] == cat[r["belongs_before"]].call_number


def test_wrong_location_unknown_invalid_duplicates(walked: dict[str, Any]) -> None:
    """Books from elsewhere, unknown and garbage codes, and double scans are each listed once."""
    plan: Plan = walked["plan"]
    rep = walked["report"]
    assert sorted(rep["wrong_location"]) == sorted(plan.wrong_location)
    assert {
        d["code"]: (d["belongs_in"], d["found_in"]) for d in rep["wrong_location_detail"]
    } == plan.wrong_location
    assert len(plan.wrong_location) == 4 and plan.undone[0] not in rep["wrong_location"]
    assert rep["unknown"] == ["B99001", "ZX-77"]
    assert {u["code"]: u["times"] for u in rep["unknown_detail"]} == {"B99001": 2, "ZX-77": 1}
    assert "B99002" not in rep["unknown"]  # scanned while paused: never stored
    assert rep["invalid"] == ["#$%", "ab"]
    dups = {c: n for c, n in plan.times.items() if n > 1}
    assert rep["duplicates"] == sorted(dups) and rep["duplicate_counts"] == dups
    assert len(dups) == 2


def test_excluded_on_loan_on_shelf_and_no_label(walked: dict[str, Any]) -> None:
    """Excluded-status and on-loan books on the shelf, and unlabelled items, are each tallied."""
    plan: Plan = walked["plan"]
    rep = walked["report"]
    assert rep["excluded"] == plan.excluded and len(plan.excluded) > 10
    assert rep["found_again"] == plan.found_again
    assert set(plan.found_again) <= set(rep["found"])
    assert rep["on_loan_on_shelf"] == plan.on_loan_on_shelf and len(plan.on_loan_on_shelf) == 3
    assert rep["no_label"] == dict(plan.no_label) == {RAK: 2, FIKSI: 1}


def test_coverage_spans_and_sync_state(walked: dict[str, Any]) -> None:
    """Coverage is the share of the catalogue found or walked past; each run's span is reported."""
    plan: Plan = walked["plan"]
    rep = walked["report"]
    covered = plan.inside | plan.found
    assert rep["covered"] == len(covered)
    assert rep["coverage"] == pytest.approx(len(covered) / len(plan.catalog))
    spans = [(r["location"], r["first_code"], r["last_code"]) for r in rep["ranges"]]
    assert sorted(spans) == sorted(plan.spans)
    assert sum(row["catalog"] for row in rep["by_location"].values()) == len(plan.catalog)
    assert rep["by_location"][REF]["found"] == sum(
        1 for c in plan.found if plan.catalog[c].location == REF
    )
    assert rep["sync"] == {"pending": rep["found"]}  # nothing synced yet
    unplaced = {f["code"] for f in rep["call_numbers_to_fix"] if f["unplaced"]}
    assert unplaced == {"B90001", "B90002"}


def test_html_and_csv_reports_of_the_walk(walked: dict[str, Any]) -> None:
    """The same walk renders as Indonesian HTML with the work first (a box per book to look at
    again) and as CSV with one row per finding."""
    state, env = walked["state"], walked["env"]
    plan: Plan = walked["plan"]
    html = kiosk(
        "--state-dir", str(state), "report", "--format", "html", "--language", "id", env=env
    )
    assert html.returncode == 0
    todo = html.stdout.split("<section class='todo'>")[1].split("</section>")[0]
    assert f"Salah rak: kembalikan di antara buku tetangganya ({len(plan.misshelved)})" in todo
    assert f"Tidak ditemukan di rak: cari sekali lagi ({len(plan.missing)})" in todo
    r = walked["report"]
    second_look = ("missing", "misshelved", "wrong_location", "on_loan_on_shelf", "unknown")
    assert todo.count('type="checkbox"') == sum(len(r[k]) for k in second_look)
    assert html.stdout.index("<section class='todo'>") < html.stdout.index("Ringkasan")
    csv_out = kiosk("--state-dir", str(state), "report", "--format", "csv", env=env).stdout
    rows = [line.split(",", 2)[:2] for line in csv_out.splitlines()[1:]]
    assert sum(1 for name, _ in rows if name == "misshelved") == len(plan.misshelved)
    assert {code for name, code in rows if name == "missing"} == plan.missing
