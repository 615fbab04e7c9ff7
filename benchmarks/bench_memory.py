"""Memory of the daemon as scans pile up, and of the verbs that read every scan.

Daemon: ``kiosk run --simulate --json`` is fed N barcodes from a pipe (a
catalogue of 20,000 items; every code is new, so found, then unknown) and its
RSS is sampled from ``/proc`` after the 10,000th and the last acknowledged
scan. Readers: a store of M scans is filled in bulk, then ``kiosk report``
and ``kiosk scans --json`` run to completion and their peak RSS (``ru_maxrss``
of the child) is taken.

    .venv/bin/python benchmarks/bench_memory.py [--scans 100000] [--readers 200000]

The state directory lives on ``/dev/shm`` when it exists, so fsync does not
set the pace. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from kiosk.cli.bench_store import _rss, daemon_cmd, fill_catalog, fill_scans

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KIOSK_CONFIG", None)
    return env


def daemon_rss(workdir: Path, n: int, samples: tuple[int, ...]) -> dict[str, float]:
    """RSS (MB) of the running daemon after each of ``samples`` scans was acknowledged."""
    state = workdir / "daemon"
    state.mkdir()
    fill_catalog(state, 20_000)
    out: dict[str, float] = {}
    with subprocess.Popen(
        daemon_cmd(state),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        stdin = proc.stdin

        def feed() -> None:
            try:
                for i in range(1, n + 1):
                    stdin.write(b"B%08d\n" % i)
                stdin.close()
            except BrokenPipeError:
                pass

        threading.Thread(target=feed, daemon=True).start()
        acked = 0
        for _line in proc.stdout:
            acked += 1
            if acked in samples:
                out[f"rss_mb_at_{acked}"] = _rss(proc.pid)[0]
        proc.wait()
    if acked != n:
        raise RuntimeError(f"daemon acknowledged {acked} of {n} scans")
    return out


def reader_peak(state: Path, *verb: str) -> float:
    """Peak RSS (MB) of one ``kiosk`` verb run to completion, its output discarded."""
    cmd = [sys.executable, "-m", "kiosk", "--state-dir", str(state), *verb]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:  # ru_maxrss of children is a maximum over all of them
        raise RuntimeError("measure each verb in a fresh process: run this script once per verb")
    return round(after / 1024, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=100_000, help="scans fed to the daemon")
    ap.add_argument("--readers", type=int, default=200_000, help="scans in the readers' store")
    ap.add_argument("--skip-daemon", action="store_true")
    ap.add_argument("--verb", action="append", help="only this reader (report, scans)")
    args = ap.parse_args()
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kiosk-mem-", dir=base) as tmp:
        work = Path(tmp)
        if not args.skip_daemon:
            samples = tuple(s for s in (10_000, args.scans) if s <= args.scans)
            result["daemon"] = {"scans": args.scans, **daemon_rss(work, args.scans, samples)}
        state = work / "readers"
        fill_scans(state, args.readers)
        fill_catalog(state, 20_000)
        verbs = {"report": ("report",), "scans": ("scans", "--json")}
        result["readers"] = {"scans": args.readers, "limit_mb": 100}
        for name in args.verb or list(verbs):
            # Each verb in its own child of a fresh interpreter: ru_maxrss is per process tree.
            code = (
                f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                "from benchmarks.bench_memory import reader_peak; from pathlib import Path; "
                f"print(reader_peak(Path({str(state)!r}), *{verbs[name]!r}))"
            )
            done = subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            )
            result["readers"][f"{name}_peak_mb"] = float(done.stdout.strip())
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
