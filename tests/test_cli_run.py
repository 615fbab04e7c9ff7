"""`kiosk run --simulate --json` and friends as a real subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import kiosk


def test_run_simulate_json_end_to_end(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """Barcodes on stdin come out as one JSON line per scan with the documented fields."""
    res = kiosk(
        "--state-dir",
        str(state_dir),
        "run",
        "--simulate",
        "--json",
        input="B0001\nB0002\nB0002\nnot a code!\nB4242\n",
        env=kiosk_env,
    )
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["verdict"] for r in rows] == ["ok", "ok", "duplicate", "invalid", "unknown"]
    for r in rows:
        assert {"seq", "code", "verdict", "scanner", "ts"} <= r.keys()
    assert rows[0]["scanner"] == "stdin"

    listed = kiosk("--state-dir", str(state_dir), "scans", "--json", env=kiosk_env)
    assert [json.loads(line) for line in listed.stdout.splitlines()] == rows


def test_status_counts_verdicts(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """`kiosk status --json` counts verdicts, unsynced scans and catalogue items."""
    kiosk(
        "--state-dir",
        str(state_dir),
        "run",
        "--simulate",
        input="B0001\nB0001\nzz\n",
        env=kiosk_env,
    )
    res = kiosk("--state-dir", str(state_dir), "status", "--json", env=kiosk_env)
    info = json.loads(res.stdout)
    assert info["counts"] == {"ok": 1, "duplicate": 1, "invalid": 1}
    assert info["unsynced"] == 1
    assert info["catalog"]["count"] == 15


def start_daemon(state_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`kiosk run --simulate --json` in the background, fed through a pipe."""
    cmd = [sys.executable, "-m", "kiosk", "--state-dir", str(state_dir), "run", "--simulate"]
    return subprocess.Popen(
        [*cmd, "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigterm_stops_cleanly_and_keeps_scans(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """SIGTERM ends the daemon with status 0 and every printed scan is stored."""
    proc = start_daemon(state_dir, kiosk_env)
    assert proc.stdin and proc.stdout
    proc.stdin.write("B0003\n")
    proc.stdin.flush()
    line = proc.stdout.readline()  # blocks until the scan is stored and printed
    assert json.loads(line)["code"] == "B0003"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    listed = kiosk("--state-dir", str(state_dir), "scans", "--json", env=kiosk_env)
    assert [json.loads(x)["code"] for x in listed.stdout.splitlines()] == ["B0003"]


def test_second_writer_is_refused(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """A second daemon on the same store is refused with a clear message, not a corrupt store."""
    proc = start_daemon(state_dir, kiosk_env)
    assert proc.stdin and proc.stdout
    proc.stdin.write("B0001\n")
    proc.stdin.flush()
    proc.stdout.readline()
    second = kiosk(
        "--state-dir", str(state_dir), "run", "--simulate", input="B0002\n", env=kiosk_env
    )
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert second.returncode == 1
    assert "in use by another kiosk process" in second.stderr


def test_unknown_verb_is_a_usage_error(kiosk_env: dict[str, str]) -> None:
    """An unknown verb exits 2 and names the valid verbs."""
    res = kiosk("frobnicate", env=kiosk_env)
    assert res.returncode == 2
    assert "invalid choice" in res.stderr


def test_unwritable_state_dir_is_one_clear_error(tmp_path: Path, kiosk_env: dict[str, str]) -> None:
    """A state directory that cannot be created gives one line naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = kiosk("--state-dir", str(blocker / "state"), "run", "--simulate", input="", env=kiosk_env)
    assert res.returncode == 1
    assert str(blocker / "state") in res.stderr
    assert "Traceback" not in res.stderr


def test_every_verb_has_help(kiosk_env: dict[str, str]) -> None:
    """Each verb answers --help with a usage line."""
    from kiosk.cli import VERBS

    for verb in VERBS:
        res = kiosk(verb, "--help", env=kiosk_env)
        assert res.returncode == 0, verb
        assert res.stdout.startswith(f"usage: kiosk {verb}"), verb


def test_kiosk_sync_asks_the_running_daemon(state_dir: Path, kiosk_env: dict[str, str]) -> None:
    """`kiosk sync` beside the daemon (the end-of-day timer) has it sync and reports what it did."""
    proc = start_daemon(state_dir, kiosk_env)
    assert proc.stdin and proc.stdout
    proc.stdin.write("B0001\n")
    proc.stdin.flush()
    proc.stdout.readline()
    res = kiosk("--state-dir", str(state_dir), "sync", env=kiosk_env)
    assert res.returncode == 0, res.stderr
    assert f"the daemon (pid {proc.pid}) is running" in res.stderr
    said = f"sync (file) by the daemon (pid {proc.pid}): 1 of 1 scans in the upload file"
    assert said in res.stdout
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    (export,) = (state_dir / "exports").iterdir()
    assert export.read_text().split() == ["B0001"]
    assert not (state_dir / "kiosk.sock").exists()  # the daemon took its socket away
