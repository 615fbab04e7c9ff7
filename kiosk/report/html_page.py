"""The report as one self-contained HTML page, to read on screen or print for the shelf team.

Only formats the typed rows of kiosk.report.rows; every word comes from
kiosk.report.texts and the look (CSS, colours, charts) from kiosk.report.charts.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kiosk.models import Item, SyncOutcome
from kiosk.report.charts import COLORS, CSS, KPI_COLORS, bar_chart
from kiosk.report.rows import CATEGORIES, PENDING, GroupTally, Report, item_of
from kiosk.report.texts import TEXT, ddc_names, outcome_name

#: SLiMS outcomes listed as confirmed, in the order of their lists.
_CONFIRMED = tuple(o for o in SyncOutcome if o.confirmed)


def to_html(rep: Report, catalog: Mapping[str, Item], lang: str) -> str:
    """The whole page: key figures, charts, then every list the procedure asks for."""
    e = html.escape
    t = TEXT[lang]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rep.generated))
    title = f"{t['title']} {rep.stocktake}".strip()
    coverage_note = t["coverage_note"].format(
        covered=f"{rep.covered:,}", catalog=f"{rep.catalog_size:,}"
    )
    ddc = ddc_names(lang)

    def class_label(name: str) -> str:
        return f"{name} {ddc[name]}" if name in ddc else t.get(name, name)

    misshelved = []
    for m in rep.misshelved:
        between = (
            f"{_cc(m.belongs_after_call, m.belongs_after, t['start'])} … "
            f"{_cc(m.belongs_before_call, m.belongs_before, t['end'])}"
        )
        if m.found_after:
            where = _cc(item_of(catalog, m.found_after).call_number, m.found_after)
            between += f"<br><span class='muted'>{e(t['found_after']).format(x=where)}</span>"
        title_of = item_of(catalog, m.code).title
        misshelved.append([_code(m.code), e(m.call_number), e(title_of), e(m.location), between])

    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p class='meta'>{e(t['generated'].format(when=when, scans=rep.scans))}</p>",
        _kpis(rep, t),
        f"<p class='note'>{e(coverage_note)}</p>",
        _groups(rep.by_location, t, "by_location", "location", lambda n: n),
        _groups(rep.by_class, t, "by_class", "by_class", class_label),
        _section(t, "ranges", len(rep.ranges)),
        _table(
            t,
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
        _section(t, "missing", len(rep.missing)),
        _item_table(rep.missing, catalog, t),
        _section(t, "misshelved", len(rep.misshelved)),
        _table(t, ("code", "call", "item_title", "location", "belongs"), misshelved),
        _section(t, "wrong_location", len(rep.wrong_location_detail)),
        _table(
            t,
            ("code", "call", "item_title", "belongs_in", "found_in"),
            [
                [
                    _code(d.code),
                    e(d.call_number),
                    e(item_of(catalog, d.code).title),
                    f"<b>{e(d.belongs_in or '-')}</b>",
                    e(d.found_in or "-"),
                ]
                for d in rep.wrong_location_detail
            ],
        ),
        _section(t, "on_loan", len(rep.on_loan)),
        _item_table(rep.on_loan, catalog, t),
        _section(t, "on_loan_on_shelf", len(rep.on_loan_on_shelf)),
        _item_table(rep.on_loan_on_shelf, catalog, t),
        _section(t, "unknown", len(rep.unknown_detail)),
        _table(
            t,
            ("code", "found_in", "times"),
            [[_code(u.code), e(u.found_in or "-"), u.times] for u in rep.unknown_detail],
            numeric=(2,),
        ),
        _section(t, "duplicates", len(rep.duplicates)),
        _table(
            t,
            ("code", "call", "item_title", "times"),
            [
                [_code(c), e(item_of(catalog, c).call_number), e(item_of(catalog, c).title), n]
                for c, n in rep.duplicate_counts.items()
            ],
            numeric=(3,),
        ),
        _section(t, "invalid", len(rep.invalid)),
        _table(t, ("code",), [[_code(c)] for c in rep.invalid]),
        _section(t, "excluded", len(rep.excluded)),
        _item_table(rep.excluded, catalog, t, status=True),
        _section(t, "no_label", sum(rep.no_label.values())),
        _table(
            t,
            ("location", "count"),
            [[e(k), v] for k, v in rep.no_label.items()],
            numeric=(1,),
        ),
        _section(t, "fix", len(rep.call_numbers_to_fix)),
        _table(
            t,
            ("code", "call", "location", "item_title", "problems"),
            [
                [
                    _code(f.code),
                    e(f.call_number) or "<span class='muted'>∅</span>",
                    e(f.location),
                    e(f.title),
                    ("<span class='bad'>" + e(t["unplaced"]) + "</span>; " if f.unplaced else "")
                    + e("; ".join(f.problems)),
                ]
                for f in rep.call_numbers_to_fix
            ],
        ),
        _sync_section(rep, catalog, t),
        "<section class='long'>",
        _section(t, "not_covered", len(rep.not_covered)),
        _table(
            t,
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
        _col_list(rep.not_covered, catalog, t),
        _section(t, "found", len(rep.found)),
        _col_list(rep.found, catalog, t),
        "</section></body></html>\n",
    ]
    return "\n".join(out)


def _kpis(rep: Report, t: Mapping[str, str]) -> str:
    figures: list[tuple[str, str]] = [
        ("catalog", f"{rep.catalog_size:,}"),
        ("coverage", f"{rep.coverage:.1%}"),
        ("found", f"{len(rep.found):,}"),
        ("missing", f"{len(rep.missing):,}"),
        ("on_loan", f"{len(rep.on_loan):,}"),
        ("misshelved", f"{len(rep.misshelved):,}"),
        ("wrong_location", f"{len(rep.wrong_location):,}"),
        ("unknown", f"{len(rep.unknown):,}"),
        ("not_covered", f"{len(rep.not_covered):,}"),
    ]
    cells = "".join(
        f'<div class="kpi" style="border-left-color:{KPI_COLORS[k]}"><b>{v}</b>'
        f"<span>{html.escape(t[k])}</span></div>"
        for k, v in figures
    )
    return f'<div class="kpis">{cells}</div>'


def _section(t: Mapping[str, str], key: str, n: int) -> str:
    """A list's heading with its count, and its explanation (``<key>_note``) if not empty."""
    head = f"<h2>{html.escape(t[key])} ({n:,})</h2>"
    note = t.get(f"{key}_note")
    return head + (f"<p class='note'>{html.escape(note)}</p>" if note and n else "")


def _code(code: str) -> str:
    return f"<code>{html.escape(code)}</code>"


def _cc(call: str | None, code: str | None, empty: str = "—") -> str:
    """A call number with its item code, for 'belongs between' and span cells."""
    if not code:
        return f"<span class='muted'>{html.escape(empty)}</span>"
    shown = html.escape(call) if call else "?"
    return f"{shown} <span class='muted'>({html.escape(code)})</span>"


def _item_table(
    codes: list[str], catalog: Mapping[str, Item], t: Mapping[str, str], *, status: bool = False
) -> str:
    head = ("code", "call", "location", "item_title", *(["status"] if status else []))
    rows = []
    for c in codes:
        it = item_of(catalog, c)
        cells = [it.call_number, it.location, it.title] + ([it.status] if status else [])
        rows.append([_code(c), *map(html.escape, cells)])
    return _table(t, head, rows)


def _col_list(codes: list[str], catalog: Mapping[str, Item], t: Mapping[str, str]) -> str:
    """Long lists (found, not covered) in newspaper columns: code and call number."""
    if not codes:
        return f"<p>{html.escape(t['none'])}</p>"
    items = "".join(
        f"<li>{_code(c)} {html.escape(item_of(catalog, c).call_number)}</li>" for c in codes
    )
    return f"<ol class='cols'>{items}</ol>"


def _sync_section(rep: Report, catalog: Mapping[str, Item], t: Mapping[str, str]) -> str:
    e = html.escape
    out = [
        _section(t, "sync", len(rep.sync_items)),
        _table(
            t,
            ("outcome", "count"),
            [[e(outcome_name(t, k)), len(v)] for k, v in rep.sync.items()],
            numeric=(1,),
        ),
    ]
    attention = [s for s in rep.sync_items if not s.confirmed]
    if attention:
        out.append(_section(t, "sync_items", len(attention)))
        rows = []
        for s in attention:
            label = e(outcome_name(t, s.outcome))
            if s.outcome not in (PENDING, SyncOutcome.EXPORTED):  # the rest need a look in SLiMS
                label = f"<span class='bad'>{label}</span>"
            rows.append([_code(s.code), e(s.call_number), label])
        out.append(_table(t, ("code", "call", "outcome"), rows))
    for outcome in _CONFIRMED:
        if codes := rep.sync.get(outcome):
            label = f"{t['confirmed']}: {outcome_name(t, outcome)}"
            out.append(f"<h2>{e(label)} ({len(codes):,})</h2>")
            out.append(_col_list(codes, catalog, t))
    return "\n".join(out)


def _table(
    t: Mapping[str, str],
    head: Iterable[str],
    rows: list[list[Any]],
    *,
    numeric: tuple[int, ...] = (),
) -> str:
    """A table: ``head`` are :data:`TEXT` keys, cells are HTML (ints are formatted)."""
    if not rows:
        return f"<p class='muted'>{html.escape(t['none'])}</p>"

    def tr(cells: Iterable[Any], tag: str) -> str:
        tds = []
        for i, v in enumerate(cells):
            cls = ' class="n"' if i in numeric else ""
            tds.append(f"<{tag}{cls}>{f'{v:,}' if isinstance(v, int) else v}</{tag}>")
        return f"<tr>{''.join(tds)}</tr>"

    body = "".join(tr(r, "td") for r in rows)
    heads = tr((html.escape(t[k]) for k in head), "th")
    return f"<table><thead>{heads}</thead><tbody>{body}</tbody></table>"


def _groups(
    groups: Mapping[str, GroupTally],
    t: Mapping[str, str],
    key: str,
    first_column: str,
    label: Callable[[str], str],
) -> str:
    """A chart and a table of the per-group tallies (by location or DDC class)."""
    e = html.escape
    legend = "".join(f'<i style="background:{COLORS[k]}"></i>{e(t[k])}' for k in CATEGORIES)
    head = (first_column, "catalog", *CATEGORIES, "coverage")
    rows: list[list[Any]] = []
    for g, row in groups.items():
        counts = (row.counts[k] for k in CATEGORIES)
        rows.append([e(label(g)), row.catalog, *counts, f"{row.share_covered:.1%}"])
    return (
        f"<div class='chartbox'><h2>{e(t[key])}</h2>"
        f"<p class='legend'>{legend}</p>{bar_chart(groups, label, t)}</div>\n"
        + _table(t, head, rows, numeric=tuple(range(1, len(head))))
    )
