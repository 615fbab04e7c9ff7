"""The end-of-day stock-take report: what was found, missing, on loan, out of place.

Built from the store alone (catalogue + scans), so it can be produced on the
cart with no network. "Missing" is only claimed inside shelf ranges actually
scanned; items beyond them are "not yet covered", never missing.
"""

from __future__ import annotations

import csv
import html
import io
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from kiosk.callnumber import ddc_group, sort_key
from kiosk.models import Item, Scan, Verdict

FORMATS = ("html", "csv", "json", "text")


@dataclass
class Report:
    stocktake: str
    generated: float
    catalog_size: int
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    on_loan: list[str] = field(default_factory=list)
    on_loan_on_shelf: list[str] = field(default_factory=list)
    misshelved: list[dict[str, Any]] = field(default_factory=list)
    wrong_location: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    no_label: dict[str, int] = field(default_factory=dict)
    coverage: float = 0.0
    sync: dict[str, list[str]] = field(default_factory=dict)
    by_location: dict[str, dict[str, int]] = field(default_factory=dict)
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build(
    catalog: Mapping[str, Item],
    scans: Iterable[Scan],
    *,
    stocktake: str = "",
    excluded_statuses: Iterable[str] = (),
) -> Report:
    """Compare the catalogue with the (non-voided) scans.

    Items whose status is excluded from the stock take are never missing nor
    "not covered": like SLiMS, the count leaves them out.
    """
    skip = {s.casefold() for s in excluded_statuses}
    live = [s for s in scans if not s.voided]
    rep = Report(stocktake=stocktake, generated=time.time(), catalog_size=len(catalog))
    found: dict[str, Scan] = {}
    seen: Counter[str] = Counter()
    for s in live:
        if s.verdict is Verdict.COMMAND:
            if s.detail.get("command") == "nolabel":
                key = s.location or "-"
                rep.no_label[key] = rep.no_label.get(key, 0) + 1
            continue
        seen[s.code] += 1
        if s.verdict.counts_as_found and s.code in catalog:
            found.setdefault(s.code, s)
        if s.verdict is Verdict.MISSHELVED:
            rep.misshelved.append(
                {
                    "code": s.code,
                    "belongs_after": s.detail.get("belongs_after"),
                    "belongs_before": s.detail.get("belongs_before"),
                    "location": s.location,
                }
            )
        elif s.verdict is Verdict.WRONG_LOCATION:
            rep.wrong_location.append(s.code)
        elif s.verdict is Verdict.ON_LOAN:
            rep.on_loan_on_shelf.append(s.code)
        elif s.verdict is Verdict.EXCLUDED:
            rep.excluded.append(s.code)
        if s.sync:
            rep.sync.setdefault(s.sync, []).append(s.code)
    rep.found = sorted(found, key=lambda c: sort_key(catalog[c].call_number))
    rep.unknown = _unique(s.code for s in live if s.verdict is Verdict.UNKNOWN)
    rep.invalid = _unique(s.code for s in live if s.verdict is Verdict.INVALID)
    rep.duplicates = sorted(c for c, n in seen.items() if n > 1)

    ranges = _scanned_ranges(live, catalog)
    covered_count = 0
    for code, item in catalog.items():
        if code in found:
            covered_count += 1
            continue
        if item.status.casefold() in skip:
            continue
        key = sort_key(item.call_number)
        inside = any(lo <= key <= hi for lo, hi in ranges.get(item.location, ()))
        if item.on_loan:
            rep.on_loan.append(code)
        elif inside:
            rep.missing.append(code)
        else:
            rep.not_covered.append(code)
        covered_count += inside
    rep.coverage = covered_count / len(catalog) if catalog else 0.0
    for lst in (rep.missing, rep.on_loan, rep.not_covered):
        lst.sort(key=lambda c: sort_key(catalog[c].call_number))
    rep.by_location = _tally(catalog, rep, lambda it: it.location or "-")
    rep.by_class = _tally(catalog, rep, lambda it: ddc_group(it.call_number))
    return rep


def _scanned_ranges(
    scans: list[Scan], catalog: Mapping[str, Item]
) -> dict[str, list[tuple[Any, Any]]]:
    """Per location, the call-number span walked in each shelf run.

    Only items that stood in order (``ok``) stretch a span: one misshelved book
    from far away must not make a whole section "missing".
    """
    spans: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for s in scans:
        item = catalog.get(s.code)
        if s.verdict is Verdict.OK and item is not None:
            spans[(item.location, s.run)].append(sort_key(item.call_number))
    out: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    for (loc, _run), keys in spans.items():
        out[loc].append((min(keys), max(keys)))
    return out


def _tally(catalog: Mapping[str, Item], rep: Report, group: Any) -> dict[str, dict[str, int]]:
    status: dict[str, str] = {}
    for name in ("found", "missing", "on_loan", "not_covered"):
        for code in getattr(rep, name):
            status[code] = name
    out: dict[str, dict[str, int]] = {}
    for code, item in catalog.items():
        row = out.setdefault(
            group(item), {"catalog": 0, "found": 0, "missing": 0, "on_loan": 0, "not_covered": 0}
        )
        row["catalog"] += 1
        row[status.get(code, "not_covered")] += 1
    return dict(sorted(out.items()))


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


# -- rendering -------------------------------------------------------------------------
TEXT = {
    "en": {
        "title": "Stock-take report",
        "generated": "Generated",
        "catalog": "Items in catalogue",
        "coverage": "Shelf coverage",
        "found": "Found",
        "missing": "Missing",
        "on_loan": "On loan",
        "on_loan_on_shelf": "On loan in SLiMS but on the shelf",
        "misshelved": "Misshelved",
        "wrong_location": "Wrong location",
        "unknown": "Unknown barcodes",
        "duplicates": "Scanned more than once",
        "invalid": "Invalid barcodes",
        "excluded": "Excluded by status",
        "not_covered": "Not yet covered",
        "no_label": "Items without a label (tally)",
        "sync": "SLiMS sync results",
        "by_location": "By location",
        "by_class": "By DDC class",
        "code": "Item code",
        "call": "Call number",
        "item_title": "Title",
        "location": "Location",
        "belongs": "Belongs between",
        "count": "Count",
        "none": "None.",
        "group": "Group",
    },
    "id": {
        "title": "Laporan stock opname",
        "generated": "Dibuat",
        "catalog": "Eksemplar di katalog",
        "coverage": "Cakupan rak",
        "found": "Ditemukan",
        "missing": "Hilang",
        "on_loan": "Dipinjam",
        "on_loan_on_shelf": "Tercatat dipinjam tetapi ada di rak",
        "misshelved": "Salah urutan rak",
        "wrong_location": "Salah lokasi",
        "unknown": "Barkode tidak dikenal",
        "duplicates": "Dipindai lebih dari sekali",
        "invalid": "Barkode tidak sah",
        "excluded": "Dikecualikan karena status",
        "not_covered": "Belum tercakup",
        "no_label": "Eksemplar tanpa label (hitungan)",
        "sync": "Hasil sinkronisasi SLiMS",
        "by_location": "Per lokasi",
        "by_class": "Per kelas DDC",
        "code": "Kode eksemplar",
        "call": "Nomor panggil",
        "item_title": "Judul",
        "location": "Lokasi",
        "belongs": "Seharusnya di antara",
        "count": "Jumlah",
        "none": "Tidak ada.",
        "group": "Kelompok",
    },
}

_LISTS = (
    "missing",
    "on_loan",
    "on_loan_on_shelf",
    "wrong_location",
    "unknown",
    "duplicates",
    "invalid",
    "excluded",
    "not_covered",
    "found",
)


def render(rep: Report, catalog: Mapping[str, Item], fmt: str, language: str = "en") -> str:
    if fmt == "json":
        return json.dumps(rep.to_dict(), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return _csv(rep, catalog)
    if fmt == "html":
        return _html(rep, catalog, TEXT[language], language)
    return _text(rep, TEXT[language])


def _csv(rep: Report, catalog: Mapping[str, Item]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["list", "item_code", "call_number", "location", "title", "note"])
    for m in rep.misshelved:
        it = catalog.get(m["code"])
        note = f"between {m['belongs_after'] or '-'} and {m['belongs_before'] or '-'}"
        w.writerow(["misshelved", m["code"], *_cols(it), note])
    for name in _LISTS:
        for code in getattr(rep, name):
            w.writerow([name, code, *_cols(catalog.get(code)), ""])
    for loc, n in rep.no_label.items():
        w.writerow(["no_label", "", "", loc, "", str(n)])
    return buf.getvalue()


def _cols(it: Item | None) -> list[str]:
    return [it.call_number, it.location, it.title] if it else ["", "", ""]


def _text(rep: Report, t: Mapping[str, str]) -> str:
    lines = [f"{t['title']} {rep.stocktake}".strip(), f"{t['catalog']}: {rep.catalog_size}"]
    lines.append(f"{t['coverage']}: {rep.coverage:.1%}")
    lines.append(f"{t['misshelved']}: {len(rep.misshelved)}")
    for name in _LISTS:
        lines.append(f"{t[name]}: {len(getattr(rep, name))}")
    lines.append(f"{t['no_label']}: {sum(rep.no_label.values())}")
    return "\n".join(lines) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{margin-bottom:0}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:90%}
th{background:#eee}.k{display:inline-block;margin-right:2em}.k b{font-size:160%;display:block}
.legend span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}
@media print{body{margin:0}h2{page-break-after:avoid}table{page-break-inside:auto}}
"""
_COLORS = {"found": "#2e7d32", "missing": "#c62828", "on_loan": "#f9a825", "not_covered": "#bdbdbd"}


def _html(rep: Report, catalog: Mapping[str, Item], t: Mapping[str, str], lang: str) -> str:
    e = html.escape
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rep.generated))
    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{e(t['title'])} {e(rep.stocktake)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(t['title'])} {e(rep.stocktake)}</h1><p>{e(t['generated'])}: {when}</p><p>",
    ]
    figures = [
        ("catalog", rep.catalog_size),
        ("found", len(rep.found)),
        ("missing", len(rep.missing)),
        ("on_loan", len(rep.on_loan)),
        ("misshelved", len(rep.misshelved)),
        ("not_covered", len(rep.not_covered)),
    ]
    out += [f'<span class="k"><b>{n}</b>{e(t[k])}</span>' for k, n in figures]
    out.append(f'<span class="k"><b>{rep.coverage:.1%}</b>{e(t["coverage"])}</span></p>')
    legend = "".join(f'<span style="background:{c}"></span>{e(t[k])}' for k, c in _COLORS.items())
    for key in ("by_location", "by_class"):
        out.append(f"<h2>{e(t[key])}</h2><p class='legend'>{legend}</p>")
        out.append(_chart(getattr(rep, key)))
    out.append(f"<h2>{e(t['misshelved'])} ({len(rep.misshelved)})</h2>")
    rows = []
    for m in rep.misshelved:
        it = catalog.get(m["code"])
        between = f"{m['belongs_after'] or '—'} … {m['belongs_before'] or '—'}"
        rows.append([m["code"], *_cols(it)[:1], it.title if it else "", between])
    out.append(_table([t["code"], t["call"], t["item_title"], t["belongs"]], rows, t))
    for name in _LISTS:
        codes = getattr(rep, name)
        out.append(f"<h2>{e(t[name])} ({len(codes)})</h2>")
        out.append(_table([t["code"], t["call"], t["location"], t["item_title"]],
                          [[c, *_cols(catalog.get(c))] for c in codes], t))
    out.append(f"<h2>{e(t['no_label'])}</h2>")
    out.append(_table([t["location"], t["count"]], [[k, str(v)] for k, v in rep.no_label.items()], t))
    out.append(f"<h2>{e(t['sync'])}</h2>")
    out.append(_table([t["group"], t["count"]], [[k, str(len(v))] for k, v in rep.sync.items()], t))
    out.append("</body></html>\n")
    return "\n".join(out)


def _table(head: list[str], rows: list[list[str]], t: Mapping[str, str]) -> str:
    if not rows:
        return f"<p>{html.escape(t['none'])}</p>"
    e = html.escape
    h = "".join(f"<th>{e(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def _chart(groups: Mapping[str, Mapping[str, int]]) -> str:
    """A stacked horizontal bar per group, as inline SVG (no scripts, prints well)."""
    width, bar, label = 640, 18, 130
    most = max((g["catalog"] for g in groups.values()), default=1) or 1
    parts = [f'<svg width="{width}" height="{(bar + 6) * len(groups) + 4}" role="img">']
    for i, (name, g) in enumerate(groups.items()):
        y = 2 + i * (bar + 6)
        parts.append(f'<text x="0" y="{y + bar - 4}" font-size="12">{html.escape(name)}</text>')
        x = float(label)
        for k, color in _COLORS.items():
            w = (width - label - 60) * g.get(k, 0) / most
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="{color}"/>')
            x += w
        parts.append(
            f'<text x="{x + 4:.1f}" y="{y + bar - 4}" font-size="11">{g["found"]}/{g["catalog"]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
