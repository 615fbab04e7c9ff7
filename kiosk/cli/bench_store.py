"""Benchmarks of the offline store, side by side in one run.

Three ways of keeping the same scan records are filled to N documents in
bulk, then timed on single inserts of one more scan:

``kiosk``        this project's :class:`~kiosk.store.Store` (journal + fsync per scan)
``tinydb-json``  TinyDB's default ``JSONStorage`` (whole file rewritten, no fsync)
``append-fsync`` a raw append of the same JSON line plus ``fsync``: the floor

The start-up probe builds a state directory with a catalogue and stored scans,
starts the real ``kiosk run --simulate --json`` and measures the time until
the first scan fed to it is acknowledged, and its memory from ``/proc``.
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from kiosk.models import Item, Verdict
from kiosk.store import Store
from kiosk.store.adapter import open_db

FULL_N = (1_000, 10_000, 20_000, 100_000)
FULL_N_TINYDB = (1_000, 10_000, 20_000)
QUICK_N = (200, 1_000)


def scan_doc(seq: int) -> dict[str, Any]:
    """The document the store keeps for one scan (same shape for every contender)."""
    return {
        "seq": seq,
        "code": f"B{seq:08d}",
        "verdict": str(Verdict.OK),
        "scanner": "scanner-1",
        "ts": 1_780_000_000.0 + seq * 1.7,
        "location": "Perpustakaan Utama",
        "run": 1 + seq // 400,
        "detail": {},
        "sync": None,
        "voided": False,
        "session": 1,
    }


def _stats(store: str, n: int, samples: list[float]) -> dict[str, Any]:
    s = sorted(samples)
    return {
        "store": store,
        "n": n,
        "samples": len(s),
        "p50_ms": round(s[len(s) // 2] * 1e3, 4),
        "p99_ms": round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1e3, 4),
    }


#: Inserts done before timing starts (first-touch effects are not the steady state).
WARMUP = 20


def _time(fn: Callable[[int], object], start: int, count: int) -> list[float]:
    # Flush other contenders' dirty pages (TinyDB's JSONStorage never fsyncs) so
    # their write-back does not land inside this contender's fsyncs.
    os.sync()
    for i in range(WARMUP):
        fn(start + i)
    start += WARMUP
    out = []
    for i in range(count):
        t = time.perf_counter()
        fn(start + i)
        out.append(time.perf_counter() - t)
    return out


def fill_scans(state: Path, n: int) -> None:
    """Bulk-fill a state directory with ``n`` scans (one atomic snapshot)."""
    state.mkdir(parents=True, exist_ok=True)
    with Store.open(state) as store:
        store.start_session("Benchmark")
    db = open_db(state / "scans.json")
    try:
        tables: dict[str, Any] = dict(db.storage.read() or {})
        tables["scans"] = {str(i): scan_doc(i) for i in range(1, n + 1)}
        db.storage.write(tables)
    finally:
        db.close()


def bench_tinydb(root: Path, n: int, samples: int) -> dict[str, Any]:
    path = root / f"tinydb-{n}.json"
    db = TinyDB(path)
    try:
        table = db.table("scans")
        table.insert_multiple(scan_doc(i) for i in range(1, n + 1))
        times = _time(lambda seq: table.insert(scan_doc(seq)), n + 1, samples)
    finally:
        db.close()
    return _stats("tinydb-json", n, times)


def bench_store(
    *,
    ns: Sequence[int] = FULL_N,
    ns_tinydb: Sequence[int] = FULL_N_TINYDB,
    samples: int = 1000,
    samples_tinydb: int = 200,
    workdir: Path | None = None,
) -> list[dict[str, Any]]:
    """Insert latency per store and size.

    The fsync-bound contenders (kiosk and append-fsync at every N) are timed
    round-robin, one insert each in turn, so a disk hiccup on a shared machine
    lands on all of them alike instead of skewing one size's p99. TinyDB JSON
    (100× slower, never fsyncs) is timed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-", dir=workdir) as tmp:
        root = Path(tmp)
        contenders: list[tuple[str, int, Callable[[int], object], Callable[[], None]]] = []
        try:
            for n in ns:
                contenders.append(("append-fsync", n, *_append_inserter(root, n)))
                contenders.append(("kiosk", n, *_kiosk_inserter(root, n)))
            os.sync()
            gc.collect()
            times: list[list[float]] = [[] for _ in contenders]
            for i in range(WARMUP + samples):
                for k, (_name, n, insert, _close) in enumerate(contenders):
                    t = time.perf_counter()
                    insert(n + 1 + i)
                    if i >= WARMUP:
                        times[k].append(time.perf_counter() - t)
        finally:
            for *_, close in contenders:
                close()
        results = [_stats(name, n, t) for (name, n, _, _), t in zip(contenders, times, strict=True)]
        results += [bench_tinydb(root, n, samples_tinydb) for n in ns_tinydb]
        order = {"kiosk": 0, "tinydb-json": 1, "append-fsync": 2}
        return sorted(results, key=lambda r: (r["n"], order[r["store"]]))


def _kiosk_inserter(root: Path, n: int) -> tuple[Callable[[int], object], Callable[[], None]]:
    state = root / f"kiosk-{n}"
    fill_scans(state, n)
    store = Store.open(state)

    def one(seq: int) -> None:
        d = scan_doc(seq)
        store.add_scan(
            code=d["code"],
            verdict=Verdict.OK,
            scanner=d["scanner"],
            ts=d["ts"],
            location=d["location"],
            run=d["run"],
        )

    return one, store.close


def _append_inserter(root: Path, n: int) -> tuple[Callable[[int], object], Callable[[], None]]:
    path = root / f"append-{n}.jsonl"
    with path.open("wb") as f:
        for i in range(1, n + 1):
            f.write(json.dumps(scan_doc(i), separators=(",", ":")).encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def one(seq: int) -> None:
        os.write(fd, json.dumps(scan_doc(seq), separators=(",", ":")).encode() + b"\n")
        os.fsync(fd)

    return one, lambda: os.close(fd)


def ratios(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The issue's three acceptance ratios, from one run's results."""
    by = {(r["store"], r["n"]): r for r in results}
    ks = sorted(n for s, n in by if s == "kiosk")
    out: dict[str, Any] = {}
    if len(ks) >= 2:
        lo, hi = ks[0], ks[-1]
        out["kiosk_p99_growth"] = {
            "from_n": lo,
            "to_n": hi,
            "ratio": round(by["kiosk", hi]["p99_ms"] / by["kiosk", lo]["p99_ms"], 2),
            "limit": 3.0,
        }
    common = [n for n in ks if ("tinydb-json", n) in by]
    if common:
        n = max(common)
        out["tinydb_over_kiosk_p50"] = {
            "n": n,
            "ratio": round(by["tinydb-json", n]["p50_ms"] / by["kiosk", n]["p50_ms"], 1),
            "min": 50.0,
        }
    out["kiosk_over_append_p50"] = {
        str(n): round(by["kiosk", n]["p50_ms"] / by["append-fsync", n]["p50_ms"], 2)
        for n in ks
        if ("append-fsync", n) in by
    }
    out["kiosk_over_append_limit"] = 3.0
    return out


# -- start-up and memory -------------------------------------------------------------------
def fill_catalog(state: Path, n: int) -> list[Item]:
    rnd = random.Random(n)
    locations = ["Perpustakaan Utama", "Ruang Referensi", "Koleksi Anak", "Tandon"]
    items = [
        Item(
            code=f"B{i:08d}",
            call_number=f"{rnd.randint(0, 999):03d}.{rnd.randint(0, 99)} {chr(65 + i % 26)}"
            f"{chr(97 + i % 23)}{chr(97 + i % 19)} {1 + i % 3}",
            title=f"Judul buku nomor {i} tentang sejarah dan budaya Nusantara",
            location=rnd.choice(locations),
            coll_type=rnd.choice(["Textbook", "Reference", "Fiction"]),
            status="",
            site="",
        )
        for i in range(1, n + 1)
    ]
    with Store.open(state) as store:
        store.replace_catalog(items, source="benchmark")
    return items


def startup(
    *, catalog: int = 50_000, scans: int = 100_000, workdir: Path | None = None
) -> dict[str, Any]:
    """Time ``kiosk run --simulate`` from start to its first acknowledged scan; RSS then."""
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-", dir=workdir) as tmp:
        state = Path(tmp) / "state"
        fill_scans(state, scans)
        items = fill_catalog(state, catalog)
        lookup = _lookup_cost(items)
        t0 = time.perf_counter()
        with start_daemon(state, daemon_env()) as proc:
            assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
            try:
                ready_s = None
                for line in proc.stderr:
                    if b"kiosk.daemon: ready:" in line:  # not "shelf order ready"
                        ready_s = time.perf_counter() - t0
                        break
                # Unbuffered, so a daemon that died leaves nothing for close() to flush.
                os.write(proc.stdin.fileno(), items[-1].code.encode() + b"\n")
                first = proc.stdout.readline()
                first_s = time.perf_counter() - t0
                if first:
                    rss, hwm = _rss(proc.pid)
            except BrokenPipeError:
                first = b""
            finally:
                proc.kill()
        if not first:
            raise RuntimeError(f"kiosk run exited with {proc.returncode} before scanning")
        return {
            "catalog": catalog,
            "scans": scans,
            "ready_s": None if ready_s is None else round(ready_s, 3),
            "first_scan_s": round(first_s, 3),
            "rss_mb": rss,
            "peak_rss_mb": hwm,
            "lookup_ns": lookup,
            "limits": {"ready_s": 2.0, "rss_mb": 120},
        }


def daemon_env() -> dict[str, str]:
    """The environment a measured daemon runs in: this checkout first, no outside config."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the checkout holding kiosk/
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("KIOSK_CONFIG", None)
    env.pop("NOTIFY_SOCKET", None)  # a measured daemon must not notify our own service manager
    return env


def start_daemon(state: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The daemon of :func:`daemon_cmd` with all three pipes: scans in, verdicts and log out."""
    return subprocess.Popen(
        daemon_cmd(state),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def daemon_cmd(state: Path) -> list[str]:
    """The real daemon in simulation, logging at info level (for its "ready" line)."""
    return [
        sys.executable,
        "-m",
        "kiosk",
        "--state-dir",
        str(state),
        "-v",
        "run",
        "--simulate",
        "--json",
    ]


def _rss(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return (
        round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        round(int(fields["VmHWM"].split()[0]) / 1024, 1),
    )


def _lookup_cost(items: Sequence[Item]) -> dict[str, float]:
    """ns per catalogue lookup with 1,000 items and with all of them (same hit pattern)."""
    out = {}
    for size in (min(1_000, len(items)), len(items)):
        catalog = {it.code: it for it in items[:size]}
        probe = [items[i % size].code for i in range(0, 200_000, 7)]
        t = time.perf_counter()
        for code in probe:
            catalog.get(code)
        out[str(size)] = round((time.perf_counter() - t) / len(probe) * 1e9, 1)
    return out


def run(*, quick: bool = False, with_startup: bool = True) -> dict[str, Any]:
    """The whole benchmark, as the JSON object ``kiosk bench store --json`` prints."""
    if quick:
        results = bench_store(ns=QUICK_N, ns_tinydb=QUICK_N, samples=50, samples_tinydb=20)
    else:
        results = bench_store()
    out: dict[str, Any] = {"results": results, "ratios": ratios(results)}
    if with_startup:
        out["startup"] = startup(catalog=2_000, scans=5_000) if quick else startup()
    return out
