"""The report: missing only where the shelf was walked, nothing counted twice."""

from __future__ import annotations

import itertools
import json
from html.parser import HTMLParser

from kiosk import report
from kiosk.models import Item, Scan, Verdict
from tests.conftest import shelf_items

_seq = itertools.count(1)


def scan(code: str, verdict: Verdict = Verdict.OK, run: int = 1, **detail: object) -> Scan:
    return Scan(next(_seq), code, verdict, "t", 0.0, "Rak Umum", run, dict(detail))


def catalog() -> dict[str, Item]:
    return {it.code: it for it in shelf_items()}


def test_missing_only_inside_scanned_ranges() -> None:
    """Unscanned books between the first and last scanned book are missing; beyond them, not covered."""
    scans = [scan("B0002"), scan("B0003"), scan("B0005"), scan("B0006")]
    rep = report.build(catalog(), scans, excluded_statuses=["Missing"])
    assert rep.found == ["B0002", "B0003", "B0005", "B0006"]
    assert rep.missing == ["B0004"]
    assert "B0001" in rep.not_covered and "B0012" in rep.not_covered
    assert "B0101" in rep.on_loan  # on loan in SLiMS, not on the shelf: never missing
    assert "B0102" not in rep.missing + rep.not_covered  # excluded status


def test_misshelved_book_does_not_stretch_the_range() -> None:
    """A stray book from the far end does not turn the whole shelf between into 'missing'."""
    scans = [scan("B0001"), scan("B0002"), scan("B0011", Verdict.MISSHELVED, belongs_after="B0010"), scan("B0003")]
    rep = report.build(catalog(), scans)
    assert rep.missing == []
    assert rep.misshelved == [
        {"code": "B0011", "belongs_after": "B0010", "belongs_before": None, "location": "Rak Umum"}
    ]
    assert "B0011" in rep.found


def test_voided_scans_do_not_count() -> None:
    """A scan taken back with undo is neither found nor a duplicate."""
    s = scan("B0001")
    s.voided = True
    rep = report.build(catalog(), [s, scan("B0002")])
    assert rep.found == ["B0002"]
    assert rep.duplicates == []


def test_unknown_duplicates_and_tallies() -> None:
    """Unknown codes, double scans and the no-label tally each land in their own list."""
    scans = [
        scan("B0001"),
        scan("B0001", Verdict.DUPLICATE),
        scan("X123", Verdict.UNKNOWN),
        scan("KIOSK:nolabel", Verdict.COMMAND, command="nolabel"),
        scan("KIOSK:nolabel", Verdict.COMMAND, command="nolabel"),
    ]
    rep = report.build(catalog(), scans)
    assert rep.unknown == ["X123"]
    assert rep.duplicates == ["B0001"]
    assert rep.no_label == {"Rak Umum": 2}


def test_every_format_renders_in_both_languages() -> None:
    """JSON parses, HTML is well-formed enough to parse, CSV has a header; Indonesian is translated."""
    cat = catalog()
    rep = report.build(cat, [scan("B0001"), scan("B0003")])
    assert json.loads(report.render(rep, cat, "json"))["found"] == ["B0001", "B0003"]
    HTMLParser().feed(report.render(rep, cat, "html", "en"))
    assert "Hilang" in report.render(rep, cat, "html", "id")
    assert report.render(rep, cat, "csv").startswith("list,item_code")
