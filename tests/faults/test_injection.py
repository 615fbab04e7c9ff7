"""Scanned text cannot take over a terminal, a log line or a spreadsheet.

A scanner types whatever its label says: a ``KIOSK:location:`` command with an
ESC sequence in it, or a "barcode" that is a spreadsheet formula. Scanned
through ``kiosk run --simulate`` as a cart would take them, they must come
out of ``status``, ``scans``, the log and the CSV report as inert text.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from tests.helpers import ROOT

ESCAPE = "\x1b[2J\x1b]0;owned\x07"
SCANS = [
    f"KIOSK:location:Rak{ESCAPE}",
    '=HYPERLINK("http://evil.example/","x")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "@SUM(A1)",
    f"B1{ESCAPE}",
]


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("injection")
    (tmp / "empty.toml").write_text("")
    argv = ["--config", str(tmp / "empty.toml"), "--state-dir", str(tmp / "state")]
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *argv, "run", "--simulate"],
        input="\n".join(SCANS) + "\n",
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    return tmp


def _cli(state: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    base = ["--config", str(state / "empty.toml"), "--state-dir", str(state / "state")]
    assert main([*base, *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("verb", [["status"], ["scans"], ["scans", "--json"], ["status", "--json"]])
def test_terminal_output_has_no_raw_control_characters(
    state: Path, capsys: pytest.CaptureFixture[str], verb: list[str]
) -> None:
    """status and scans show a scanned ESC sequence as an escape, never as the raw bytes."""
    out = _cli(state, capsys, *verb)
    assert "\x1b" not in out and "\x07" not in out
    assert ("\\x1b[2J" in out) or ("\\u001b[2J" in out)


def test_csv_report_cells_are_text_not_formulas(
    state: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Formula-like scans land in the CSV report with a leading quote."""
    out = _cli(state, capsys, "report", "--format", "csv")
    cells = [c for row in csv.reader(io.StringIO(out, newline="")) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells
