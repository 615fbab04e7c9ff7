"""Catalogue pulls and imports that must not replace a good catalogue with a bad one.

Through the fake SLiMS: an export that breaks off cleanly (SLiMS sends it
without a Content-Length) on a row boundary or inside a row, a SLiMS without
its public item count, loan counts that disagree. From files: every encoding
Excel, editors and old installs write, decoded to the same items.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.exc import CatalogError
from kiosk.slims.export import COLUMNS, ExportReport, check_complete, parse_export
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User, export_text

PASSWORD = "pw-for-the-fake"
ITEMS = 3000


@pytest.fixture
def fake() -> Iterator[FakeSlims]:
    items = [FakeItem(f"B{i:05d}", f"Buku {i}", f"{i:03d} ABC") for i in range(ITEMS)]
    items[7].on_loan = True
    users = {"admin": User(PASSWORD, rights=frozenset({"stock_take", "bibliography", "reporting"}))}
    with FakeSlims(items, users=users) as f:
        yield f


Pull = Callable[[], tuple[int, str, str]]


@pytest.fixture
def pull(
    fake: FakeSlims,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Pull:
    """``pull()`` runs `kiosk catalog pull --json` against the fake: (status, stdout, stderr)."""
    monkeypatch.setenv("SLIMS_URL", fake.url)
    monkeypatch.setenv("SLIMS_USER", "admin")
    monkeypatch.setenv("SLIMS_PASSWORD", PASSWORD)
    config = tmp_path / "k.toml"
    config.write_text('[slims]\ncredentials_file = ""\nretries = 0\n')

    def run() -> tuple[int, str, str]:
        argv = ["--config", str(config), "--state-dir", str(tmp_path / "state")]
        status = main([*argv, "catalog", "pull", "--json"])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def _count(tmp_path: Path) -> int:
    with Store.open_readonly(tmp_path / "state") as store:
        return len(store.catalog())


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(("cut_rows", 0.5, "brought only"), id="half-on-a-row-boundary"),
        pytest.param(("cut_rows", 0.999, "brought only"), id="last-rows-missing"),
        pytest.param(("cut", 0.9999, "middle of row"), id="last-row-cut-inside"),
    ],
)
def test_cut_off_pull_keeps_the_old_catalogue(
    fake: FakeSlims,
    pull: Pull,
    tmp_path: Path,
    cut: tuple[str, float, str],
) -> None:
    """An export that breaks off cleanly is refused with exit 1 and the old catalogue stays."""
    kind, keep, says = cut
    assert pull()[0] == 0 and _count(tmp_path) == ITEMS
    fake.items["NEW1"] = FakeItem("NEW1", "Baru")
    fake.inject("item_export", kind, keep=keep)
    status, out, err = pull()
    assert status == 1 and out == ""
    (line,) = err.splitlines()
    assert says in line and f"left unchanged ({ITEMS} items" in line
    assert _count(tmp_path) == ITEMS


def test_cut_inside_a_row_is_refused_without_the_item_count(
    fake: FakeSlims, pull: Pull, tmp_path: Path
) -> None:
    """With no count from SLiMS, a last row cut short still stops the pull."""
    fake.api_enabled = False
    fake.inject("item_export", "cut", keep=0.9999)
    status, _, err = pull()
    assert status == 1 and "middle of row" in err
    assert not (tmp_path / "state").exists() or _count(tmp_path) == 0


def test_pull_without_the_item_count_says_it_was_not_compared(fake: FakeSlims, pull: Pull) -> None:
    """A whole export from a SLiMS without its count API is stored, with a warning saying so."""
    fake.api_enabled = False
    status, out, err = pull()
    assert status == 0 and json.loads(out)["items"] == ITEMS
    assert json.loads(out)["expected"] is None
    assert "did not say how many items" in err


def test_whole_pull_is_checked_against_the_count(fake: FakeSlims, pull: Pull) -> None:
    """A complete pull reports SLiMS's count beside the rows it brought."""
    status, out, _ = pull()
    summary = json.loads(out)
    assert status == 0 and summary["expected"] == summary["rows"] == summary["items"] == ITEMS


def test_loan_report_shorter_than_slims_count_is_reported(fake: FakeSlims, pull: Pull) -> None:
    """When the loan report lists fewer loans than SLiMS counts, the pull says so."""
    fake.api_totals["lent"] = 5
    status, out, err = pull()
    summary = json.loads(out)
    assert status == 0 and summary["on_loan"] == 1 and summary["lent_in_slims"] == 5
    assert summary["on_loan_source"] == "loan report"
    assert "SLiMS counts 5 open loans but its loan report listed 1" in err


def test_on_loan_codes_outside_the_catalogue_are_reported(fake: FakeSlims, pull: Pull) -> None:
    """A stock-take loan whose item is not in the export is counted and named."""
    fake.start_stocktake()
    fake.stocktake["GONE1"] = "l"
    fake.api_totals["lent"] = 2
    status, out, err = pull()
    assert status == 0 and json.loads(out)["on_loan_not_in_catalog"] == 1
    assert "1 on-loan codes are not in the catalogue (first: GONE1)" in err


# -- files ------------------------------------------------------------------------
_ACCENTED = [FakeItem("L1", "Café Gödel", "001 ÄB"), FakeItem("L2", "Señor Niño", "002 Ñ")]
_TEXT = export_text(_ACCENTED)


def _excel_unicode_text(header: bool) -> bytes:
    """What Excel's "Unicode text" writes: tab-separated UTF-16 LE with a BOM, CR LF."""
    rows = [list(COLUMNS)] if header else []
    for it in _ACCENTED:
        row = dict.fromkeys(COLUMNS, "")
        row.update(item_code=it.code, call_number=it.call_number, title=it.title)
        rows.append([row[c] for c in COLUMNS])
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("utf-16")


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param(_TEXT.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(_TEXT.encode("utf-8-sig"), "utf-8", id="utf-8-bom"),
        pytest.param(_TEXT.encode("utf-16"), "utf-16", id="utf-16-bom"),
        pytest.param(_TEXT.encode("utf-16-le"), "utf-16-le", id="utf-16-le"),
        pytest.param(_TEXT.encode("utf-16-be"), "utf-16-be", id="utf-16-be"),
        pytest.param(_TEXT.encode("cp1252"), "windows-1252", id="cp1252"),
        pytest.param(
            _TEXT.replace("Gödel", "Gödel\x81").encode("latin-1"), "latin-1", id="latin-1"
        ),
        pytest.param(_excel_unicode_text(True), "utf-16", id="excel-unicode-text"),
        pytest.param(_excel_unicode_text(False), "utf-16", id="excel-unicode-text-no-header"),
    ],
)
def test_every_encoding_gives_the_same_items(data: bytes, encoding: str) -> None:
    """An export saved in any of these encodings imports with its accents intact."""
    report = ExportReport()
    items = list(parse_export(data, report=report))
    assert report.encoding == encoding
    assert [(it.code, it.call_number) for it in items] == [("L1", "001 ÄB"), ("L2", "002 Ñ")]
    assert items[0].title.startswith("Café Gödel") and items[1].title == "Señor Niño"
    check_complete(report, len(items))


def test_mostly_unreadable_rows_are_refused() -> None:
    """A file where most rows have the wrong number of columns is not taken for an export."""
    text = _TEXT + "".join(f'"X{i}","only","three"\n' for i in range(5))
    report = ExportReport()
    items = list(parse_export(text, report=report))
    assert len(items) == 2
    with pytest.raises(CatalogError, match=r"5 of 7 rows could not be read \(line 4: 3 values"):
        check_complete(report, len(items))
