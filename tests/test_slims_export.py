"""The item-export parser reads what SLiMS really writes (sample from SLiMS 9.6.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.exc import CatalogError
from kiosk.models import Item
from kiosk.slims.export import COLUMNS, ExportReport, parse_export, read_export_file
from tests.fakeslims import FakeItem, export_text, php_export_value

SAMPLE = Path(__file__).parent / "data" / "slims_item_export.csv"


def by_code(items: list[Item]) -> dict[str, Item]:
    return {it.code: it for it in items}


def test_real_sample_parses_every_row() -> None:
    """Every row of a real SLiMS export becomes one item, none skipped."""
    report = ExportReport()
    items = read_export_file(SAMPLE, report=report)
    rows = SAMPLE.read_bytes().count(b"\n") - 1  # minus the header
    assert len(items) == rows == report.rows
    assert report.skipped == 0 and report.dialect.header


def test_real_sample_keeps_quotes_unicode_and_odd_codes() -> None:
    """Quotes, accents, Javanese script, spaces and slashes in codes survive the import."""
    items = by_code(read_export_file(SAMPLE))
    assert items["B00029"].title == 'Tafsir Al-Qur\'an "Al-Mishbah", jilid 1'
    assert items["B00059"].title == 'HTML <b>tebal</b> & "kutip"'
    assert items["B00006"].location == 'Pojok Anak "Kancil"'
    assert items["B00047"].coll_type == "Koleksi Lokal; Muatan"
    assert items["B00077"].title == "Sastra Jawa: ꦲꦏ꧀ꦱꦫ aksara"
    assert items["B00053"].title == "Backslash \\ dan tab di judul"
    assert items["B 07777"].call_number == "606 HAM h"
    assert {"P2019/001", "INV-2019.0001", "b_0042-x"} <= items.keys()
    assert items["B00004"].status == "Weeded (Disiangi)"


def test_real_sample_line_break_in_title_becomes_letter_n() -> None:
    """A title typed with a line break arrives as SLiMS sends it ('n'), on one row."""
    items = by_code(read_export_file(SAMPLE))
    assert items["B00047"].title == "Judul dengannbaris baru di tengah"


def test_fake_export_round_trip() -> None:
    """The fake's export (SLiMS's escaping) parses back to the same fields."""
    src = [
        FakeItem("A1", 'Say "hi", then go', "R 030 ENS", location="Loc, 2"),
        FakeItem("A2", 'Ends with quote"', "F HIR l", status_name="Repair"),
        FakeItem("A3", '"","" odd', '2X4.1 "ABD"', site="Rak ; 1"),
    ]
    items = by_code(list(parse_export(export_text(src))))
    assert items["A1"].title == 'Say "hi", then go' and items["A1"].location == "Loc, 2"
    assert items["A2"].title == 'Ends with quote"' and items["A2"].status == "Repair"
    assert items["A3"].title == '"","" odd' and items["A3"].call_number == '2X4.1 "ABD"'


def test_separator_sequence_in_call_number_is_regrouped() -> None:
    """A call number containing '","' does not shift the other columns."""
    src = [FakeItem("A1", "Title", 'X","Y', location="Here")]
    (item,) = parse_export(export_text(src))
    assert (item.call_number, item.location, item.title) == ('X","Y', "Here", "Title")


@pytest.mark.parametrize(
    ("sep", "enc", "rec", "header"),
    [(",", '"', "\n", False), (";", "'", "\r", True), ("|", '"', "\r\n", False)],
)
def test_form_choices(sep: str, enc: str, rec: str, header: bool) -> None:
    """Any separator, encloser or record separator chosen in SLiMS's form is read."""
    src = [FakeItem("C1", "One; two | three", "100 A"), FakeItem("C2", "Dua", "200 B")]
    text = export_text(src, sep=sep, enc=enc, rec=rec, header=header)
    report = ExportReport()
    items = by_code(list(parse_export(text, report=report)))
    assert items["C1"].title == "One; two | three" and items["C2"].call_number == "200 B"
    assert report.dialect.separator == sep and report.dialect.header == header


def test_spreadsheet_resave_is_read() -> None:
    """An export re-saved by a spreadsheet (plain CSV, doubled quotes) is read too."""
    head = ",".join(COLUMNS)
    row = ["K1", "001 A", "", "", "", "", "", "Main", "", "", "", "", "", "", "", "", "", ""]
    text = f'{head}\n{",".join(row)},"A ""quoted"" title"\n'
    (item,) = parse_export(text.encode("cp1252"))
    assert item.title == 'A "quoted" title' and item.location == "Main"


def test_latin1_bytes_and_bom() -> None:
    """A file saved in cp1252 or with a UTF-8 BOM imports with its accents intact."""
    text = export_text([FakeItem("L1", "Café Gödel")])
    assert next(parse_export(text.encode("cp1252"))).title == "Café Gödel"
    assert next(parse_export(b"\xef\xbb\xbf" + text.encode())).code == "L1"


def test_bad_rows_are_reported_not_fatal() -> None:
    """A truncated row and a repeated code are listed with line numbers; the rest imports."""
    text = export_text([FakeItem("G1", "Good"), FakeItem("G2", "Good too")])
    text += '"T1","only","three"\n' + text.splitlines()[1] + "\n"
    report = ExportReport()
    items = list(parse_export(text, report=report))
    assert [it.code for it in items] == ["G1", "G2"]
    assert report.duplicates == 1 and report.skipped == 1
    assert any(p.startswith("line 4:") for p in report.problems)


def test_html_instead_of_export_is_refused() -> None:
    """A SLiMS error page saved as the export is refused with the reason, not imported."""
    with pytest.raises(CatalogError, match="HTML page"):
        list(parse_export('<div class="errorBox">You are not authorized</div>'))
    with pytest.raises(CatalogError, match="empty"):
        list(parse_export("\n\n"))


def test_missing_file_message() -> None:
    """Importing a file that is not there names the file."""
    with pytest.raises(CatalogError, match="does not exist"):
        read_export_file("no-such-export.csv")


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(title=_TEXT, call=_TEXT, loc=_TEXT)
def test_any_value_survives_as_slims_mangles_it(title: str, call: str, loc: str) -> None:
    """Whatever librarians type, the import yields what SLiMS exported, whitespace tidied."""
    src = [FakeItem("H1", title, call, location=loc), FakeItem("H2", "next")]
    items = list(parse_export(export_text(src)))

    def tidy(v: str) -> str:
        return " ".join(php_export_value(v).split())

    h1 = by_code(items).get("H1")
    if h1 is None:  # only when a value made the row truly ambiguous
        assert '","' in title + call + loc
        return
    assert (h1.title, h1.call_number, h1.location) == (tidy(title), tidy(call), tidy(loc))
    assert by_code(items)["H2"].title == "next"


@pytest.mark.parametrize("where", ["location", "call_number", "supplier"])
def test_separator_sequence_in_any_free_text_column(where: str) -> None:
    """A '","' inside the location, call number or supplier lands in that column only."""
    odd = 'Gedung ","B", lantai 2'
    extra = {"supplier_name": odd} if where == "supplier" else {}
    src = [
        FakeItem(
            "S1",
            'Title with "," too',
            odd if where == "call_number" else "100 A",
            location=odd if where == "location" else "Main",
            extra=extra,
        )
    ]
    report = ExportReport()
    items = list(parse_export(export_text(src), report=report))
    if where == "supplier":
        # Supplier is not kept, but the columns after it must not shift.
        assert items[0].location == "Main" and items[0].call_number == "100 A"
    else:
        assert getattr(items[0], where) == odd
    assert items[0].title == 'Title with "," too' or report.skipped == 1


def test_cli_catalog_import(tmp_path: Path) -> None:
    """`kiosk catalog import FILE` loads a SLiMS export and reports it."""
    from kiosk.store import Store
    from tests.helpers import ROOT, kiosk

    loans = tmp_path / "loans.txt"
    loans.write_text("B00006\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "KIOSK_CONFIG": ""}
    (tmp_path / "k.toml").write_text("")
    env["KIOSK_CONFIG"] = str(tmp_path / "k.toml")
    args = ["--state-dir", str(tmp_path / "s"), "catalog", "import", str(SAMPLE)]
    done = kiosk(*args, "--on-loan", str(loans), env=env)
    assert done.returncode == 0, done.stderr
    assert "59 items (1 on loan)" in done.stdout
    with Store.open(tmp_path / "s") as store:
        assert store.catalog()["B00006"].location == 'Pojok Anak "Kancil"'
    bad = kiosk("--state-dir", str(tmp_path / "s"), "catalog", "import", "nope.csv", env=env)
    assert bad.returncode == 1 and "does not exist" in bad.stderr
