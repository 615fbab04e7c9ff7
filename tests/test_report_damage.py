"""A report written from a damaged store says so inside the document, in every format."""

from __future__ import annotations

import csv
import io
import json

import pytest

from kiosk import report
from kiosk.models import Item, Scan, Verdict
from kiosk.report import DamageRow
from kiosk.report.texts import LANGUAGES, TEXT

CATALOG = {"B1": Item("B1", call_number="100 A", location="Stacks")}
SCANS = [Scan(seq=1, code="B1", verdict=Verdict.OK, scanner="t", ts=1.0, location="Stacks")]
LOST = [
    DamageRow("scans.log: 2 damaged record(s) skipped", 2, "scans.log.corrupt-1"),
    DamageRow("scans.json: 1 damaged line(s) skipped", 1),
]


def _report(damage: list[DamageRow]) -> report.Report:
    return report.build(CATALOG, SCANS, stocktake="May", now=1.0e9, damage=damage)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_opens_with_a_damage_box_whatever_the_sections(lang: str) -> None:
    """The box comes before the figures and the to-do list, even when only one section is asked."""
    page = report.render(_report(LOST), CATALOG, "html", lang, ("todo",))
    box = page.index("class='damage'")
    assert box < page.index("class='todo'")
    assert TEXT[lang]["damage.title"].replace("'", "&#x27;") in page
    assert "scans.log.corrupt-1" in page and "kiosk store recover" in page
    assert TEXT[lang]["damage.body"].format(n="3") in page


@pytest.mark.parametrize("lang", LANGUAGES)
def test_text_report_opens_with_the_damage_and_the_count(lang: str) -> None:
    """The console report shows the loss above the to-do list, with the records lost in all."""
    text = report.render(_report(LOST), CATALOG, "text", lang, report.DEFAULT_SECTIONS)
    head = text[: text.index(TEXT[lang]["todo"])]
    assert TEXT[lang]["damage.title"] in head
    assert TEXT[lang]["damage.body"].format(n="3") in head
    assert "scans.json: 1 damaged line(s) skipped: 1" in head


def test_unknown_loss_size_is_said_not_guessed() -> None:
    """A loss whose size cannot be known is not shown as a number."""
    rep = _report([DamageRow("scans.log is missing", None)])
    text = report.render(rep, CATALOG, "text", "en", report.DEFAULT_SECTIONS)
    assert TEXT["en"]["damage.unknown"] in text and "scans.log is missing: ?" in text


def test_csv_has_a_damage_row_first() -> None:
    """A spreadsheet of the report starts with one store_damage row per damaged file."""
    rows = list(csv.reader(io.StringIO(report.render(_report(LOST), CATALOG, "csv"))))
    assert [r[0] for r in rows[1:3]] == ["store_damage", "store_damage"]
    assert "records lost: 2; kept in scans.log.corrupt-1" in rows[1][5]


def test_json_has_a_store_damage_key() -> None:
    """Scripts find the damage under one key, with the records lost per file."""
    data = json.loads(report.render(_report(LOST), CATALOG, "json"))
    assert data["store_damage"][0] == {
        "what": "scans.log: 2 damaged record(s) skipped",
        "lost": 2,
        "kept": "scans.log.corrupt-1",
    }


@pytest.mark.parametrize("fmt", report.FORMATS)
def test_an_intact_store_shows_no_damage(fmt: str) -> None:
    """Without damage no box, row or warning appears (an empty key in JSON)."""
    out = report.render(_report([]), CATALOG, fmt, "en", report.SECTIONS)
    assert "class='damage'" not in out and "store_damage," not in out
    assert TEXT["en"]["damage.fix"] not in out and "kiosk store recover" not in out
