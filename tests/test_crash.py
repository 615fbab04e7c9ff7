"""Crash test: SIGKILL the real daemon mid-burst and check no acknowledged scan is lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import kiosk
from kiosk.store import Store

ROUNDS = 50
BURST = 40
ROOT = Path(kiosk.__file__).resolve().parent.parent


def kiosk_cmd(state: Path) -> list[str]:
    return [sys.executable, "-m", "kiosk", "--state-dir", str(state), "run", "--simulate", "--json"]


def one_round(state: Path, rnd: random.Random, tag: int) -> list[dict[str, object]]:
    """Start the daemon, feed a burst, kill it after a random number of acknowledgements."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("KIOSK_CONFIG", None)
    proc = subprocess.Popen(
        kiosk_cmd(state),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    codes = "".join(f"C{tag:03d}X{i:03d}\n" for i in range(BURST))
    proc.stdin.write(codes.encode())
    proc.stdin.flush()
    kill_after = rnd.randint(0, BURST - 1)
    printed: list[dict[str, object]] = []
    while len(printed) < kill_after:
        line = proc.stdout.readline()
        if not line:
            break
        printed.append(json.loads(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    printed.extend(json.loads(line) for line in proc.stdout.read().splitlines() if line)
    proc.stdin.close()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, "the daemon ended before it was killed"
    return printed


@pytest.mark.slow
def test_every_printed_scan_is_stored_exactly_once_after_sigkill(tmp_path: Path) -> None:
    """A scan the cart acknowledged survives a kill at any moment, and is never stored twice."""
    state = tmp_path / "state"
    rnd = random.Random(20260510)
    acknowledged: dict[int, str] = {}
    for tag in range(ROUNDS):
        for scan in one_round(state, rnd, tag):
            acknowledged[int(scan["seq"])] = str(scan["code"])  # type: ignore[call-overload]
        # Opening as the writer runs the same recovery the next start will run.
        with Store.open(state) as store:
            stored = {s.seq: s.code for s in store.scans(include_voided=True)}
        lost = {seq: code for seq, code in acknowledged.items() if stored.get(seq) != code}
        assert not lost, f"round {tag}: acknowledged but not stored: {lost}"
        twice = [c for c, n in Counter(stored.values()).items() if n > 1]
        assert not twice, f"round {tag}: stored more than once: {twice}"
    assert len(acknowledged) > ROUNDS  # the kills did not all land before the first scan
