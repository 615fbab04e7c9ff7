"""Benchmark the SLiMS integration: catalogue pull, item-mode sync, upload-mode sync.

Item mode is measured side by side with the floor it cannot beat: a bare
sequential keep-alive ``requests`` loop posting the same item codes to the
same server, alternating rounds so both see the same server state ("already
scanned" after a warm-up pass). Upload mode is timed on still-missing items,
including its verification. Output is JSON.

    python benchmarks/bench_sync.py                       # against the fake SLiMS
    python benchmarks/bench_sync.py --url URL --user U    # against a real one
        (password from SLIMS_PASSWORD; the run marks --item-codes, --upload-codes
        and 2 x --rounds x --process-codes missing items found, so use a test instance)

Targets (issue 7): item rate >= 90 % of the bare loop; upload >= 2,000 codes/s;
catalogue of 20,000 items pulled in under 5 s.

Whole processes (issue 13), timed the same way from start to exit (interpreter
start, login, requests): ``kiosk sync --mode upload`` against a bare upload
loop (the kiosk's SLiMS client alone: log in, upload the same codes in the
same chunks), and ``kiosk sync --mode item`` against a bare keep-alive loop;
each >= 90 %. With the fake SLiMS the stock take is restarted before each
upload run so both upload the same still-missing codes; a real one cannot be
restarted, so there each upload run gets still-missing codes of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.models import Verdict
from kiosk.slims.client import SlimsClient
from kiosk.slims.credentials import Secret
from kiosk.slims.pages import ACTION, UPLOAD_CODE
from kiosk.slims.uploader import Uploader
from kiosk.store import Store
from tests.fakeslims import FakeItem, FakeSlims, User


def fresh_store(root: Path, codes: list[str]) -> Store:
    """A new store holding one found scan per code (setup, not timed)."""
    store = Store.open(Path(tempfile.mkdtemp(dir=root)))
    now = time.time()  # scanned now: a real SLiMS refuses scans older than its stock take
    for i, code in enumerate(codes):
        store.add_scan(code=code, verdict=Verdict.OK, scanner="bench", ts=now + i / 1000)
    return store


def bare_loop(client: SlimsClient, codes: list[str]) -> float:
    """Codes per second of a plain keep-alive POST loop (the floor)."""
    session = client.session
    url = client.url_for(ACTION)
    t0 = time.perf_counter()
    for code in codes:
        r = session.post(url, data={"itemCode": code}, timeout=15)
        r.raise_for_status()
    return len(codes) / (time.perf_counter() - t0)


def kiosk_run(
    client: SlimsClient, store: Store, mode: str, chunk: int
) -> tuple[float, dict[str, Any]]:
    n = len(store.pending_sync())
    t0 = time.perf_counter()
    result = Uploader(store, client, mode=mode, chunk=chunk).run()
    rate = n / (time.perf_counter() - t0)
    assert result.complete, result
    return rate, result.to_dict()


def catalogue_pull(client: SlimsClient, root: Path) -> dict[str, Any]:
    """The work of `kiosk catalog pull`: export, parse, on-loan list, store."""
    t0 = time.perf_counter()
    items = list(client.export_items())
    t_export = time.perf_counter() - t0
    loans = client.on_loan_codes()
    with Store.open(Path(tempfile.mkdtemp(dir=root))) as store:
        count = store.replace_catalog(items, source="bench")
    total = time.perf_counter() - t0
    return {
        "items": count,
        "on_loan": len(loans),
        "export_parse_s": round(t_export, 3),
        "total_s": round(total, 3),
        "items_per_s": round(count / total),
    }


BARE = """
import sys
from kiosk.slims.client import SlimsClient
from kiosk.slims.credentials import Secret
from kiosk.slims.pages import ACTION
mode, url, user, password, path, chunk = sys.argv[1:7]
client = SlimsClient(url, user, Secret(password))
client.login()
codes = open(path).read().split()
if mode == "upload":
    for i in range(0, len(codes), int(chunk)):
        client.upload(codes[i : i + int(chunk)])
else:
    session, target = client.session, client.url_for(ACTION)
    for code in codes:
        session.post(target, data={"itemCode": code}, timeout=15).raise_for_status()
"""


def whole_processes(
    client: SlimsClient,
    codes: list[str],
    mode: str,
    args: argparse.Namespace,
    *,
    fake: FakeSlims | None,
    root: Path,
    fresh: list[list[str]] | None = None,
) -> dict[str, Any]:
    """``kiosk sync --mode MODE`` and the bare loop as processes, alternating; codes/s each.

    ``fresh``: one list of still-missing codes per run (a real SLiMS's stock take
    cannot be restarted between runs, so each upload run gets codes of its own).
    """
    env = dict(os.environ) | {
        "SLIMS_URL": client.base,
        "SLIMS_USER": args.user,
        "SLIMS_PASSWORD": args.password,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    env.pop("KIOSK_CONFIG", None)
    runs = iter(fresh or [])
    bare: list[float] = []
    kiosk: list[float] = []
    for _ in range(args.rounds):
        for who in ("bare", "kiosk"):
            if fake is not None and mode == "upload":
                fake.start_stocktake()  # the same codes missing again for each run
            if fresh is not None:
                codes = next(runs)
            listing = root / f"codes-{mode}.txt"
            listing.write_text("\n".join(codes) + "\n")
            if who == "kiosk":
                with fresh_store(root, codes) as store:
                    state = store.state_dir
                cmd = [sys.executable, "-m", "kiosk", "--state-dir", str(state)]
                cmd += ["sync", "--mode", mode, "--json"]
            else:
                pw = env["SLIMS_PASSWORD"]
                cmd = [sys.executable, "-c", BARE, mode, client.base, args.user, pw]
                cmd += [str(listing), str(args.chunk)]
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
            rate = len(codes) / (time.perf_counter() - t0)
            (bare if who == "bare" else kiosk).append(rate)
    ratio = statistics.median(kiosk) / statistics.median(bare)
    return {
        "codes": len(codes),
        "rounds": args.rounds,
        "bare_codes_per_s": round(statistics.median(bare), 1),
        "kiosk_codes_per_s": round(statistics.median(kiosk), 1),
        "ratio": round(ratio, 3),
        "limit": 0.9,
        "pass": ratio >= 0.9,
    }


def run(client: SlimsClient, args: argparse.Namespace, fake: FakeSlims | None) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    out: dict[str, Any] = {"server": "fake" if fake else client.base}
    client.login()
    out["catalog_pull"] = catalogue_pull(client, root)

    # Item mode vs the bare loop, on the same codes, alternating rounds.
    missing = [c for c in client.stocktake_codes("m") if UPLOAD_CODE.match(c)]
    if len(missing) < args.item_codes + args.upload_codes:
        raise SystemExit(f"only {len(missing)} missing items in the stock take; lower the counts")
    codes = missing[: args.item_codes]
    bare_loop(client, codes)  # warm-up: marks them found; every round then sees the same state
    bare, kiosk = [], []
    detail: dict[str, Any] = {}
    for _ in range(args.rounds):
        bare.append(bare_loop(client, codes))
        with fresh_store(root, codes) as store:
            rate, detail = kiosk_run(client, store, "item", args.chunk)
        kiosk.append(rate)
    out["item_mode"] = {
        "codes": len(codes),
        "rounds": args.rounds,
        "bare_loop_codes_per_s": round(statistics.median(bare), 1),
        "kiosk_item_codes_per_s": round(statistics.median(kiosk), 1),
        "ratio": round(statistics.median(kiosk) / statistics.median(bare), 3),
        "bare_all": [round(x, 1) for x in bare],
        "kiosk_all": [round(x, 1) for x in kiosk],
        "last_result": detail,
    }

    # Upload mode on items still missing (verified by SLiMS's count).
    up_codes = missing[args.item_codes : args.item_codes + args.upload_codes]
    with fresh_store(root, up_codes) as store:
        rate, detail = kiosk_run(client, store, "upload", args.chunk)
    out["upload_mode"] = {"codes": len(up_codes), "codes_per_s": round(rate, 1), "result": detail}

    # Whole processes: start, login, requests (issue 13, point 4).
    fresh = None
    if fake is None:  # each run its own still-missing codes, after those used above
        start, n = args.item_codes + args.upload_codes, args.process_codes
        fresh = [missing[start + i * n : start + (i + 1) * n] for i in range(2 * args.rounds)]
        if len(fresh[-1]) < n:
            raise SystemExit(f"only {len(missing)} missing items for the process runs")
    out["process_upload"] = whole_processes(
        client, up_codes[: args.process_codes], "upload", args, fake=fake, root=root, fresh=fresh
    )
    out["process_item"] = whole_processes(client, codes, "item", args, fake=fake, root=root)
    out["targets"] = {
        "item_ratio_ge_0.9": out["item_mode"]["ratio"] >= 0.9,
        "process_upload_ge_0.9": out["process_upload"]["pass"],
        "process_item_ge_0.9": out["process_item"]["pass"],
        "upload_ge_2000_per_s": rate >= 2000,
        "catalog_pull_lt_5s_per_20000": out["catalog_pull"]["total_s"]
        * 20000
        / max(1, out["catalog_pull"]["items"])
        < 5,
    }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a real SLiMS (default: the fake on loopback)")
    p.add_argument("--user", default=os.environ.get("SLIMS_USER", "admin"))
    p.add_argument("--catalog-items", type=int, default=20000, help="fake only")
    p.add_argument("--item-codes", type=int, default=1000)
    p.add_argument("--upload-codes", type=int, default=10000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--process-codes", type=int, default=5000, help="codes per whole-process upload run"
    )
    p.add_argument("--chunk", type=int, default=2000)
    p.add_argument("--json", metavar="FILE", help="also write the result here")
    args = p.parse_args()
    if args.url:
        password = args.password = os.environ.get("SLIMS_PASSWORD", "")
        client = SlimsClient(args.url, args.user, Secret(password))
        result = run(client, args, None)
    else:
        items = [
            FakeItem(f"B{i:06d}", f'Judul "{i}", jilid {i % 4}', f"{i % 1000:03d}.{i % 97} SUB m")
            for i in range(args.catalog_items)
        ]
        for it in items[::150]:
            it.on_loan = True
        with FakeSlims(items, users={"admin": User("bench")}) as fake:
            fake.start_stocktake()
            args.password = "bench"
            client = SlimsClient(fake.url, "admin", Secret("bench"))
            result = run(client, args, fake)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0 if all(result["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
