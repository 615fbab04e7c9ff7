"""`kiosk demo`: the whole job on simulated hardware, as a librarian would run it."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

from kiosk.models import Verdict
from tests.helpers import kiosk


def test_demo_produces_upload_file_report_and_frames(
    tmp_path: Path, kiosk_env: dict[str, str]
) -> None:
    """The demo exits 0, gives every verdict, and uploads exactly the items it found."""
    out = tmp_path / "demo"
    res = kiosk("demo", "--out", str(out), env=kiosk_env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert f"outputs in {out}" in res.stdout

    listed = kiosk("--state-dir", str(out / "state"), "scans", "--json", env=kiosk_env)
    scans = [json.loads(line) for line in listed.stdout.splitlines()]
    item_verdicts = {v for v in Verdict if v not in (Verdict.ERROR,)}
    assert {s["verdict"] for s in scans} == {str(v) for v in item_verdicts}

    report = json.loads((out / "report.json").read_text())
    upload = (out / "stocktake-upload.txt").read_text().split()
    assert sorted(upload) == sorted(report["found"])
    assert len(report["missing"]) > 0
    assert len(report["misshelved"]) == 1

    parser = HTMLParser()
    parser.feed((out / "report.html").read_text())
    assert list((out / "frames").glob("*-ok.png"))  # what the OLED showed


def _narration(stdout: str) -> list[str]:
    return [line.strip() for line in stdout.splitlines() if " -> " in line]


def test_demo_narrates_each_scan_in_words(tmp_path: Path, kiosk_env: dict[str, str]) -> None:
    """One line per scan says what the librarian sees and hears; pattern codes only with -v."""
    out = tmp_path / "demo"
    res = kiosk("demo", "--out", str(out), env=kiosk_env, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = _narration(res.stdout)
    listed = kiosk("--state-dir", str(out / "state"), "scans", "--json", "--all", env=kiosk_env)
    codes = [json.loads(line)["code"] for line in listed.stdout.splitlines()]
    assert len(lines) == len(codes)  # the undone scan was heard too
    assert all(line.startswith(code + " ") for line, code in zip(lines, codes, strict=True))
    assert all(" | sound: " in line and " | light: " in line for line in lines)
    assert not re.search(r"\d@\d", res.stdout + res.stderr)  # no raw patterns without -v
    for title, sound, light in (
        ("OK", "one very short beep", "green flashes once"),
        (
            "MISSHELVED",
            "two double beeps",
            "yellow-red flashes twice, then yellow and red stay lit",
        ),
        ("UNKNOWN", "three short beeps", "red lights and stays lit"),
        (
            "WRONG PLACE",
            "one short beep, then one long beep",
            "yellow flashes twice, then yellow stays lit",
        ),
        ("UNDO", "two very short beeps", "green flashes twice"),
    ):
        signals = f" | sound: {sound} | light: {light}"
        assert any(f"-> {title}" in line and line.endswith(signals) for line in lines), title
    assert any("-> WRONG PLACE: " in line and "Fiksi" in line for line in lines)
    assert any("-> MISSHELVED: after " in line for line in lines)  # where it belongs


def test_demo_runs_twice_in_the_same_folder(tmp_path: Path, kiosk_env: dict[str, str]) -> None:
    """Running the demo again starts from a clean slate instead of counting duplicates."""
    out = tmp_path / "demo"
    first = kiosk("demo", "--out", str(out), env=kiosk_env, timeout=120)
    second = kiosk("-v", "demo", "--out", str(out), env=kiosk_env, timeout=120)
    assert first.returncode == second.returncode == 0
    assert "buzzer ok 40@2700~0.25" in second.stderr  # -v: the raw patterns as well
    assert _narration(second.stdout) == _narration(first.stdout)
    verdicts = [line for line in second.stdout.splitlines() if line.startswith("verdicts:")]
    assert verdicts == [line for line in first.stdout.splitlines() if line.startswith("verdicts:")]


def test_bundled_sample_reads_back_exactly() -> None:
    """The bundled catalogue, in SLiMS's own export dialect, imports with every title intact."""
    from importlib import resources

    from kiosk.cli import sample_data as sample
    from kiosk.cli.demo_day import load_sample

    generated = sample.generate()
    bundled = (resources.files("kiosk") / "data" / "sample_catalog.csv").read_text("utf-8")
    assert bundled == sample.to_csv(generated)
    items = load_sample()
    assert [(i.code, i.title, i.call_number, i.location) for i in items] == [
        (r["item_code"], r["title"], r["call_number"], r["location_name"])
        for r in (g.row for g in generated)
    ]
    assert sum(i.on_loan for i in items) == sum(g.on_loan for g in generated) > 0
