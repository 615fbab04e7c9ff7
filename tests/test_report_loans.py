"""Due dates of on-loan books travel from SLiMS's loan report into the catalogue and the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.slims.pages import loan_codes, loan_dues
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User
from tests.helpers import ROOT, kiosk, slims_cli_env

PASSWORD = "s3cret-Pa55"


@pytest.fixture(params=["en", "id"])
def fake(request: pytest.FixtureRequest) -> Iterator[FakeSlims]:
    items = [FakeItem(f"B{i:05d}", f"Book {i}", f"{i:03d} ABC") for i in range(1, 11)]
    items[2].on_loan = True
    users = {
        "admin": User(PASSWORD, rights=frozenset({"stock_take", "bibliography", "reporting"})),
        "petugas": User("petugas123", uid=2),  # stock take and bibliography, no reporting
    }
    with FakeSlims(items, users=users, language=request.param) as f:
        f.start_stocktake()
        yield f


def pull(fake: FakeSlims, tmp_path: Path, user: str, password: str) -> tuple[Path, str]:
    env = slims_cli_env(fake.url, password, tmp_path / "k.toml", user=user)
    state = tmp_path / "s"
    done = kiosk("--state-dir", str(state), "catalog", "pull", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["on_loan"] == 1
    return state, done.stderr


def test_pull_stores_the_due_date_of_each_loan(fake: FakeSlims, tmp_path: Path) -> None:
    """With Reporting rights the pull keeps each open loan's due date (either language)."""
    state, warnings = pull(fake, tmp_path, "admin", PASSWORD)
    assert "due date" not in warnings
    with Store.open(state) as store:
        item = store.catalog()["B00003"]
    assert item.on_loan and item.due == "2026-11-17"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    rep = kiosk("--state-dir", str(state), "report", "--format", "json", env=env)
    assert json.loads(rep.stdout)["on_loan_detail"][0]["due"] == "2026-11-17"


def test_pull_without_reporting_rights_marks_loans_without_due_dates(
    fake: FakeSlims, tmp_path: Path
) -> None:
    """Without Reporting rights: loans marked, no due date, and a warning naming that right."""
    state, warnings = pull(fake, tmp_path, "petugas", "petugas123")
    with Store.open(state) as store:
        item = store.catalog()["B00003"]
    assert item.on_loan and item.due == ""
    assert "on-loan items have no due date" in warnings
    assert "read for Reporting" in warnings and "Bibliography" not in warnings


def test_loan_report_columns_are_found_by_header_in_either_language() -> None:
    """English and Indonesian headers both lead to the code and due-date columns."""
    en = "Member ID\tMember Name\tItem Code\tTitle\tLoan Date\tDue Date\tLoan Status\t\n"
    en += "M1\tAni\tB0001\tT\t2026-11-01\t2026-11-08\t0\n"
    idn = "ID Anggota\tNama Anggota\tKode Eksemplar\tJudul\tTanggal Pinjam\t"
    idn += "Tanggal Kembali\tStatus peminjaman\t\n"
    idn += "M1\tAni\tB0002\tT\t2026-11-01\t2026-11-08 00:00:00\t0\n"
    idn += "M2\tBudi\tB0003\tT\t2026-11-01\t0000-00-00\t0\n"
    assert loan_dues(en) == {"B0001": "2026-11-08"}
    assert loan_dues(idn) == {"B0002": "2026-11-08", "B0003": ""}
    assert loan_codes(idn) == {"B0002", "B0003"}
    assert loan_dues("<html>not a spreadsheet</html>") is None


def test_import_reads_due_dates_from_the_on_loan_file(state_dir: Path, tmp_path: Path) -> None:
    """`catalog import --on-loan` takes "CODE" or "CODE YYYY-MM-DD" lines."""
    from kiosk import cli

    export = tmp_path / "items.csv"
    export.write_text(
        "item_code,call_number,coll_type_name,inventory_code,received_date,supplier_name,"
        "order_no,location_name,order_date,item_status_name,site,source,invoice,price,"
        "price_currency,invoice_date,input_date,last_update,title\n"
        + "".join(f"B{i},00{i} ABC,,,,,,Rak Umum,,,,,,,,,,,Book {i}\n" for i in range(1, 4)),
        encoding="utf-8",
    )
    loans = tmp_path / "loans.txt"
    loans.write_text("B1 2026-11-20\nB2\nB3 someday\n", encoding="utf-8")
    state = tmp_path / "s"
    argv = ["--state-dir", str(state), "catalog", "import", str(export), "--on-loan", str(loans)]
    assert cli.main(argv) == 0
    with Store.open(state) as store:
        cat = store.catalog()
    assert [(cat[c].on_loan, cat[c].due) for c in ("B1", "B2", "B3")] == [
        (True, "2026-11-20"),
        (True, ""),
        (True, ""),
    ]
