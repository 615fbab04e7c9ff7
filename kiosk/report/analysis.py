"""Comparing the catalogue with the day's scans: the judgement behind the report.

Built from the store alone (catalogue + scans), so it can be produced on the
cart with no network. "Missing" is only claimed inside the call-number span
actually walked in a shelf run; items beyond every walked span are "not yet
covered", never missing, so a half-done stock take does not list half the
library as lost. Only books that stood in order stretch a span, and only
books whose call number can be placed on a shelf: a stray book from the far
end, or a book whose call number is unreadable, must not turn a whole section
"missing".

The lists follow the library's procedure: recap of lost and on-loan items,
books to put back in place, call numbers to fix in SLiMS, and SLiMS's own
verdict per item once synced.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kiosk.engine.callnumber import ddc_group, parse, sort_key
from kiosk.models import Command, Item, Neighbours, Scan, SyncOutcome, Verdict
from kiosk.report.rows import (
    PENDING,
    Category,
    DamageRow,
    FixRow,
    GapRow,
    GroupTally,
    LoanRow,
    MisshelvedRow,
    Report,
    SpanRow,
    SyncRow,
    SyncState,
    UnknownRow,
    WrongLocationRow,
    item_of,
)
from kiosk.textfmt import parse_day

#: Order of the sync table: what needs a person first.
SYNC_ORDER: tuple[SyncState, ...] = (
    SyncOutcome.NOT_IN_STOCKTAKE,
    SyncOutcome.ON_LOAN,
    SyncOutcome.SKIPPED_RULE,
    PENDING,
    SyncOutcome.EXPORTED,
    SyncOutcome.ACCEPTED,
    SyncOutcome.ALREADY_SCANNED,
    SyncOutcome.UPLOADED,
)


def build(
    catalog: Mapping[str, Item],
    scans: Iterable[Scan],
    *,
    stocktake: str = "",
    excluded_statuses: Iterable[str] = (),
    now: float | None = None,
    damage: Iterable[DamageRow] = (),
) -> Report:
    """Compare the catalogue with the (non-voided) scans.

    Items whose status is excluded from the stock take are never missing nor
    "not covered": like SLiMS, the count leaves them out. ``now`` (default:
    the clock) dates the report and counts the days a loan is overdue.
    ``damage`` is what the store lost to damage: the report shows it first,
    since the scans it held are in none of the lists.
    """
    skip = {s.casefold() for s in excluded_statuses}
    live = (s for s in scans if not s.voided)  # one pass: the scans may be streamed from disk
    walked: dict[tuple[str, int], list[tuple[Any, str]]] = {}
    generated = time.time() if now is None else now
    rep = Report(stocktake=stocktake, generated=generated, catalog_size=len(catalog))
    rep.store_damage = list(damage)
    found: dict[str, Scan] = {}
    times: Counter[str] = Counter()
    wrong: dict[str, WrongLocationRow] = {}
    unknown_in: dict[str, str] = {}  # code → location of its first scan
    unknown_times: Counter[str] = Counter()
    for s in live:
        v = s.verdict
        if v is Verdict.COMMAND:
            if s.command is Command.NOLABEL:
                key = s.location or "-"
                rep.no_label[key] = rep.no_label.get(key, 0) + 1
            continue
        rep.scans += 1
        _walk(walked, s, catalog)
        if v.counts_as_found and s.code in catalog:
            times[s.code] += 1
            found.setdefault(s.code, s)
        elif v is Verdict.DUPLICATE:
            times[s.code] += 1
        if v is Verdict.MISSHELVED:
            rep.misshelved.append(_misshelf_row(s, catalog))
        elif v is Verdict.WRONG_LOCATION:
            if s.code not in wrong:
                item = catalog.get(s.code)
                wrong[s.code] = WrongLocationRow(
                    code=s.code,
                    call_number=item.call_number if item else "",
                    belongs_in=item.location if item else s.detail.expected_location,
                    found_in=s.location,
                )
        elif v is Verdict.ON_LOAN:
            rep.on_loan_on_shelf.append(s.code)
        elif v is Verdict.EXCLUDED:
            rep.excluded.append(s.code)
        elif v is Verdict.INVALID:
            rep.invalid.append(s.code)
        elif v is Verdict.UNKNOWN:
            unknown_in.setdefault(s.code, s.location)
            unknown_times[s.code] += 1
    rep.duplicates = sorted(c for c, n in times.items() if n > 1)
    rep.duplicate_counts = {c: times[c] for c in rep.duplicates}
    rep.wrong_location, rep.wrong_location_detail = list(wrong), list(wrong.values())
    rep.unknown = list(unknown_in)
    rep.unknown_detail = [UnknownRow(c, loc, unknown_times[c]) for c, loc in unknown_in.items()]
    rep.on_loan_on_shelf = _unique(rep.on_loan_on_shelf)
    rep.excluded = _unique(rep.excluded)
    rep.invalid = _unique(rep.invalid)

    spans = _scanned_ranges(walked, catalog)
    rep.ranges = [row for _lo, _hi, row in spans]
    bounds: dict[str, list[tuple[Any, Any]]] = {}
    for lo, hi, row in spans:
        bounds.setdefault(row.location, []).append((lo, hi))

    # Walking the catalogue in shelf order puts every list below in shelf order.
    order = sorted(
        catalog, key=lambda c: (catalog[c].location, sort_key(catalog[c].call_number), c)
    )
    status: dict[str, Category] = {}
    covered: set[str] = set()
    for code in order:
        item = catalog[code]
        cn = parse(item.call_number)
        inside = cn.orderable and any(
            lo <= cn.key <= hi for lo, hi in bounds.get(item.location, ())
        )
        if code in found:
            status[code] = Category.FOUND
        elif item.status.casefold() in skip:
            status[code] = Category.EXCLUDED
        elif item.on_loan:
            status[code] = Category.ON_LOAN
        elif inside:
            status[code] = Category.MISSING
        else:
            status[code] = Category.NOT_COVERED
        if inside or code in found:
            covered.add(code)
        if cn.problems or not cn.orderable:
            rep.call_numbers_to_fix.append(
                FixRow(
                    code=code,
                    call_number=item.call_number,
                    location=item.location,
                    title=item.title,
                    problems=tuple(cn.problems),
                    unplaced=not cn.orderable,
                )
            )
    rep.found, rep.missing, rep.on_loan, rep.not_covered = (
        [c for c, st in status.items() if st is category]
        for category in (Category.FOUND, Category.MISSING, Category.ON_LOAN, Category.NOT_COVERED)
    )
    rep.on_loan_detail = _loans(rep.on_loan, catalog, dt.date.fromtimestamp(generated))
    rep.call_numbers_to_fix.sort(key=lambda r: not r.unplaced)  # unplaced first
    rep.to_walk = _to_walk(order, catalog, status)
    rep.covered = len(covered)
    rep.coverage = len(covered) / len(catalog) if catalog else 0.0

    rank = {state: i for i, state in enumerate(SYNC_ORDER)}
    rep.sync_items = sorted(
        (SyncRow(c, catalog[c].call_number, found[c].sync or PENDING) for c in rep.found),
        key=lambda r: rank.get(r.outcome, len(rank)),
    )
    for r in rep.sync_items:
        rep.sync.setdefault(r.outcome, []).append(r.code)

    rep.by_location = _tally(catalog, status, covered, lambda it: it.location or "-")
    rep.by_class = _tally(catalog, status, covered, lambda it: ddc_group(it.call_number))
    return rep


def _loans(codes: list[str], catalog: Mapping[str, Item], today: dt.date) -> list[LoanRow]:
    """On-loan rows, most overdue first, then by due date; unknown due dates last."""
    rows = []
    for code in codes:
        item = catalog[code]
        day = parse_day(item.due)
        late = None if day is None else max(0, (today - day).days)
        rows.append(LoanRow(code, item.call_number, day.isoformat() if day else "", late))
    order = {c: i for i, c in enumerate(codes)}  # shelf order breaks ties
    return sorted(
        rows, key=lambda r: (r.overdue_days is None, -(r.overdue_days or 0), r.due, order[r.code])
    )


def _to_walk(
    order: list[str], catalog: Mapping[str, Item], status: Mapping[str, Category]
) -> list[GapRow]:
    """Stretches of shelf not covered yet, per location in shelf order.

    Books on loan or excluded do not break a stretch (nobody walks past them);
    a covered book does.
    """
    stretches: list[list[str]] = []  # item codes of each stretch, in shelf order
    current: list[str] | None = None
    for code in order:
        item = catalog[code]
        if current is not None and catalog[current[0]].location != item.location:
            current = None
        if status[code] is Category.NOT_COVERED:
            if current is None:
                current = []
                stretches.append(current)
            current.append(code)
        elif status[code] in (Category.FOUND, Category.MISSING):
            current = None
    return [
        GapRow(
            location=catalog[codes[0]].location,
            first_code=codes[0],
            first_call=catalog[codes[0]].call_number,
            last_code=codes[-1],
            last_call=catalog[codes[-1]].call_number,
            items=len(codes),
        )
        for codes in stretches
    ]


def _misshelf_row(s: Scan, catalog: Mapping[str, Item]) -> MisshelvedRow:
    """Where the book belongs, with the neighbours' call numbers the cart showed."""
    b = s.detail.belongs or Neighbours()

    def call_of(code: str | None, shown: str | None) -> str | None:
        neighbour = catalog.get(code or "")
        return shown if shown is not None or not neighbour else neighbour.call_number

    return MisshelvedRow(
        code=s.code,
        call_number=item_of(catalog, s.code).call_number,
        location=s.location,
        belongs_after=b.after,
        belongs_after_call=call_of(b.after, b.after_call),
        belongs_before=b.before,
        belongs_before_call=call_of(b.before, b.before_call),
        found_after=b.found_after or None,
    )


def _walk(
    spans: dict[tuple[str, int], list[tuple[Any, str]]], s: Scan, catalog: Mapping[str, Item]
) -> None:
    """Note a scan that stretches its shelf run's span.

    Only items that stood in order (``ok``) and whose call number can be placed
    stretch a span: a misshelved book or an unreadable call number must not
    make a whole section "missing".
    """
    item = catalog.get(s.code)
    if s.verdict is not Verdict.OK or item is None:
        return
    cn = parse(item.call_number)
    if cn.orderable:
        spans.setdefault((item.location, s.run), []).append((cn.key, s.code))


def _scanned_ranges(
    spans: dict[tuple[str, int], list[tuple[Any, str]]], catalog: Mapping[str, Item]
) -> list[tuple[Any, Any, SpanRow]]:
    """Per location and shelf run, the call-number span walked: (low key, high key, row)."""
    out = []
    for (loc, run), keys in spans.items():
        (lo, first), (hi, last) = min(keys), max(keys)
        row = SpanRow(
            location=loc,
            run=run,
            first_code=first,
            first_call=catalog[first].call_number,
            last_code=last,
            last_call=catalog[last].call_number,
            books=len(keys),
        )
        out.append((lo, hi, row))
    out.sort(key=lambda t: (t[2].location, t[0], t[2].run))
    return out


def _tally(
    catalog: Mapping[str, Item],
    status: Mapping[str, Category],
    covered: set[str],
    group: Callable[[Item], str],
) -> dict[str, GroupTally]:
    out: dict[str, GroupTally] = {}
    for code, item in catalog.items():
        row = out.setdefault(group(item), GroupTally())
        row.catalog += 1
        row.covered += code in covered
        row.counts[status[code]] += 1
    return dict(sorted(out.items(), key=lambda kv: _group_order(kv[0])))


def _group_order(name: str) -> tuple[int, str]:
    return (1 if name in ("fiction", "other", "-") else 0, name)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))
