"""The report puts the work first: a to-do list to tick, then the summary, long lists on request."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest

from kiosk import cli, report
from kiosk.models import Item, Scan, Verdict
from kiosk.store import Store
from tests.test_report import catalog, parse_html, scan

#: 30 November 2026, noon local time: the report's day in these tests.
NOW = dt.datetime(2026, 11, 30, 12, 0).timestamp()


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.delenv("KIOSK_STATE_DIR", raising=False)


def day_walk() -> list[Scan]:
    """A shelf walk with one of each thing to do: a gap, a stray, a visitor, a loan, a stranger."""
    return [
        scan("B0001"),
        scan("B0003"),  # B0002 not found
        scan("B0011", Verdict.MISSHELVED, belongs_after="B0010", belongs_before="B0012"),
        scan("B0004"),
        scan("B0100", Verdict.WRONG_LOCATION),
        scan("B0101", Verdict.ON_LOAN),
        scan("X999", Verdict.UNKNOWN),
        scan("X999", Verdict.UNKNOWN),
    ]


def todo_part(html: str) -> str:
    return html.split("<section class='todo'>")[1].split("</section>", maxsplit=1)[0]


def test_todo_list_comes_first_with_a_box_per_book() -> None:
    """Above the figures: each book to look at again, grouped by what to do, with a box to tick."""
    rep = report.build(catalog(), day_walk(), now=NOW)
    html = report.render(rep, catalog(), "html")
    assert html.index("<section class='todo'>") < html.index("<h2>Summary</h2>")
    todo = todo_part(html)
    groups = re.findall(r"<h3>(.*?) \((\d+)\)</h3>", todo)
    assert groups == [
        ("Not found on the shelf: look once more", "1"),
        ("Misshelved: put it back between its neighbours", "1"),
        ("Wrong location: take it to its own location", "1"),
        ("On loan in SLiMS but on the shelf: check it in at circulation", "1"),
        ("Unknown barcodes: find the book, then catalogue it or fix its label", "1"),
    ]
    assert todo.count('type="checkbox"') == rep.todo_size() == 5
    assert "510 RUS m" in todo.split("Misshelved")[1]  # where it belongs, by call number
    assert "<b>Fiksi</b>" in todo  # where the visitor belongs
    parse_html(html)


def test_nothing_to_do_says_so() -> None:
    """A clean walk gets a one-line all-clear instead of empty tables."""
    rep = report.build(catalog(), [scan("B0001"), scan("B0002")], now=NOW)
    assert "Tidak ada pekerjaan" in todo_part(report.render(rep, catalog(), "html", "id"))
    assert "[ ]" not in report.render(rep, catalog(), "text")


def test_found_again_has_its_place_in_the_todo_list() -> None:
    """Books SLiMS holds as lost but found on the shelf get their own to-do group."""
    rep = report.build(
        catalog(), [scan("B0001"), scan("B0102", Verdict.FOUND_AGAIN, status="Missing")], now=NOW
    )
    assert rep.found_again == ["B0102"]
    assert "B0102" in rep.found and "B0102" not in rep.missing  # found, and sent to SLiMS
    html = todo_part(report.render(rep, catalog(), "html", "id"))
    assert "Ditemukan kembali (tercatat hilang di SLiMS): ubah statusnya di SLiMS (1)" in html
    assert "B0102" in html
    text = report.render(rep, catalog(), "text")
    assert "[ ] B0102" in text.split("Found again")[1]


def test_text_report_lists_the_work_first() -> None:
    """On the console the to-do lines, with boxes and where each book goes, precede the counts."""
    rep = report.build(catalog(), day_walk(), now=NOW)
    text = report.render(rep, catalog(), "text", "id")
    lines = text.splitlines()
    assert lines[1] == "Dibuat 30 November 2026, 12.00 · 8 kali pindai"
    boxes = [line.split()[2] for line in lines if line.startswith("  [ ]")]
    assert boxes == ["B0002", "B0011", "B0100", "B0101", "X999"]
    assert text.index("[ ]") < text.index("Eksemplar di katalog: 15")
    assert "  [ ] B0100        F HIR l                → Fiksi" in lines


def test_identical_rows_are_one_line_with_a_count() -> None:
    """121 books in the upload file are one line "… 121", not 121 rows; refusals stay listed."""
    items = [Item(f"C{i:04d}", f"{100 + i} ABC d", f"Book {i}", "Rak Umum") for i in range(121)]
    cat = {it.code: it for it in items}
    scans = [scan(it.code, sync="exported") for it in items]
    rep = report.build(cat, scans, now=NOW)
    html = report.render(rep, cat, "html")
    sync = html.split("<h2>SLiMS sync results (121)</h2>")[1].split("</table>")[0]
    assert re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", sync) == [
        ("in the upload file, not yet in SLiMS", "121")
    ]
    assert "C0005" not in html  # no per-book rows unless the found list is asked for
    assert "C0005" in report.render(rep, cat, "html", sections=["found"])


def test_on_loan_rows_show_due_date_and_days_overdue() -> None:
    """Each on-loan book shows when it was due and how late it is, most overdue first."""
    cat = catalog(
        Item("L1", "300 LOA a", "Late a week", "Rak Umum", on_loan=True, due="2026-11-23"),
        Item("L2", "300 LOA b", "Due next month", "Rak Umum", on_loan=True, due="2026-12-05"),
        Item("L3", "300 LOA c", "Late a day", "Rak Umum", on_loan=True, due="2026-11-29"),
    )
    rep = report.build(cat, [scan("B0001")], now=NOW)
    rows = [(r.code, r.due, r.overdue_days) for r in rep.on_loan_detail]
    assert rows == [
        ("L1", "2026-11-23", 7),
        ("L3", "2026-11-29", 1),
        ("L2", "2026-12-05", 0),
        ("B0101", "", None),  # the pull gave no due date for this one
    ]
    html = report.render(rep, cat, "html", "id")
    loans = html.split("Sedang dipinjam (4)")[1]
    assert re.search(r"23 November 2026</span></td><td[^>]*><span class='bad nw'>7 hari<", loans)
    assert "5 Desember 2026" in loans and "tidak diketahui" in loans
    note = {r["item_code"]: r["note"] for r in csv.DictReader(io.StringIO(to_csv(rep, cat)))}
    assert note["L1"] == "due 2026-11-23; 7 days overdue" and note["L2"] == "due 2026-12-05"
    data = json.loads(report.render(rep, cat, "json"))
    assert data["on_loan_detail"][0] == {
        "code": "L1",
        "call_number": "300 LOA a",
        "due": "2026-11-23",
        "overdue_days": 7,
    }


def test_missing_due_dates_are_explained() -> None:
    """When the pull got no due date at all, the on-loan list says why instead of blank cells."""
    rep = report.build(catalog(), [scan("B0001")], now=NOW)
    html = report.render(rep, catalog(), "html")
    assert "Due dates are missing: the catalogue pull could not read SLiMS" in html


def to_csv(rep: report.Report, cat: dict[str, Item]) -> str:
    return report.render(rep, cat, "csv")


def test_indonesian_report_writes_numbers_and_dates_the_indonesian_way() -> None:
    """1.234 and 5,1% and 30 November 2026 in Indonesian; 1,234 and 5.1% in English."""
    items = [Item(f"C{i:04d}", f"{i / 10:.1f} ABC", "", "Rak Umum") for i in range(1234)]
    cat = {it.code: it for it in items}
    rep = report.build(cat, [scan("C0000"), scan("C0062")], now=NOW)
    assert f"{rep.coverage:.4f}" == "0.0511"
    id_html = report.render(rep, cat, "html", "id")
    assert "<b>1.234</b>" in id_html and "<b>5,1%</b>" in id_html
    assert "Dibuat 30 November 2026, 12.00" in id_html
    en_html = report.render(rep, cat, "html", "en")
    assert "<b>1,234</b>" in en_html and "<b>5.1%</b>" in en_html
    assert "Rak yang sudah diperiksa: 5,1%" in report.render(rep, cat, "text", "id")


def test_default_sections_leave_long_lists_out_and_say_so() -> None:
    """Found and not-scanned lists are left out by default, named at the end, and come back."""
    rep = report.build(catalog(), day_walk(), now=NOW)
    html = report.render(rep, catalog(), "html")
    assert "<ol class='cols'>" not in html
    assert "Left out of this report: Not scanned yet (8), Found (6)." in html
    full = report.render(rep, catalog(), "html", sections=report.SECTIONS)
    assert full.count("<ol class='cols'>") == 2 and "Left out" not in full
    only = report.render(rep, catalog(), "html", sections=["todo"])
    assert "<h2>Summary</h2>" not in only and "<section class='todo'>" in only


def test_tables_never_get_cut_on_a_phone() -> None:
    """Every table sits in a box that scrolls; lists of books stack into cards below 640 px."""
    rep = report.build(catalog(), day_walk(), now=NOW)
    html = report.render(rep, catalog(), "html", sections=report.SECTIONS)
    tables = re.findall(r"(<div class='scroll'>)?<table( class='(\w+)')?>", html)
    assert tables and all(box for box, *_ in tables)
    assert {layout for *_, layout in tables} <= {"stack", "wide", ""}
    assert "@media (max-width:640px)" in html and "table.stack td[data-label]::before" in html
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in html


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("report.html", lambda t: t.startswith("<!DOCTYPE html>")),
        ("report.csv", lambda t: t.startswith("list,item_code,call_number")),
        ("report.json", lambda t: json.loads(t)["catalog_size"] == 15),
        ("report.txt", lambda t: t.startswith("Stock-take report")),
        ("REPORT.HTM", lambda t: t.startswith("<!DOCTYPE html>")),
    ],
)
def test_out_file_ending_picks_the_format(
    state_dir: Path, tmp_path: Path, name: str, check: object
) -> None:
    """``kiosk report --out report.html`` writes HTML (and .csv CSV, .json JSON, .txt text)."""
    out = tmp_path / name
    assert cli.main(["--state-dir", str(state_dir), "report", "--out", str(out)]) == 0
    assert callable(check) and check(out.read_text(encoding="utf-8"))


def test_format_option_wins_over_the_ending(state_dir: Path, tmp_path: Path) -> None:
    """An explicit --format is obeyed whatever the file is called."""
    out = tmp_path / "report.html"
    argv = ["--state-dir", str(state_dir), "report", "--format", "json", "--out", str(out)]
    assert cli.main(argv) == 0
    assert json.loads(out.read_text())["catalog_size"] == 15


def test_unknown_ending_is_refused_and_nothing_written(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out report.pdf`` is not silently written as text: one clear error, no file."""
    out = tmp_path / "report.pdf"
    assert cli.main(["--state-dir", str(state_dir), "report", "--out", str(out)]) == 1
    assert not out.exists()
    assert "end the name with one of .html" in capsys.readouterr().err


def test_sections_option(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--sections all adds the long lists; an unknown section name is a usage error."""
    with Store.open(state_dir) as store:
        store.add_scan(
            code="B0001", verdict=Verdict.OK, scanner="t", ts=NOW, location="Rak Umum", run=1
        )
    argv = ["--state-dir", str(state_dir), "report", "--sections", "todo,found"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "To do (0)" in out and "Found (1)" in out and "Items in catalogue" not in out
    with pytest.raises(SystemExit) as err:
        cli.main(["--state-dir", str(state_dir), "report", "--sections", "todo,everything"])
    assert err.value.code == 2
    assert "unknown report section 'everything'" in capsys.readouterr().err


def test_due_dates_survive_the_store() -> None:
    """An item's due date is kept with the catalogue, and old catalogues without one still load."""
    item = Item("B1", "300 X", on_loan=True, due="2026-11-23")
    assert Item.from_dict(item.to_dict()) == item
    old = {k: v for k, v in item.to_dict().items() if k != "due"}
    assert Item.from_dict(old) == item._replace(due="")
