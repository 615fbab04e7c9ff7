"""The report: missing only where the shelf was walked, nothing counted twice."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from html.parser import HTMLParser

import pytest

from kiosk import report
from kiosk.models import Item, Scan, ScanDetail, SyncOutcome, Verdict
from kiosk.report.rows import GapRow, MisshelvedRow, SpanRow, UnknownRow, WrongLocationRow
from tests.helpers import shelf_items

_seq = itertools.count(1)


def scan(
    code: str,
    verdict: Verdict = Verdict.OK,
    run: int = 1,
    *,
    location: str = "Rak Umum",
    sync: str | None = None,
    **detail: object,
) -> Scan:
    outcome = None if sync is None else SyncOutcome(sync)
    stored = ScanDetail.from_dict(detail)  # as the store reads it back
    return Scan(next(_seq), code, verdict, "t", 0.0, location, run, stored, sync=outcome)


def catalog(*extra: Item) -> dict[str, Item]:
    return {it.code: it for it in [*shelf_items(), *extra]}


class _Tags(HTMLParser):
    """Collects start tags and checks they are closed in order (well-formed enough)."""

    VOID = frozenset({"meta", "br", "rect", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def parse_html(text: str) -> _Tags:
    p = _Tags()
    p.feed(text)
    p.close()
    assert p.stack == []
    return p


def test_missing_only_inside_scanned_ranges() -> None:
    """Unscanned books between the first and last scanned are missing; beyond them, not covered."""
    scans = [scan("B0002"), scan("B0003"), scan("B0005"), scan("B0006")]
    rep = report.build(catalog(), scans, excluded_statuses=["Missing"])
    assert rep.found == ["B0002", "B0003", "B0005", "B0006"]
    assert rep.missing == ["B0004"]
    assert "B0001" in rep.not_covered and "B0012" in rep.not_covered
    assert "B0101" in rep.on_loan  # on loan in SLiMS, not on the shelf: never missing
    assert "B0102" not in rep.missing + rep.not_covered  # excluded status
    assert rep.ranges == [
        SpanRow(
            location="Rak Umum",
            run=1,
            first_code="B0002",
            first_call="005.133 KAD p",
            last_code="B0006",
            last_call="300 KOE p",
            books=4,
        )
    ]


def test_misshelved_book_does_not_stretch_the_range() -> None:
    """A stray book from the far end does not turn the whole shelf between into 'missing'."""
    scans = [
        scan("B0001"),
        scan("B0002"),
        scan("B0011", Verdict.MISSHELVED, belongs_after="B0010", belongs_before="B0012"),
        scan("B0003"),
    ]
    rep = report.build(catalog(), scans)
    assert rep.missing == []
    assert rep.misshelved == [
        MisshelvedRow(
            code="B0011",
            call_number="599.9 LEA a",
            location="Rak Umum",
            belongs_after="B0010",
            belongs_before="B0012",
            belongs_after_call="510 RUS m",
            belongs_before_call="899.221 3 HAM t",
            found_after=None,
        )
    ]
    assert "B0011" in rep.found


def test_misshelved_neighbours_show_call_numbers_from_the_scan() -> None:
    """'Belongs between' shows the call numbers the cart showed, even after a catalogue change."""
    s = scan(
        "B0011",
        Verdict.MISSHELVED,
        belongs_after="B0010",
        belongs_after_call="510 RUS m (old)",
        belongs_before=None,
        belongs_before_call=None,
        found_after="B0002",
    )
    rep = report.build(catalog(), [scan("B0001"), s])
    row = rep.misshelved[0]
    assert row.belongs_after_call == "510 RUS m (old)" and row.belongs_before_call is None
    html = report.render(rep, catalog(), "html")
    assert "510 RUS m (old)" in html and "found after 005.133 KAD p" in html


def test_voided_scans_do_not_count() -> None:
    """A scan taken back with undo is neither found nor a duplicate."""
    s = scan("B0001")._replace(voided=True)
    rep = report.build(catalog(), [s, scan("B0002")])
    assert rep.found == ["B0002"]
    assert rep.duplicates == []


def test_unknown_duplicates_and_tallies() -> None:
    """Unknown codes, double scans and the no-label tally each land in their own list."""
    scans = [
        scan("B0001"),
        scan("B0001", Verdict.DUPLICATE),
        scan("B0001", Verdict.DUPLICATE),
        scan("X123", Verdict.UNKNOWN),
        scan("X123", Verdict.UNKNOWN, location="Fiksi"),
        scan("KIOSK:nolabel", Verdict.COMMAND, command="nolabel"),
        scan("KIOSK:nolabel", Verdict.COMMAND, command="nolabel"),
        scan("KIOSK:nolabel", Verdict.COMMAND, location="Fiksi", command="nolabel"),
    ]
    rep = report.build(catalog(), scans)
    assert rep.unknown == ["X123"]
    assert rep.unknown_detail == [UnknownRow(code="X123", found_in="Rak Umum", times=2)]
    assert rep.duplicates == ["B0001"]
    assert rep.duplicate_counts == {"B0001": 3}
    assert rep.no_label == {"Rak Umum": 2, "Fiksi": 1}
    assert rep.found == ["B0001"]


def test_wrong_location_says_where_it_belongs_and_where_it_stood() -> None:
    """A book found in the wrong location is found, and the report names both locations."""
    rep = report.build(catalog(), [scan("B0100", Verdict.WRONG_LOCATION)])
    assert rep.wrong_location == ["B0100"]
    assert rep.wrong_location_detail == [
        WrongLocationRow(
            code="B0100", call_number="F HIR l", belongs_in="Fiksi", found_in="Rak Umum"
        )
    ]
    assert rep.found == ["B0100"]
    html = report.render(rep, catalog(), "html")
    assert (
        '<td data-label="Belongs in"><b>Fiksi</b></td><td data-label="Found in">Rak Umum</td>'
        in html
    )


def test_unreadable_call_number_is_never_missing_and_is_listed_to_fix() -> None:
    """An unreadable call number neither stretches a span nor goes missing; it is listed to fix."""
    odd = Item("B0200", "???", "Unreadable", "Rak Umum")
    blank = Item("B0201", "", "No call number", "Rak Umum")
    cat = catalog(odd, blank)
    rep = report.build(cat, [scan("B0001"), scan("B0003"), scan("B0200")])
    assert rep.missing == ["B0002"]  # only inside 001.4 … 020, not up to the end of the shelf
    assert "B0201" in rep.not_covered and "B0012" in rep.not_covered
    fixes = {f.code: f for f in rep.call_numbers_to_fix}
    assert fixes.keys() == {"B0200", "B0201"}
    assert fixes["B0201"].unplaced and fixes["B0201"].problems == ("empty call number",)
    html = report.render(rep, cat, "html", "id")
    assert "Nomor panggil yang perlu dibetulkan di SLiMS (2)" in html


def test_coverage_overall_and_per_location() -> None:
    """Coverage counts items found or inside a walked span, overall and per location."""
    cat = catalog()
    scans = [scan("B0001"), scan("B0004"), scan("B0100", Verdict.WRONG_LOCATION)]
    rep = report.build(cat, scans, excluded_statuses=["Missing"])
    # Rak Umum span 001.4 … 100: B0001-B0004 (4 items); plus B0100 found elsewhere.
    assert rep.covered == 5
    assert rep.coverage == pytest.approx(5 / len(cat))
    assert rep.by_location["Rak Umum"].covered == 4
    assert rep.by_location["Fiksi"].to_dict() == {
        "catalog": 1,
        "covered": 1,
        "found": 1,
        "missing": 0,
        "on_loan": 0,
        "excluded": 0,
        "not_covered": 0,
    }
    assert sum(row.catalog for row in rep.by_class.values()) == len(cat)
    assert rep.to_walk == [
        GapRow(
            location="Rak Umum",
            first_code="B0005",
            first_call="297.3 SUB m",
            last_code="B0012",
            last_call="899.221 3 HAM t",
            items=8,  # B0005-B0012; on-loan B0101 and excluded B0102 are not to walk
        )
    ]


def test_sync_verdict_per_item_problems_first() -> None:
    """Each found item shows SLiMS's outcome; refusals and unsynced ones come before accepted."""
    scans = [
        scan("B0001", sync="accepted"),
        scan("B0002", sync="not_in_stocktake"),
        scan("B0003"),
        scan("B0004", sync="uploaded"),
        scan("B0101", Verdict.ON_LOAN, sync="on_loan"),
    ]
    rep = report.build(catalog(), scans)
    assert [(s.code, s.outcome) for s in rep.sync_items] == [
        ("B0002", "not_in_stocktake"),
        ("B0101", "on_loan"),
        ("B0003", "pending"),
        ("B0001", "accepted"),
        ("B0004", "uploaded"),
    ]
    assert rep.sync["pending"] == ["B0003"]
    html = report.render(rep, catalog(), "html")
    assert "not in this SLiMS stock take" in html and "not yet synced" in html
    assert "belum dikirim" in report.render(rep, catalog(), "html", "id")
    refused = html.split("Not accepted by SLiMS: look the item up in SLiMS (2)")[1]
    assert refused.index("B0002") < refused.index("B0101") < refused.index("</table>")


def test_items_only_in_the_upload_file_are_not_confirmed_by_slims() -> None:
    """An item written to the upload file is listed as still to check, not as confirmed."""
    scans = [scan("B0001", sync="exported"), scan("B0002", sync="accepted")]
    rep = report.build(catalog(), scans)
    assert [(s.code, s.outcome) for s in rep.sync_items] == [
        ("B0001", "exported"),
        ("B0002", "accepted"),
    ]
    html = report.render(rep, catalog(), "html", sections=report.SECTIONS)
    assert "in the upload file, not yet in SLiMS" in html
    assert "Confirmed in SLiMS: accepted (1)" in html
    assert "Confirmed in SLiMS: in the upload file" not in html


def test_html_is_self_contained_escaped_and_has_both_charts() -> None:
    """The HTML needs no other file, escapes catalogue text, and charts by location and class."""
    evil = Item("B0300", '100 <b>X</b> "q"', "<script>alert(1)</script> & co", "Rak Umum")
    cat = catalog(evil)
    rep = report.build(cat, [scan("B0001"), scan("B0300", Verdict.MISSHELVED), scan("B0004")])
    text = report.render(rep, cat, "html")
    tags = parse_html(text).tags
    names = [t for t, _ in tags]
    assert "script" not in names and "img" not in names and "link" not in names
    assert not any("src" in a or "href" in a for _, a in tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert text.count('<div class="chart" role="img">') == 2
    assert "By location" in text and "By DDC class" in text and "000 Generalities" in text
    assert "@page" in text and "@media print" in text


@pytest.mark.parametrize("lang", ["en", "id"])
def test_every_section_has_a_heading_in_each_language(lang: str) -> None:
    """Every list the procedure asks for has its own heading, translated."""
    cat = catalog()
    rep = report.build(cat, [scan("B0001"), scan("B0003")])
    text = report.render(rep, cat, "html", lang, sections=report.SECTIONS)
    heads = re.findall(r"<h[23]>(.*?)</h[23]>", text)
    t = report.TEXT[lang]
    for key in (
        "todo",
        "todo.missing",
        "summary",
        "by_location",
        "by_class",
        "ranges",
        "lists",
        "on_loan",
        "duplicates",
        "invalid",
        "excluded",
        "no_label",
        "fix",
        "sync",
        "not_covered",
        "found",
    ):
        assert any(h.startswith(t[key]) for h in heads), key
    assert f'lang="{lang}"' in text


def test_json_csv_and_text() -> None:
    """JSON has the documented keys, CSV rows carry notes a spreadsheet can filter, text sums up."""
    cat = catalog()
    scans = [
        scan("B0001"),
        scan("B0011", Verdict.MISSHELVED, belongs_after="B0010", belongs_before="B0012"),
        scan("B0003"),
        scan("B0100", Verdict.WRONG_LOCATION),
    ]
    rep = report.build(cat, scans)
    data = json.loads(report.render(rep, cat, "json"))
    for key in (
        "found",
        "missing",
        "on_loan",
        "misshelved",
        "wrong_location",
        "unknown",
        "duplicates",
        "not_covered",
    ):
        assert isinstance(data[key], list), key
    assert data["found"] == ["B0100", "B0001", "B0003", "B0011"]  # by location, then shelf order
    assert {"code", "belongs_after", "belongs_before"} <= data["misshelved"][0].keys()

    rows = list(csv.DictReader(io.StringIO(report.render(rep, cat, "csv"))))
    by_list = {(r["list"], r["item_code"]): r for r in rows}
    assert by_list[("misshelved", "B0011")]["note"] == "between 510 RUS m and 899.221 3 HAM t"
    assert by_list[("wrong_location", "B0100")]["note"] == "belongs in Fiksi; found in Rak Umum"
    assert by_list[("missing", "B0002")]["call_number"] == "005.133 KAD p"
    assert by_list[("sync", "B0001")]["note"] == "pending"

    text = report.render(rep, cat, "text", "id")
    assert "Tidak ditemukan: 1" in text and "Salah lokasi: 1" in text


def test_json_keeps_its_keys_and_their_order() -> None:
    """The JSON report is read by scripts: top-level keys and row keys stay as documented."""
    odd = Item("B0200", "???", "Unreadable", "Rak Umum")
    cat = catalog(odd)
    scans = [
        scan("B0001", sync="accepted"),
        scan("B0011", Verdict.MISSHELVED, belongs_after="B0010", found_after="B0001"),
        scan("B0003"),
        scan("B0100", Verdict.WRONG_LOCATION),
        scan("X123", Verdict.UNKNOWN),
    ]
    data = json.loads(report.render(report.build(cat, scans), cat, "json"))
    assert list(data) == [
        "stocktake",
        "generated",
        "catalog_size",
        "scans",
        "found",
        "missing",
        "on_loan",
        "on_loan_on_shelf",
        "misshelved",
        "wrong_location",
        "wrong_location_detail",
        "unknown",
        "unknown_detail",
        "duplicates",
        "duplicate_counts",
        "invalid",
        "excluded",
        "not_covered",
        "to_walk",
        "no_label",
        "coverage",
        "covered",
        "ranges",
        "sync",
        "sync_items",
        "call_numbers_to_fix",
        "by_location",
        "by_class",
        "on_loan_detail",
        "found_again",
        "found_by_others",
        "merged_from",
        "store_damage",
    ]
    assert list(data["misshelved"][0]) == [
        "code",
        "call_number",
        "location",
        "belongs_after",
        "belongs_after_call",
        "belongs_before",
        "belongs_before_call",
        "found_after",
    ]
    assert list(data["wrong_location_detail"][0]) == [
        "code",
        "call_number",
        "belongs_in",
        "found_in",
    ]
    assert list(data["unknown_detail"][0]) == ["code", "found_in", "times"]
    assert list(data["ranges"][0]) == [
        "location",
        "run",
        "first_code",
        "first_call",
        "last_code",
        "last_call",
        "books",
    ]
    assert list(data["to_walk"][0]) == [
        "location",
        "first_code",
        "first_call",
        "items",
        "last_code",
        "last_call",
    ]
    assert data["call_numbers_to_fix"][0] == {
        "code": "B0200",
        "call_number": "???",
        "location": "Rak Umum",
        "title": "Unreadable",
        "problems": ["no letters or digits in call number '???'"],
        "unplaced": True,
    }
    assert data["sync"] == {"pending": ["B0100", "B0003", "B0011"], "accepted": ["B0001"]}
    assert data["sync_items"][-1] == {
        "code": "B0001",
        "call_number": "001.4 ARI p",
        "outcome": "accepted",
    }
    assert list(data["by_location"]["Fiksi"]) == [
        "catalog",
        "covered",
        "found",
        "missing",
        "on_loan",
        "excluded",
        "not_covered",
    ]
