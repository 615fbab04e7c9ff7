"""The report as one self-contained HTML page, to read on screen or print for the shelf team.

The work comes first: a to-do list with a box to tick per book, then the
summary, then the shorter lists; the long lists (every book found, every book
not scanned yet) only when asked for (``sections``). Only formats the typed
rows of kiosk.report.rows; every word comes from kiosk.report.texts, numbers
and dates from kiosk.textfmt, and the look (CSS, colours, charts) from
kiosk.report.charts.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from kiosk import textfmt
from kiosk.models import Item, SyncOutcome
from kiosk.report.charts import COLORS, CSS, KPI_COLORS, bar_chart
from kiosk.report.rows import CATEGORIES, GroupTally, LoanRow, Report, item_of
from kiosk.report.texts import TEXT, damage_notice, ddc_names, outcome_name

#: SLiMS outcomes listed as confirmed, in the order of their lists.
_CONFIRMED = tuple(o for o in SyncOutcome if o.confirmed)
_BOX = '<input type="checkbox" aria-label="{label}">'


def to_html(
    rep: Report,
    catalog: Mapping[str, Item],
    lang: str,
    sections: Collection[str],
    left_out: Mapping[str, int],
) -> str:
    """The whole page: to-do list, summary, lists, in the ``sections`` asked for.

    ``left_out`` names the sections not printed that hold something (key →
    size), so the page says what it does not show.
    """
    page = _Page(rep, catalog, lang)
    e = html.escape
    t = page.t
    title = f"{t['title']} {rep.stocktake}".strip()
    when = textfmt.timestamp(rep.generated, lang)
    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p class='meta'>{e(t['generated'].format(when=when, scans=page.n(rep.scans)))}</p>",
    ]
    if rep.store_damage:  # whatever the sections: a printed report must not hide lost scans
        out.append(page.damage())
    if "summary" in sections:
        out.append(page.kpis())
    if "todo" in sections:
        out.append(page.todo())
    if "summary" in sections:
        out.append(page.summary())
    if "lists" in sections:
        out.append(page.lists())
    if "on_loan" in sections:
        out.append(page.on_loan())
    long = [name for name in ("not_covered", "found") if name in sections]
    if long:
        out.append("<section class='long'>")
        out += [page.not_covered() if name == "not_covered" else page.found() for name in long]
        out.append("</section>")
    if left_out:
        names = ", ".join(f"{t[k]} ({page.n(n)})" for k, n in left_out.items())
        out.append(f"<p class='note'>{e(t['more_sections'].format(names=names))}</p>")
    out.append("</body></html>\n")
    return "\n".join(out)


class _Page:
    """One report in one language: its parts as HTML."""

    def __init__(self, rep: Report, catalog: Mapping[str, Item], lang: str) -> None:
        self.rep, self.catalog, self.lang, self.t = rep, catalog, lang, TEXT[lang]

    def n(self, value: int) -> str:
        return textfmt.num(value, self.lang)

    # -- parts -------------------------------------------------------------------------
    def damage(self) -> str:
        """The box at the top saying the store lost records, and what to do about it."""
        e = html.escape
        title, body, fix, details = damage_notice(self.rep, self.lang)
        items = "".join(f"<li>{e(d)}</li>" for d in details)
        return (
            f"<section class='damage' role='alert'><h2>{e(title)}</h2>"
            f"<p>{e(body)}</p><p><b>{e(fix)}</b></p><ul>{items}</ul></section>"
        )

    def kpis(self) -> str:
        rep, n = self.rep, self.n
        figures: list[tuple[str, str]] = [
            ("todo", n(rep.todo_size())),
            ("catalog", n(rep.catalog_size)),
            ("coverage", textfmt.pct(rep.coverage, self.lang)),
            ("found", n(len(rep.found))),
            ("missing", n(len(rep.missing))),
            ("on_loan", n(len(rep.on_loan))),
            ("misshelved", n(len(rep.misshelved))),
            ("wrong_location", n(len(rep.wrong_location))),
            ("not_covered", n(len(rep.not_covered))),
        ]
        cells = "".join(
            f'<div class="kpi" style="border-left-color:{KPI_COLORS[k]}"><b>{v}</b>'
            f"<span>{html.escape(self.t[k])}</span></div>"
            for k, v in figures
        )
        return f'<div class="kpis">{cells}</div>'

    def todo(self) -> str:
        """Every book that needs a second look, grouped by what to do, boxes to tick."""
        rep, t, e = self.rep, self.t, html.escape
        parts = [
            "<section class='todo'>",
            f"<h2>{e(t['todo'])} ({self.n(rep.todo_size())})</h2>",
        ]
        if not rep.todo_size():
            parts.append(f"<p>{e(t['todo_none'])}</p></section>")
            return "\n".join(parts)
        parts.append(f"<p class='note'>{e(t['todo_note'])}</p>")
        cat = self.catalog
        groups: list[tuple[str, tuple[str, ...], list[list[Any]]]] = [
            ("missing", ("code", "call", "item_title", "location"), self._items(rep.missing)),
            (
                "misshelved",
                ("code", "call", "item_title", "belongs"),
                [
                    [
                        _code(m.code),
                        e(m.call_number),
                        e(item_of(cat, m.code).title),
                        self._between(m),
                    ]
                    for m in rep.misshelved
                ],
            ),
            (
                "wrong_location",
                ("code", "call", "item_title", "belongs_in", "found_in"),
                [
                    [
                        _code(d.code),
                        e(d.call_number),
                        e(item_of(cat, d.code).title),
                        f"<b>{e(d.belongs_in or '-')}</b>",
                        e(d.found_in or "-"),
                    ]
                    for d in rep.wrong_location_detail
                ],
            ),
            (
                "on_loan_on_shelf",
                ("code", "call", "item_title", "location"),
                self._items(rep.on_loan_on_shelf),
            ),
            (
                "unknown",
                ("code", "found_in", "times"),
                [[_code(u.code), e(u.found_in or "-"), u.times] for u in rep.unknown_detail],
            ),
            # FOUND_AGAIN: rows come from Report.found_again, filled by the analysis.
            (
                "found_again",
                ("code", "call", "item_title", "location"),
                self._items(rep.found_again),
            ),
            (
                "sync_refused",
                ("code", "call", "outcome"),
                [
                    [_code(s.code), e(s.call_number), e(outcome_name(t, s.outcome))]
                    for s in rep.sync_refused
                ],
            ),
        ]
        for key, head, rows in groups:
            if rows:
                parts.append(f"<h3>{e(t['todo.' + key])} ({self.n(len(rows))})</h3>")
                numeric = tuple(i + 1 for i, k in enumerate(head) if k == "times")
                parts.append(self.table(head, rows, numeric=numeric, boxes=True))
        parts.append("</section>")
        return "\n".join(parts)

    def summary(self) -> str:
        rep, t, e = self.rep, self.t, html.escape
        ddc = ddc_names(self.lang)

        def class_label(name: str) -> str:
            return f"{name} {ddc[name]}" if name in ddc else t.get(name, name)

        coverage_note = t["coverage_note"].format(
            covered=self.n(rep.covered), catalog=self.n(rep.catalog_size)
        )
        return "\n".join(
            [
                f"<h2>{e(t['summary'])}</h2>",
                f"<p class='note'>{e(coverage_note)}</p>",
                self.groups(rep.by_location, "by_location", "location", lambda n: n),
                self.groups(rep.by_class, "by_class", "by_class", class_label),
                self.heading("ranges", len(rep.ranges)),
                self.table(
                    ("location", "run", "from", "to", "books"),
                    [
                        [
                            e(r.location),
                            r.run,
                            _cc(r.first_call, r.first_code),
                            _cc(r.last_call, r.last_code),
                            r.books,
                        ]
                        for r in rep.ranges
                    ],
                    numeric=(1, 4),
                ),
                self.heading("not_covered", len(rep.not_covered)),
                self.table(
                    ("location", "from", "to", "count"),
                    [
                        [
                            e(w.location),
                            _cc(w.first_call, w.first_code),
                            _cc(w.last_call, w.last_code),
                            w.items,
                        ]
                        for w in rep.to_walk
                    ],
                    numeric=(3,),
                ),
                self.heading("sync", len(rep.sync_items)),
                # One line per SLiMS answer with its count: 121 books in the upload file
                # are one line, not 121; the books to act on are in the to-do list.
                self.table(
                    ("outcome", "count"),
                    [[e(outcome_name(t, k)), len(v)] for k, v in rep.sync.items()],
                    numeric=(1,),
                ),
            ]
        )

    def lists(self) -> str:
        rep, t, e, cat = self.rep, self.t, html.escape, self.catalog
        fix_rows = [
            [
                _code(f.code),
                e(f.call_number) or "<span class='muted'>∅</span>",
                e(f.location),
                e(f.title),
                ("<span class='bad'>" + e(t["unplaced"]) + "</span>; " if f.unplaced else "")
                + e("; ".join(f.problems)),
            ]
            for f in rep.call_numbers_to_fix
        ]
        return "\n".join(
            [
                f"<h2>{e(t['lists'])}</h2>",
                self.heading("duplicates", len(rep.duplicates), 3),
                self.table(
                    ("code", "call", "item_title", "times"),
                    [
                        [_code(c), e(item_of(cat, c).call_number), e(item_of(cat, c).title), n]
                        for c, n in rep.duplicate_counts.items()
                    ],
                    numeric=(3,),
                ),
                self.heading("invalid", len(rep.invalid), 3),
                self.table(("code",), [[_code(c)] for c in rep.invalid]),
                self.heading("excluded", len(rep.excluded), 3),
                self.table(
                    ("code", "call", "item_title", "status"),
                    [
                        [_code(c), *map(e, (it.call_number, it.title, it.status))]
                        for c in rep.excluded
                        for it in (item_of(cat, c),)
                    ],
                ),
                self.heading("no_label", sum(rep.no_label.values()), 3),
                self.table(
                    ("location", "count"),
                    [[e(k), v] for k, v in rep.no_label.items()],
                    numeric=(1,),
                ),
                self.heading("fix", len(rep.call_numbers_to_fix), 3),
                self.table(("code", "call", "location", "item_title", "problems"), fix_rows),
            ]
        )

    def on_loan(self) -> str:
        rep, t, e = self.rep, self.t, html.escape
        rows = [
            [
                _code(r.code),
                e(r.call_number),
                e(item_of(self.catalog, r.code).title),
                f"<span class='nw'>{e(self.due(r))}</span>",
                self.overdue(r),
            ]
            for r in rep.on_loan_detail
        ]
        no_due = rows and all(not r.due for r in rep.on_loan_detail)
        return "\n".join(
            [
                self.heading("on_loan", len(rows)),
                f"<p class='note'>{e(t['on_loan_no_due'])}</p>" if no_due else "",
                self.table(("code", "call", "item_title", "due", "overdue"), rows, numeric=(4,)),
            ]
        )

    def not_covered(self) -> str:
        return self.heading("not_covered", len(self.rep.not_covered)) + self.col_list(
            self.rep.not_covered
        )

    def found(self) -> str:
        rep, t, e = self.rep, self.t, html.escape
        out = [self.heading("found", len(rep.found)), self.col_list(rep.found)]
        for outcome in _CONFIRMED:
            if codes := rep.sync.get(outcome):
                label = f"{t['confirmed']}: {outcome_name(t, outcome)}"
                out.append(f"<h2>{e(label)} ({self.n(len(codes))})</h2>")
                out.append(self.col_list(codes))
        return "\n".join(out)

    # -- pieces ------------------------------------------------------------------------
    def due(self, row: LoanRow) -> str:
        day = textfmt.parse_day(row.due)
        return textfmt.date(day, self.lang) if day else self.t["due_unknown"]

    def overdue(self, row: LoanRow) -> str:
        t = self.t
        if row.overdue_days is None:
            return "<span class='muted'>–</span>"
        if row.overdue_days == 0:
            return f"<span class='muted'>{html.escape(t['not_overdue'])}</span>"
        days = t["day"] if row.overdue_days == 1 else t["days"].format(n=self.n(row.overdue_days))
        return f"<span class='bad nw'>{html.escape(days)}</span>"

    def heading(self, key: str, count: int, level: int = 2) -> str:
        """A list's heading with its count, and its explanation (``<key>_note``) if not empty."""
        head = f"<h{level}>{html.escape(self.t[key])} ({self.n(count)})</h{level}>"
        note = self.t.get(f"{key}_note")
        return head + (f"<p class='note'>{html.escape(note)}</p>" if note and count else "")

    def _items(self, codes: Iterable[str]) -> list[list[Any]]:
        e = html.escape
        return [
            [_code(c), e(it.call_number), e(it.title), e(it.location)]
            for c in codes
            for it in (item_of(self.catalog, c),)
        ]

    def _between(self, m: Any) -> str:
        t = self.t
        between = (
            f"{_cc(m.belongs_after_call, m.belongs_after, t['start'])} … "
            f"{_cc(m.belongs_before_call, m.belongs_before, t['end'])}"
        )
        if m.found_after:
            where = _cc(item_of(self.catalog, m.found_after).call_number, m.found_after)
            note = html.escape(t["found_after"]).format(x=where)
            between += f"<br><span class='muted'>{note}</span>"
        return between

    def col_list(self, codes: list[str]) -> str:
        """Long lists (found, not covered) in newspaper columns: code and call number."""
        if not codes:
            return f"<p>{html.escape(self.t['none'])}</p>"
        items = "".join(
            f"<li>{_code(c)} {html.escape(item_of(self.catalog, c).call_number)}</li>"
            for c in codes
        )
        return f"<ol class='cols'>{items}</ol>"

    def table(
        self,
        head: Iterable[str],
        rows: list[list[Any]],
        *,
        numeric: tuple[int, ...] = (),
        boxes: bool = False,
        wide: bool = False,
    ) -> str:
        """A table: ``head`` are :data:`TEXT` keys, cells are HTML (ints are formatted).

        Tables of books stack into cards on a phone; ``wide`` tables of figures
        keep their columns and scroll sideways in their box rather than be cut.
        """
        t = self.t
        if not rows:
            return f"<p class='muted'>{html.escape(t['none'])}</p>"
        labels = [html.escape(t[k]) for k in head]
        if boxes:
            box = _BOX.format(label=html.escape(t["done"]))
            labels = [html.escape(t["done"]), *labels]
            rows = [[box, *r] for r in rows]
            numeric = tuple(i + 1 for i in numeric)

        def cell(i: int, v: Any, tag: str) -> str:
            cls = ' class="n"' if i in numeric else (' class="box"' if boxes and i == 0 else "")
            data = f' data-label="{labels[i]}"' if tag == "td" and not (boxes and i == 0) else ""
            text = self.n(v) if isinstance(v, int) else v
            return f"<{tag}{cls}{data}>{text}</{tag}>"

        body = "".join(
            "<tr>" + "".join(cell(i, v, "td") for i, v in enumerate(r)) + "</tr>" for r in rows
        )
        heads = "<tr>" + "".join(cell(i, v, "th") for i, v in enumerate(labels)) + "</tr>"
        # Rows of books become cards on a phone; tables of figures keep their columns
        # and scroll sideways.
        layout = "wide" if wide else "stack" if len(labels) > 2 else ""
        stack = f" class='{layout}'" if layout else ""
        return (
            f"<div class='scroll'><table{stack}><thead>{heads}</thead>"
            f"<tbody>{body}</tbody></table></div>"
        )

    def groups(
        self,
        groups: Mapping[str, GroupTally],
        key: str,
        first_column: str,
        label: Callable[[str], str],
    ) -> str:
        """A chart and a table of the per-group tallies (by location or DDC class)."""
        e, t = html.escape, self.t
        legend = "".join(f'<i style="background:{COLORS[k]}"></i>{e(t[k])}' for k in CATEGORIES)
        head = (first_column, "catalog", *CATEGORIES, "coverage")
        rows: list[list[Any]] = []
        for g, row in groups.items():
            counts = (row.counts[k] for k in CATEGORIES)
            rows.append(
                [e(label(g)), row.catalog, *counts, textfmt.pct(row.share_covered, self.lang)]
            )
        return (
            f"<div class='chartbox'><h3>{e(t[key])}</h3>"
            f"<p class='legend'>{legend}</p>{bar_chart(groups, label, t, self.lang)}</div>\n"
            + self.table(head, rows, numeric=tuple(range(1, len(head))), wide=True)
        )


def _code(code: str) -> str:
    return f"<code>{html.escape(code)}</code>"


def _cc(call: str | None, code: str | None, empty: str = "—") -> str:
    """A call number with its item code, for 'belongs between' and span cells."""
    if not code:
        return f"<span class='muted'>{html.escape(empty)}</span>"
    shown = html.escape(call) if call else "?"
    return f"{shown} <span class='muted'>({html.escape(code)})</span>"
