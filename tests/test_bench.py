"""The benchmarks run (a smoke run; the budgets are checked by the full run, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import bench_store as bench
from kiosk.feedback.patterns import DEFAULTS
from tests.helpers import ROOT, kiosk


def test_store_benchmark_smoke(kiosk_env: dict[str, str]) -> None:
    """`kiosk bench store --quick --json` reports p50/p99 for each store it compares."""
    res = kiosk("bench", "store", "--quick", "--json", "--no-startup", env=kiosk_env, timeout=300)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)["results"]
    assert {r["store"] for r in rows} == {"kiosk", "tinydb-json", "append-fsync"}
    assert all(r["p99_ms"] >= r["p50_ms"] > 0 for r in rows)


def test_startup_probe_says_when_the_daemon_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon that exits before its first scan is reported as such, not as a probe crash."""
    monkeypatch.setattr(bench, "daemon_cmd", lambda state: [sys.executable, "-c", "pass"])
    with pytest.raises(RuntimeError, match="before scanning"):
        bench.startup(catalog=10, scans=10, workdir=tmp_path)


def test_startup_benchmark_smoke(kiosk_env: dict[str, str]) -> None:
    """`kiosk bench startup --json` reports its three fills side by side, a verdict per ratio."""
    res = kiosk(
        "bench", "startup", "--json", "--items", "600", "--scans", "1000", "--rounds", "1",
        env=kiosk_env, timeout=300,
    )  # fmt: skip
    assert res.returncode in (0, 1), res.stderr
    out = json.loads(res.stdout)
    assert set(out["daemon"]) == {"0", "1000", "day"}
    assert all(d["ready_s"] > 0 and d["rss_first_scan_mb"] > 0 for d in out["daemon"].values())
    assert out["checks"]["misshelf_verdicts"]["pass"], out["daemon"]
    assert {"history_ready", "day_ready", "day_status", "rss_mb"} <= set(out["checks"])


def test_signals_benchmark_smoke() -> None:
    """`bench_signals.py` plays every built-in pattern and reports how late each one ran."""
    script = ROOT / "benchmarks" / "bench_signals.py"
    res = subprocess.run(
        [sys.executable, str(script), "--repeats", "1"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode in (0, 1), res.stderr
    out = json.loads(res.stdout)
    assert set(out["late_max_ms_per_pattern"]) == {str(n) for n in DEFAULTS}
    assert out["changes"] > len(DEFAULTS)
