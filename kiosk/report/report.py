"""The end-of-day stock-take report: what was found, missing, on loan, out of place.

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

import csv
import html
import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from kiosk.engine.callnumber import ddc_group, parse, sort_key
from kiosk.models import Command, Item, Neighbours, Scan, Verdict

FORMATS = ("html", "csv", "json", "text")

#: Item categories of the charts and per-group tallies, in stacking order.
CATEGORIES = ("found", "missing", "on_loan", "excluded", "not_covered")

#: SLiMS outcomes that mean the item now counts as found there (``already_scanned``:
#: another cart or an earlier upload got there first). ``exported`` does not: the
#: item is only in an upload file that SLiMS has not confirmed.
CONFIRMED = ("accepted", "already_scanned", "uploaded")
#: Order of the sync table: what needs a person first.
_SYNC_ORDER = (
    "not_in_stocktake",
    "on_loan",
    "skipped_rule",
    "pending",
    "exported",
    *CONFIRMED,
)


@dataclass
class Report:
    """Every list is of item codes unless said otherwise; lists of catalogue items
    are in shelf (call-number) order."""

    stocktake: str
    generated: float
    catalog_size: int
    scans: int = 0
    #: Every catalogue item scanned as present, wherever it stood.
    found: list[str] = field(default_factory=list)
    #: Not scanned, not on loan, inside a walked call-number span of its location.
    missing: list[str] = field(default_factory=list)
    #: On loan in SLiMS and not scanned.
    on_loan: list[str] = field(default_factory=list)
    #: On loan in SLiMS, yet scanned on the shelf (fix the loan in SLiMS).
    on_loan_on_shelf: list[str] = field(default_factory=list)
    #: Objects: code, call_number, location, belongs_after(_call), belongs_before(_call).
    misshelved: list[dict[str, Any]] = field(default_factory=list)
    wrong_location: list[str] = field(default_factory=list)
    #: Objects: code, call_number, belongs_in (catalogue location), found_in (scan location).
    wrong_location_detail: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: Objects: code, found_in, times.
    unknown_detail: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    #: Item code → times scanned, for the codes in ``duplicates``.
    duplicate_counts: dict[str, int] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    #: Scanned items whose status the stock take skips (not sent to SLiMS).
    excluded: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    #: Stretches still to walk: location, first_code, first_call, last_code, last_call, items.
    to_walk: list[dict[str, Any]] = field(default_factory=list)
    #: Location → items counted with the no-label command.
    no_label: dict[str, int] = field(default_factory=dict)
    #: Share of the catalogue found or inside a walked span.
    coverage: float = 0.0
    covered: int = 0
    #: Objects: location, run, first_code, first_call, last_code, last_call, books.
    ranges: list[dict[str, Any]] = field(default_factory=list)
    #: SLiMS outcome (``pending`` = not yet synced) → item codes.
    sync: dict[str, list[str]] = field(default_factory=dict)
    #: Objects: code, call_number, outcome (``pending`` = not yet synced).
    sync_items: list[dict[str, Any]] = field(default_factory=list)
    #: Objects: code, call_number, location, title, problems, unplaced.
    call_numbers_to_fix: list[dict[str, Any]] = field(default_factory=list)
    #: Group → counts of ``catalog``, ``covered`` and each of :data:`CATEGORIES`.
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
    times: Counter[str] = Counter()
    wrong: dict[str, dict[str, Any]] = {}
    unknown: dict[str, dict[str, Any]] = {}
    for s in live:
        v = s.verdict
        if v is Verdict.COMMAND:
            if s.command is Command.NOLABEL:
                key = s.location or "-"
                rep.no_label[key] = rep.no_label.get(key, 0) + 1
            continue
        rep.scans += 1
        if v.counts_as_found and s.code in catalog:
            times[s.code] += 1
            found.setdefault(s.code, s)
        elif v is Verdict.DUPLICATE:
            times[s.code] += 1
        if v is Verdict.MISSHELVED:
            rep.misshelved.append(_misshelf_row(s, catalog))
        elif v is Verdict.WRONG_LOCATION:
            item = catalog.get(s.code)
            wrong.setdefault(
                s.code,
                {
                    "code": s.code,
                    "call_number": item.call_number if item else "",
                    "belongs_in": item.location if item else s.detail.expected_location,
                    "found_in": s.location,
                },
            )
        elif v is Verdict.ON_LOAN:
            rep.on_loan_on_shelf.append(s.code)
        elif v is Verdict.EXCLUDED:
            rep.excluded.append(s.code)
        elif v is Verdict.INVALID:
            rep.invalid.append(s.code)
        elif v is Verdict.UNKNOWN:
            row = unknown.setdefault(s.code, {"code": s.code, "found_in": s.location, "times": 0})
            row["times"] += 1
    rep.duplicates = sorted(c for c, n in times.items() if n > 1)
    rep.duplicate_counts = {c: times[c] for c in rep.duplicates}
    rep.wrong_location, rep.wrong_location_detail = list(wrong), list(wrong.values())
    rep.unknown, rep.unknown_detail = list(unknown), list(unknown.values())
    rep.on_loan_on_shelf = _unique(rep.on_loan_on_shelf)
    rep.excluded = _unique(rep.excluded)
    rep.invalid = _unique(rep.invalid)

    spans = _scanned_ranges(live, catalog)
    rep.ranges = [row for _lo, _hi, row in spans]
    bounds: dict[str, list[tuple[Any, Any]]] = {}
    for lo, hi, row in spans:
        bounds.setdefault(row["location"], []).append((lo, hi))

    # Walking the catalogue in shelf order puts every list below in shelf order.
    order = sorted(
        catalog, key=lambda c: (catalog[c].location, sort_key(catalog[c].call_number), c)
    )
    status: dict[str, str] = {}
    covered: set[str] = set()
    for code in order:
        item = catalog[code]
        cn = parse(item.call_number)
        inside = cn.orderable and any(
            lo <= cn.key <= hi for lo, hi in bounds.get(item.location, ())
        )
        if code in found:
            status[code] = "found"
        elif item.status.casefold() in skip:
            status[code] = "excluded"
        elif item.on_loan:
            status[code] = "on_loan"
        elif inside:
            status[code] = "missing"
        else:
            status[code] = "not_covered"
        if inside or code in found:
            covered.add(code)
        if cn.problems or not cn.orderable:
            rep.call_numbers_to_fix.append(
                {
                    "code": code,
                    "call_number": item.call_number,
                    "location": item.location,
                    "title": item.title,
                    "problems": list(cn.problems),
                    "unplaced": not cn.orderable,
                }
            )
    rep.found, rep.missing, rep.on_loan, rep.not_covered = (
        [c for c, st in status.items() if st == name]
        for name in ("found", "missing", "on_loan", "not_covered")
    )
    rep.call_numbers_to_fix.sort(key=lambda r: not r["unplaced"])  # unplaced first
    rep.to_walk = _to_walk(order, catalog, status)
    rep.covered = len(covered)
    rep.coverage = len(covered) / len(catalog) if catalog else 0.0

    rep.sync_items = [
        {"code": c, "call_number": catalog[c].call_number, "outcome": found[c].sync or "pending"}
        for c in rep.found
    ]
    rank = {outcome: i for i, outcome in enumerate(_SYNC_ORDER)}
    rep.sync_items.sort(key=lambda r: rank.get(r["outcome"], len(rank)))
    for r in rep.sync_items:
        rep.sync.setdefault(r["outcome"], []).append(r["code"])

    rep.by_location = _tally(catalog, status, covered, lambda it: it.location or "-")
    rep.by_class = _tally(catalog, status, covered, lambda it: ddc_group(it.call_number))
    return rep


def _to_walk(
    order: list[str], catalog: Mapping[str, Item], status: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Stretches of shelf not covered yet, per location in shelf order.

    Books on loan or excluded do not break a stretch (nobody walks past them);
    a covered book does.
    """
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for code in order:
        item = catalog[code]
        if current is not None and current["location"] != item.location:
            current = None
        if status[code] == "not_covered":
            if current is None:
                current = {
                    "location": item.location,
                    "first_code": code,
                    "first_call": item.call_number,
                    "items": 0,
                }
                out.append(current)
            current["last_code"] = code
            current["last_call"] = item.call_number
            current["items"] += 1
        elif status[code] in ("found", "missing"):
            current = None
    return out


def _misshelf_row(s: Scan, catalog: Mapping[str, Item]) -> dict[str, Any]:
    """Where the book belongs, with the neighbours' call numbers the cart showed."""
    row: dict[str, Any] = {
        "code": s.code,
        "call_number": _item(catalog, s.code).call_number,
        "location": s.location,
    }
    b = s.detail.belongs or Neighbours()
    for key, code, call in (
        ("belongs_after", b.after, b.after_call),
        ("belongs_before", b.before, b.before_call),
    ):
        row[key] = code
        neighbour = catalog.get(code or "")
        row[f"{key}_call"] = call if call is not None or not neighbour else neighbour.call_number
    if b.found_after:
        row["found_after"] = b.found_after
    return row


def _scanned_ranges(
    scans: list[Scan], catalog: Mapping[str, Item]
) -> list[tuple[Any, Any, dict[str, Any]]]:
    """Per location and shelf run, the call-number span walked: (low key, high key, row).

    Only items that stood in order (``ok``) and whose call number can be placed
    stretch a span: a misshelved book or an unreadable call number must not
    make a whole section "missing".
    """
    spans: dict[tuple[str, int], list[tuple[Any, str]]] = {}
    for s in scans:
        item = catalog.get(s.code)
        if s.verdict is not Verdict.OK or item is None:
            continue
        cn = parse(item.call_number)
        if cn.orderable:
            spans.setdefault((item.location, s.run), []).append((cn.key, s.code))
    out = []
    for (loc, run), keys in spans.items():
        (lo, first), (hi, last) = min(keys), max(keys)
        row = {
            "location": loc,
            "run": run,
            "first_code": first,
            "first_call": catalog[first].call_number,
            "last_code": last,
            "last_call": catalog[last].call_number,
            "books": len(keys),
        }
        out.append((lo, hi, row))
    out.sort(key=lambda t: (t[2]["location"], t[0], t[2]["run"]))
    return out


def _tally(
    catalog: Mapping[str, Item],
    status: Mapping[str, str],
    covered: set[str],
    group: Callable[[Item], str],
) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for code, item in catalog.items():
        row = out.setdefault(group(item), dict.fromkeys(("catalog", "covered", *CATEGORIES), 0))
        row["catalog"] += 1
        row["covered"] += code in covered
        row[status[code]] += 1
    return dict(sorted(out.items(), key=lambda kv: _group_order(kv[0])))


def _group_order(name: str) -> tuple[int, str]:
    return (1 if name in ("fiction", "other", "-") else 0, name)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def _item(catalog: Mapping[str, Item], code: str) -> Item:
    """The catalogue item, or a blank one for a code the catalogue does not hold."""
    return catalog.get(code) or Item(code)


# -- rendering -------------------------------------------------------------------------
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Stock-take report",
        "generated": "Generated {when} · {scans} scans",
        "catalog": "Items in catalogue",
        "coverage": "Shelf coverage",
        "coverage_note": "{covered} of {catalog} catalogue items found or inside a walked span",
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
        "sync_items": "SLiMS verdict per item",
        "by_location": "By location",
        "by_class": "By DDC class",
        "ranges": "Shelf spans walked",
        "fix": "Call numbers to fix in SLiMS",
        "code": "Item code",
        "call": "Call number",
        "item_title": "Title",
        "location": "Location",
        "run": "Run",
        "from": "From",
        "to": "To",
        "books": "Books in order",
        "belongs": "Belongs between",
        "found_after": "found after {x}",
        "belongs_in": "Belongs in",
        "found_in": "Found in",
        "times": "Times",
        "count": "Count",
        "outcome": "SLiMS outcome",
        "problems": "Problem",
        "status": "Status",
        "unplaced": "cannot be placed on a shelf",
        "none": "None.",
        "start": "start of shelf",
        "end": "end of shelf",
        "fiction": "Fiction",
        "other": "Other / unclassified",
        "missing_note": "Not scanned, not on loan, and inside a span walked at its location.",
        "not_covered_note": "Outside every span walked: not checked yet, so not missing.",
        "on_loan_note": "On loan in SLiMS and not on the shelf (loans are closed during the "
        "stock take).",
        "fix_note": "Fix these in SLiMS (Bibliography → item), then pull the catalogue again.",
        "sync_note": "Only items SLiMS accepted count as found there; others need a look.",
        "confirmed": "Confirmed in SLiMS",
        "s.accepted": "accepted",
        "s.uploaded": "uploaded (count verified)",
        "s.exported": "in the upload file (not confirmed by SLiMS)",
        "s.already_scanned": "already scanned in SLiMS",
        "s.not_in_stocktake": "not in this SLiMS stock take",
        "s.on_loan": "on loan in SLiMS: not counted",
        "s.skipped_rule": "skipped by an item-status rule",
        "s.pending": "not yet synced",
    },
    "id": {
        "title": "Laporan stock opname",
        "generated": "Dibuat {when} · {scans} pindaian",
        "catalog": "Eksemplar di katalog",
        "coverage": "Cakupan rak",
        "coverage_note": "{covered} dari {catalog} eksemplar ditemukan atau berada dalam "
        "rentang rak yang disusuri",
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
        "sync_items": "Putusan SLiMS per eksemplar",
        "by_location": "Per lokasi",
        "by_class": "Per kelas DDC",
        "ranges": "Rentang rak yang disusuri",
        "fix": "Nomor panggil yang perlu diperbaiki di SLiMS",
        "code": "Kode eksemplar",
        "call": "Nomor panggil",
        "item_title": "Judul",
        "location": "Lokasi",
        "run": "Deret",
        "from": "Dari",
        "to": "Sampai",
        "books": "Buku berurutan",
        "belongs": "Seharusnya di antara",
        "found_after": "ditemukan setelah {x}",
        "belongs_in": "Seharusnya di",
        "found_in": "Ditemukan di",
        "times": "Kali",
        "count": "Jumlah",
        "outcome": "Hasil SLiMS",
        "problems": "Masalah",
        "status": "Status",
        "unplaced": "tidak dapat ditempatkan di rak",
        "none": "Tidak ada.",
        "start": "awal rak",
        "end": "akhir rak",
        "fiction": "Fiksi",
        "other": "Lainnya / tanpa kelas",
        "missing_note": "Tidak dipindai, tidak dipinjam, dan berada dalam rentang rak yang "
        "disusuri di lokasinya.",
        "not_covered_note": "Di luar semua rentang yang disusuri: belum diperiksa, jadi belum "
        "dianggap hilang.",
        "on_loan_note": "Dipinjam menurut SLiMS dan tidak ada di rak (sirkulasi ditutup selama "
        "stock opname).",
        "fix_note": "Perbaiki di SLiMS (Bibliografi → eksemplar), lalu tarik katalog lagi.",
        "sync_note": "Hanya eksemplar yang diterima SLiMS dihitung ada di sana; sisanya perlu "
        "diperiksa.",
        "confirmed": "Sudah dikonfirmasi SLiMS",
        "s.accepted": "diterima",
        "s.uploaded": "terunggah (jumlah cocok)",
        "s.exported": "di berkas unggah (belum dikonfirmasi SLiMS)",
        "s.already_scanned": "sudah dipindai di SLiMS",
        "s.not_in_stocktake": "tidak ada di stock opname SLiMS",
        "s.on_loan": "dipinjam di SLiMS: tidak dihitung",
        "s.skipped_rule": "dilewati aturan status eksemplar",
        "s.pending": "belum disinkronkan",
    },
}

#: DDC hundreds as SLiMS's classification reports name them (English, Indonesian).
DDC_NAMES: dict[str, tuple[str, str]] = {
    "000": ("Generalities, computing", "Karya umum, komputer"),
    "100": ("Philosophy, psychology", "Filsafat, psikologi"),
    "200": ("Religion", "Agama"),
    "300": ("Social sciences", "Ilmu sosial"),
    "400": ("Language", "Bahasa"),
    "500": ("Natural sciences, mathematics", "Ilmu murni, matematika"),
    "600": ("Technology, applied sciences", "Teknologi, ilmu terapan"),
    "700": ("Arts, recreation", "Kesenian, olahraga"),
    "800": ("Literature", "Kesusastraan"),
    "900": ("History, geography", "Sejarah, geografi"),
}


def render(rep: Report, catalog: Mapping[str, Item], fmt: str, language: str = "en") -> str:
    """The report as ``html``, ``csv``, ``json`` or ``text``, in ``en`` or ``id``."""
    if fmt == "json":
        return json.dumps(rep.to_dict(), ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        return _csv(rep, catalog)
    if fmt == "html":
        return _html(rep, catalog, language)
    return _text(rep, TEXT[language])


def _outcome(t: Mapping[str, str], outcome: str) -> str:
    return t.get("s." + outcome, outcome)


# -- CSV and text ------------------------------------------------------------------------
def _csv(rep: Report, catalog: Mapping[str, Item]) -> str:
    """One row per finding, ``list`` first, for a spreadsheet (codes never reformatted)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["list", "item_code", "call_number", "location", "title", "note"])

    def row(name: str, code: str, note: str = "") -> None:
        it = _item(catalog, code)
        w.writerow([name, code, it.call_number, it.location, it.title, note])

    for m in rep.misshelved:
        after, before = m["belongs_after_call"] or "-", m["belongs_before_call"] or "-"
        row("misshelved", m["code"], f"between {after} and {before}")
    for d in rep.wrong_location_detail:
        row("wrong_location", d["code"], f"belongs in {d['belongs_in']}; found in {d['found_in']}")
    for u in rep.unknown_detail:
        w.writerow(["unknown", u["code"], "", u["found_in"], "", f"scanned {u['times']}x"])
    for code, n in rep.duplicate_counts.items():
        row("duplicates", code, f"scanned {n}x")
    for code in rep.invalid:
        row("invalid", code)
    for name in ("missing", "on_loan", "on_loan_on_shelf", "excluded", "not_covered", "found"):
        for code in getattr(rep, name):
            row(name, code)
    for f in rep.call_numbers_to_fix:
        row("call_number_to_fix", f["code"], "; ".join(f["problems"]))
    for s in rep.sync_items:
        row("sync", s["code"], s["outcome"])
    for loc, n in rep.no_label.items():
        w.writerow(["no_label", "", "", loc, "", str(n)])
    return buf.getvalue()


def _text(rep: Report, t: Mapping[str, str]) -> str:
    lines = [
        f"{t['title']} {rep.stocktake}".strip(),
        f"{t['catalog']}: {rep.catalog_size}",
        f"{t['coverage']}: {rep.coverage:.1%}",
    ]
    for name in (
        "found",
        "missing",
        "on_loan",
        "not_covered",
        "misshelved",
        "wrong_location",
        "on_loan_on_shelf",
        "unknown",
        "duplicates",
        "invalid",
        "excluded",
    ):
        lines.append(f"{t[name]}: {len(getattr(rep, name))}")
    lines.append(f"{t['no_label']}: {sum(rep.no_label.values())}")
    lines.append(f"{t['fix']}: {len(rep.call_numbers_to_fix)}")
    outcomes = ", ".join(f"{_outcome(t, k)} {len(v)}" for k, v in rep.sync.items())
    lines.append(f"{t['sync']}: {outcomes}")
    return "\n".join(lines) + "\n"


# -- HTML --------------------------------------------------------------------------------
_CSS = """
@page{size:A4;margin:12mm}
*{box-sizing:border-box}
body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:1.5em auto;max-width:1100px;
color:#222;font-size:14px;line-height:1.35;padding:0 1em}
h1{margin:0 0 .1em;font-size:1.7em}h2{margin:1.6em 0 .4em;font-size:1.2em;
border-bottom:2px solid #ddd;padding-bottom:.15em;break-after:avoid}
p.meta{color:#555;margin:0 0 1em}p.note{color:#555;margin:.2em 0 .5em;font-size:.92em}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(105px,1fr));gap:.5em;
margin:.5em 0 1em}
.kpi{border:1px solid #ddd;border-left:5px solid #888;padding:.35em .6em;border-radius:3px;
break-inside:avoid}
.kpi b{display:block;font-size:1.55em;line-height:1.1}.kpi span{font-size:.85em;color:#444}
table{border-collapse:collapse;margin:.3em 0 1em;width:100%}
td,th{border:1px solid #d4d4d4;padding:2px 7px;text-align:left;vertical-align:top;
font-size:.9em}
th{background:#f0f0f0}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafafa}
thead{display:table-header-group}tr{break-inside:avoid}
ol.cols li code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;
white-space:nowrap}
.muted{color:#777}.bad{color:#b71c1c;font-weight:600}
.legend{font-size:.85em;margin:.2em 0}.legend i{display:inline-block;width:.9em;height:.9em;
margin:0 .3em 0 1em;vertical-align:-.1em}.legend i:first-child{margin-left:0}
svg.chart{width:100%;height:auto;max-width:1000px;break-inside:avoid}
svg.chart text{font-family:system-ui,'DejaVu Sans',sans-serif}
ol.cols{columns:3 16em;column-gap:2em;padding-left:2.6em;margin:.3em 0 1em;font-size:.85em}
ol.cols li{break-inside:avoid}
.chartbox{break-inside:avoid}
@media print{body{margin:0;max-width:none;font-size:10pt;padding:0}
h2{break-after:avoid;page-break-after:avoid}
.kpi{border-left-width:4px}
section.long{break-before:page}}
"""

_COLORS = {
    "found": "#2e7d32",
    "missing": "#c62828",
    "on_loan": "#f9a825",
    "excluded": "#7e57c2",
    "not_covered": "#cfcfcf",
}
_KPI_COLORS = _COLORS | {
    "misshelved": "#ef6c00",
    "wrong_location": "#ef6c00",
    "unknown": "#6d4c41",
    "coverage": "#1565c0",
    "catalog": "#555",
}


def _html(rep: Report, catalog: Mapping[str, Item], lang: str) -> str:
    e = html.escape
    t = TEXT[lang]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rep.generated))
    title = f"{t['title']} {rep.stocktake}".strip()
    coverage_note = t["coverage_note"].format(
        covered=f"{rep.covered:,}", catalog=f"{rep.catalog_size:,}"
    )
    ddc = {k: v[0 if lang == "en" else 1] for k, v in DDC_NAMES.items()}

    def class_label(name: str) -> str:
        return f"{name} {ddc[name]}" if name in ddc else t.get(name, name)

    misshelved = []
    for m in rep.misshelved:
        between = (
            f"{_cc(m['belongs_after_call'], m['belongs_after'], t['start'])} … "
            f"{_cc(m['belongs_before_call'], m['belongs_before'], t['end'])}"
        )
        if m.get("found_after"):
            where = _cc(_item(catalog, m["found_after"]).call_number, m["found_after"])
            between += f"<br><span class='muted'>{e(t['found_after']).format(x=where)}</span>"
        title_of = _item(catalog, m["code"]).title
        misshelved.append(
            [_code(m["code"]), e(m["call_number"]), e(title_of), e(m["location"]), between]
        )

    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
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
                    e(r["location"]),
                    r["run"],
                    _cc(r["first_call"], r["first_code"]),
                    _cc(r["last_call"], r["last_code"]),
                    r["books"],
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
                    _code(d["code"]),
                    e(d["call_number"]),
                    e(_item(catalog, d["code"]).title),
                    f"<b>{e(d['belongs_in'] or '-')}</b>",
                    e(d["found_in"] or "-"),
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
            [[_code(u["code"]), e(u["found_in"] or "-"), u["times"]] for u in rep.unknown_detail],
            numeric=(2,),
        ),
        _section(t, "duplicates", len(rep.duplicates)),
        _table(
            t,
            ("code", "call", "item_title", "times"),
            [
                [_code(c), e(_item(catalog, c).call_number), e(_item(catalog, c).title), n]
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
                    _code(f["code"]),
                    e(f["call_number"]) or "<span class='muted'>∅</span>",
                    e(f["location"]),
                    e(f["title"]),
                    ("<span class='bad'>" + e(t["unplaced"]) + "</span>; " if f["unplaced"] else "")
                    + e("; ".join(f["problems"])),
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
                    e(w["location"]),
                    _cc(w["first_call"], w["first_code"]),
                    _cc(w["last_call"], w["last_code"]),
                    w["items"],
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
        f'<div class="kpi" style="border-left-color:{_KPI_COLORS[k]}"><b>{v}</b>'
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
        it = _item(catalog, c)
        cells = [it.call_number, it.location, it.title] + ([it.status] if status else [])
        rows.append([_code(c), *map(html.escape, cells)])
    return _table(t, head, rows)


def _col_list(codes: list[str], catalog: Mapping[str, Item], t: Mapping[str, str]) -> str:
    """Long lists (found, not covered) in newspaper columns: code and call number."""
    if not codes:
        return f"<p>{html.escape(t['none'])}</p>"
    items = "".join(
        f"<li>{_code(c)} {html.escape(_item(catalog, c).call_number)}</li>" for c in codes
    )
    return f"<ol class='cols'>{items}</ol>"


def _sync_section(rep: Report, catalog: Mapping[str, Item], t: Mapping[str, str]) -> str:
    e = html.escape
    out = [
        _section(t, "sync", len(rep.sync_items)),
        _table(
            t,
            ("outcome", "count"),
            [[e(_outcome(t, k)), len(v)] for k, v in rep.sync.items()],
            numeric=(1,),
        ),
    ]
    attention = [s for s in rep.sync_items if s["outcome"] not in CONFIRMED]
    if attention:
        out.append(_section(t, "sync_items", len(attention)))
        rows = []
        for s in attention:
            label = e(_outcome(t, s["outcome"]))
            if s["outcome"] not in ("pending", "exported"):  # the rest need a look in SLiMS
                label = f"<span class='bad'>{label}</span>"
            rows.append([_code(s["code"]), e(s["call_number"]), label])
        out.append(_table(t, ("code", "call", "outcome"), rows))
    for outcome in CONFIRMED:
        if codes := rep.sync.get(outcome):
            label = f"{t['confirmed']}: {_outcome(t, outcome)}"
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
    groups: Mapping[str, Mapping[str, int]],
    t: Mapping[str, str],
    key: str,
    first_column: str,
    label: Callable[[str], str],
) -> str:
    """A chart and a table of the per-group tallies (by location or DDC class)."""
    e = html.escape
    legend = "".join(f'<i style="background:{_COLORS[k]}"></i>{e(t[k])}' for k in CATEGORIES)
    head = (first_column, "catalog", *CATEGORIES, "coverage")
    rows: list[list[Any]] = []
    for g, row in groups.items():
        share = row["covered"] / row["catalog"] if row["catalog"] else 0.0
        rows.append([e(label(g)), row["catalog"], *(row[k] for k in CATEGORIES), f"{share:.1%}"])
    return (
        f"<div class='chartbox'><h2>{e(t[key])}</h2>"
        f"<p class='legend'>{legend}</p>{_chart(groups, label, t)}</div>\n"
        + _table(t, head, rows, numeric=tuple(range(1, len(head))))
    )


def _chart(
    groups: Mapping[str, Mapping[str, int]], label: Callable[[str], str], t: Mapping[str, str]
) -> str:
    """A stacked horizontal bar per group, as inline SVG (no scripts, prints well)."""
    width, bar, gap, left, right = 1000, 20, 7, 260, 130
    most = max((g["catalog"] for g in groups.values()), default=1)
    height = (bar + gap) * len(groups) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (name, g) in enumerate(groups.items()):
        y = gap + i * (bar + gap)
        text = html.escape(label(name))
        parts.append(
            f'<text x="{left - 8}" y="{y + bar - 6}" font-size="14" text-anchor="end">{text}</text>'
        )
        x = float(left)
        for k in CATEGORIES:
            w = (width - left - right) * g[k] / most
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                    f'fill="{_COLORS[k]}"><title>{html.escape(t[k])}: {g[k]}</title></rect>'
                )
            x += w
        share = g["covered"] / g["catalog"] if g["catalog"] else 0.0
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + bar - 6}" font-size="13">'
            f"{g['found']:,}/{g['catalog']:,} · {share:.0%}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
