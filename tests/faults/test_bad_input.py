"""Every bad input gets one line on standard error and the right exit status, never a traceback.

Each row of the table is a mistake someone made on a real cart (a config saved
from the wrong editor, a catalogue that is a workbook, ``--out`` pointing at a
folder). The command line is run as a user runs it, through ``kiosk.cli.main``;
the rows that read standard input run ``kiosk run --simulate`` as a process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.slims.export import COLUMNS
from kiosk.store import Store
from tests.fakeslims import FakeItem, export_text
from tests.helpers import ROOT


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, the words its one line must hold, the exit status."""

    name: str
    make: Callable[[Path], list[str]]  # writes what it needs under the folder; returns argv
    says: str
    status: int = 1


def _config(tmp: Path, data: bytes, *argv: str) -> list[str]:
    (tmp / "bad.toml").write_bytes(data)
    return ["--config", str(tmp / "bad.toml"), "--state-dir", str(tmp / "state"), *argv]


def _import(tmp: Path, data: bytes, *extra: str, state: Path | None = None) -> list[str]:
    (tmp / "export.csv").write_bytes(data)
    return _base(tmp, "catalog", "import", str(tmp / "export.csv"), *extra, state=state)


def _base(tmp: Path, *argv: str, state: Path | None = None) -> list[str]:
    (tmp / "empty.toml").write_text("")
    state = state if state is not None else tmp / "state"
    return ["--config", str(tmp / "empty.toml"), "--state-dir", str(state), *argv]


def _stored(tmp: Path, *argv: str) -> list[str]:
    with Store.open(tmp / "state"):
        pass
    return _base(tmp, *argv)


def _a_file(tmp: Path) -> Path:
    (tmp / "a-file").write_text("not a folder\n")
    return tmp / "a-file"


_EXPORT = export_text([FakeItem("B1", "Title"), FakeItem("B2", "Other")])
_WRONG_COLUMNS = b"B1,only,three\nB2,only,three\nB3,only,three\n"

CASES = [
    Case(
        "config: invalid item_code_pattern",
        lambda t: _config(t, b'[stocktake]\nitem_code_pattern = "(["\n', "status"),
        "stocktake.item_code_pattern",
    ),
    Case(
        "config: binary file",
        lambda t: _config(t, b"\x7fELF\x02\x01\x01\x00\x00\x00\x00", "status"),
        "not a text file",
    ),
    Case(
        "config: Latin-1, not UTF-8",
        lambda t: _config(t, '# café\nlog_level = "info"\n'.encode("latin-1"), "status"),
        "not UTF-8",
    ),
    Case(
        "config: slims.timeout_s = 0",
        lambda t: _config(t, b"[slims]\ntimeout_s = 0\n", "status"),
        "slims.timeout_s",
    ),
    Case(
        "state dir is a file",
        lambda t: _base(t, "status", state=_a_file(t)),
        "is not a directory",
    ),
    Case(
        "state dir is a file, for a writer",
        lambda t: _import(t, _EXPORT.encode(), state=_a_file(t)),
        "is not a directory",
    ),
    Case(
        "catalogue: binary file",
        lambda t: _import(t, bytes(range(256)) * 40),
        "not a text file",
    ),
    Case(
        "catalogue: an Excel workbook",
        lambda t: _import(t, b"PK\x03\x04\x14\x00\x06\x00" + bytes(200)),
        "Excel workbook",
    ),
    Case(
        "catalogue: a 1 MB line",
        lambda t: _import(t, b"B1," + b"x" * (1 << 20) + b"\n"),
        "characters long",
    ),
    Case(
        "catalogue: rows with wrong column counts",
        lambda t: _import(t, _WRONG_COLUMNS),
        "3 values, expected 19",
    ),
    Case(
        "catalogue: header only",
        lambda t: _import(t, ",".join(COLUMNS).encode() + b"\n"),
        "no item rows",
    ),
    Case(
        "catalogue: on-loan list is binary",
        lambda t: _import(t, _EXPORT.encode(), "--on-loan", str(_binary(t))),
        "not a text file",
    ),
    Case(
        "report --out into a missing folder",
        lambda t: _stored(t, "report", "--out", str(t / "missing" / "report.txt")),
        "does not exist",
    ),
    Case(
        "report --out onto a folder",
        lambda t: _stored(t, "report", "--format", "csv", "--out", str(t)),
        "is a folder",
    ),
    Case(
        "commands --out onto a file",
        lambda t: _base(t, "commands", "--out", str(_a_file(t))),
        "is a file, not a folder",
    ),
    Case(
        "commands --out under a file",
        lambda t: _base(t, "commands", "--out", str(_a_file(t) / "sheet")),
        "is a file, not a folder",
    ),
]


def _binary(tmp: Path) -> Path:
    (tmp / "loans.bin").write_bytes(bytes(range(256)) * 8)
    return tmp / "loans.bin"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_bad_input_gets_one_line(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command refuses with one line naming the problem and exits 1, with no traceback."""
    argv = case.make(tmp_path)
    status = main(argv)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert status == case.status, err
    assert len(lines) == 1 and lines[0].startswith("kiosk: error: "), err
    assert case.says in lines[0]
    assert "Traceback" not in out + err


def test_commands_out_where_nobody_may_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sheet written where the system allows no folder is refused in one line."""
    target = Path("/proc/kiosk-command-sheet")
    status = main(_base(tmp_path, "commands", "--out", str(target)))
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and str(target) in err, err


def _run_simulated(tmp: Path, data: bytes) -> tuple[int, list[dict[str, object]], str]:
    (tmp / "empty.toml").write_text("")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    argv = ["--config", str(tmp / "empty.toml"), "--state-dir", str(tmp / "state")]
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *argv, "run", "--simulate", "--json"],
        input=data,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    scans = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return done.returncode, scans, done.stderr.decode()


@pytest.mark.parametrize(
    ("data", "says", "codes"),
    [
        pytest.param(
            b"B0001\nB\xff02\nB0003\n", "not UTF-8", ["B0001", "B\ufffd02", "B0003"], id="bad-byte"
        ),
        pytest.param(
            b"B0001\n" + b"9" * 100_000 + b"\nB0003\n",
            "max_length",
            ["B0001", "B0003"],
            id="100-kb-line",
        ),
    ],
)
def test_bad_standard_input_costs_only_its_line(
    tmp_path: Path, data: bytes, says: str, codes: list[str]
) -> None:
    """A bad line on standard input is reported once; every other line is still scanned."""
    status, scans, err = _run_simulated(tmp_path, data)
    assert status == 0, err
    assert [s["code"] for s in scans] == codes
    assert sum(1 for line in err.splitlines() if says in line) == 1, err
    assert "Traceback" not in err
