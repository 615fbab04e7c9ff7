"""The report as a spreadsheet (CSV) and as console text (to-do list first, then counts).

CSV notes are in English on purpose: a spreadsheet filters on them, and the
codes and call numbers in them are never reformatted. Every cell goes
through :func:`kiosk.text.csv_cell`: a scanned ``=HYPERLINK(...)`` or a
location named ``@SUM(...)`` is shown as text, never run as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping

from kiosk import textfmt
from kiosk.models import Item
from kiosk.report.rows import Report, item_of
from kiosk.report.texts import TEXT, damage_notice, outcome_name
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
    for dmg in rep.store_damage:  # first: scans lost to damage are in none of the lists below
        lost = "unknown" if dmg.lost is None else str(dmg.lost)
        kept = f"; kept in {dmg.kept}" if dmg.kept else ""
        put(["store_damage", "", "", "", "", f"{dmg.what}; records lost: {lost}{kept}"])

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
    for loan in rep.on_loan_detail:
        late = loan.overdue_days
        overdue = "" if not late else f"; {late} days overdue"
        row("on_loan", loan.code, f"due {loan.due}{overdue}" if loan.due else "")
    lists = {
        "missing": rep.missing,
        "on_loan_on_shelf": rep.on_loan_on_shelf,
        "found_again": rep.found_again,
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


def to_text(rep: Report, catalog: Mapping[str, Item], lang: str, sections: Collection[str]) -> str:
    """What to read on the cart's console: the to-do list, then the size of every list."""
    t = TEXT[lang]

    def n(value: int) -> str:
        return textfmt.num(value, lang)

    lines = [
        f"{t['title']} {rep.stocktake}".strip(),
        t["generated"].format(when=textfmt.timestamp(rep.generated, lang), scans=n(rep.scans)),
    ]
    title, body, fix, details = damage_notice(rep, lang)
    if title:  # before everything: a printed report must not hide that scans were lost
        rule = "!" * 72
        lines += ["", rule, f"!! {title}", f"!! {body}", f"!! {fix}"]
        lines += [f"!!   - {d}" for d in details] + [rule]
    if "todo" in sections:
        lines += ["", f"{t['todo']} ({n(rep.todo_size())})"]
        lines += _todo_lines(rep, catalog, t) or [f"  {t['todo_none']}"]
    if "summary" in sections or "lists" in sections:
        lines += [
            "",
            f"{t['catalog']}: {n(rep.catalog_size)}",
            f"{t['coverage']}: {textfmt.pct(rep.coverage, lang)}",
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
        lines += [f"{t[name]}: {n(size)}" for name, size in sizes.items()]
        lines.append(f"{t['no_label']}: {n(sum(rep.no_label.values()))}")
        lines.append(f"{t['fix']}: {n(len(rep.call_numbers_to_fix))}")
        outcomes = ", ".join(f"{outcome_name(t, k)}: {n(len(v))}" for k, v in rep.sync.items())
        lines.append(f"{t['sync']}: {outcomes or t['none']}")
    if "on_loan" in sections and rep.on_loan_detail:
        lines += ["", f"{t['on_loan']} ({n(len(rep.on_loan_detail))})"]
        if not any(loan.due for loan in rep.on_loan_detail):
            lines.append(f"  {t['on_loan_no_due']}")
        for loan in rep.on_loan_detail:
            day = textfmt.parse_day(loan.due)
            due = textfmt.date(day, lang) if day else t["due_unknown"]
            late = loan.overdue_days or 0
            over = (
                ""
                if not late
                else f", {t['overdue'].lower()} "
                + (t["day"] if late == 1 else t["days"].format(n=n(late)))
            )
            lines.append(f"  {loan.code:<12} {loan.call_number:<22} {t['due']}: {due}{over}")
    for name, codes in (("not_covered", rep.not_covered), ("found", rep.found)):
        if name in sections:
            lines += ["", f"{t[name]} ({n(len(codes))})"]
            lines += [f"  {c:<12} {item_of(catalog, c).call_number}" for c in codes]
    return "\n".join(lines) + "\n"


def _todo_lines(rep: Report, catalog: Mapping[str, Item], t: Mapping[str, str]) -> list[str]:
    """``[ ] code  call number  what to do`` per book, grouped like the HTML to-do list."""

    def line(code: str, what: str = "") -> str:
        call = item_of(catalog, code).call_number
        return f"  [ ] {code:<12} {call:<22} {what}".rstrip()

    groups: list[tuple[str, list[str]]] = [
        ("missing", [line(c, item_of(catalog, c).location) for c in rep.missing]),
        (
            "misshelved",
            [
                line(
                    m.code,
                    f"{m.belongs_after_call or t['start']} … {m.belongs_before_call or t['end']}",
                )
                for m in rep.misshelved
            ],
        ),
        (
            "wrong_location",
            [line(d.code, f"→ {d.belongs_in or '-'}") for d in rep.wrong_location_detail],
        ),
        ("on_loan_on_shelf", [line(c) for c in rep.on_loan_on_shelf]),
        ("unknown", [f"  [ ] {u.code:<12} {u.found_in}".rstrip() for u in rep.unknown_detail]),
        # FOUND_AGAIN: rows come from Report.found_again, filled by the analysis.
        ("found_again", [line(c) for c in rep.found_again]),
        (
            "sync_refused",
            [line(r.code, outcome_name(t, r.outcome)) for r in rep.sync_refused],
        ),
    ]
    out: list[str] = []
    for key, rows in groups:
        if rows:
            out += [f" {t['todo.' + key]} ({len(rows)})", *rows]
    return out
