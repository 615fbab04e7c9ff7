"""The report as a spreadsheet (CSV) and as a short summary (text).

CSV notes are in English on purpose: a spreadsheet filters on them, and the
codes and call numbers in them are never reformatted. Every cell goes
through :func:`kiosk.text.csv_cell`: a scanned ``=HYPERLINK(...)`` or a
location named ``@SUM(...)`` is shown as text, never run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from kiosk.models import Item
from kiosk.report.rows import Report, item_of
from kiosk.report.texts import outcome_name
from kiosk.text import csv_cell


def to_csv(rep: Report, catalog: Mapping[str, Item]) -> str:
    """One row per finding, ``list`` first, for a spreadsheet (codes never reformatted)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    # With "\n" line ends the csv module leaves a lone "\r" unquoted, and a reader
    # would start a new row (and a formula) there: such rare rows are quoted whole.
    quoted = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def put(cells: list[str]) -> None:
        safe = [csv_cell(c) for c in cells]
        (quoted if any("\r" in c for c in safe) else w).writerow(safe)

    put(["list", "item_code", "call_number", "location", "title", "note"])

    def row(name: str, code: str, note: str = "") -> None:
        it = item_of(catalog, code)
        put([name, code, it.call_number, it.location, it.title, note])

    for m in rep.misshelved:
        after, before = m.belongs_after_call or "-", m.belongs_before_call or "-"
        row("misshelved", m.code, f"between {after} and {before}")
    for d in rep.wrong_location_detail:
        row("wrong_location", d.code, f"belongs in {d.belongs_in}; found in {d.found_in}")
    for u in rep.unknown_detail:
        put(["unknown", u.code, "", u.found_in, "", f"scanned {u.times}x"])
    for code, n in rep.duplicate_counts.items():
        row("duplicates", code, f"scanned {n}x")
    for code in rep.invalid:
        row("invalid", code)
    lists = {
        "missing": rep.missing,
        "on_loan": rep.on_loan,
        "on_loan_on_shelf": rep.on_loan_on_shelf,
        "excluded": rep.excluded,
        "not_covered": rep.not_covered,
        "found": rep.found,
    }
    for name, codes in lists.items():
        for code in codes:
            row(name, code)
    for f in rep.call_numbers_to_fix:
        row("call_number_to_fix", f.code, "; ".join(f.problems))
    for s in rep.sync_items:
        row("sync", s.code, str(s.outcome))
    for loc, n in rep.no_label.items():
        put(["no_label", "", "", loc, "", str(n)])
    return buf.getvalue()


def to_text(rep: Report, t: Mapping[str, str]) -> str:
    """A few lines to read on the cart's console: the size of every list."""
    lines = [
        f"{t['title']} {rep.stocktake}".strip(),
        f"{t['catalog']}: {rep.catalog_size}",
        f"{t['coverage']}: {rep.coverage:.1%}",
    ]
    sizes = {
        "found": len(rep.found),
        "missing": len(rep.missing),
        "on_loan": len(rep.on_loan),
        "not_covered": len(rep.not_covered),
        "misshelved": len(rep.misshelved),
        "wrong_location": len(rep.wrong_location),
        "on_loan_on_shelf": len(rep.on_loan_on_shelf),
        "unknown": len(rep.unknown),
        "duplicates": len(rep.duplicates),
        "invalid": len(rep.invalid),
        "excluded": len(rep.excluded),
    }
    lines += [f"{t[name]}: {n}" for name, n in sizes.items()]
    lines.append(f"{t['no_label']}: {sum(rep.no_label.values())}")
    lines.append(f"{t['fix']}: {len(rep.call_numbers_to_fix)}")
    outcomes = ", ".join(f"{outcome_name(t, k)} {len(v)}" for k, v in rep.sync.items())
    lines.append(f"{t['sync']}: {outcomes}")
    return "\n".join(lines) + "\n"
