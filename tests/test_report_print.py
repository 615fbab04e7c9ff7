"""The demo's report prints on at most four A4 pages (measured with headless Chromium).

Opt-in by tooling: skipped where ``chromium`` or ``pdfinfo`` (poppler-utils) is
not installed (``apt-get install chromium poppler-utils``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.cli.demo_day import run_demo
from kiosk.config import Config, Report
from tests.helpers import CHROMIUM_FLAGS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFINFO = shutil.which("pdfinfo")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and PDFINFO), reason="needs chromium and pdfinfo (poppler-utils)"
)


def print_pages(html: Path, tmp: Path) -> int:
    """Pages of ``html`` printed to PDF by headless Chromium (A4 from the page's @page rule)."""
    assert CHROMIUM and PDFINFO
    pdf = tmp / (html.stem + ".pdf")
    subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    info = subprocess.run([PDFINFO, str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"Page size:\s+59[45]\.\d+ x 84[12]\.\d+ pts \(A4\)", info.stdout)
    found = re.search(r"^Pages:\s+(\d+)$", info.stdout, re.M)
    assert found
    return int(found.group(1))


@pytest.mark.parametrize("language", ["en", "id"])
def test_demo_report_prints_on_at_most_four_pages(tmp_path: Path, language: str) -> None:
    """The day's work, summary and on-loan recap fit four A4 sheets in either language."""
    result = run_demo(tmp_path / "demo", Config(report=Report(language=language)))
    assert print_pages(result.report_html, tmp_path) <= 4
