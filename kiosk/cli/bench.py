"""``kiosk bench store`` and ``kiosk bench startup``: how fast and lean the cart is, here."""

from __future__ import annotations

import argparse

from kiosk.cli.common import print_json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="measure the kiosk on this machine",
        description="Benchmarks; results are printed as JSON or as a table.",
    )
    what = p.add_subparsers(dest="what", metavar="WHAT", required=True)
    s = what.add_parser(
        "store",
        help="insert latency vs TinyDB JSON and a raw fsync'd append; start-up time and memory",
    )
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--quick", action="store_true", help="small sizes (a smoke test for CI)")
    s.add_argument("--no-startup", action="store_true", help="skip the start-up/memory probe")
    s.set_defaults(func=cmd_bench_store)
    u = what.add_parser(
        "startup",
        help="start-up, status and memory at 0 and 200,000 scans with a 50,000-item catalogue",
    )
    u.add_argument("--json", action="store_true", help="print one JSON object")
    u.add_argument("--items", type=int, default=50_000, help="catalogue size (default 50,000)")
    u.add_argument("--scans", type=int, default=200_000, help="stored scans (default 200,000)")
    u.add_argument("--rounds", type=int, default=5, help="rounds to take medians of (default 5)")
    u.set_defaults(func=cmd_bench_startup)


def cmd_bench_store(args: argparse.Namespace) -> int:
    from kiosk.cli import bench_store as bench  # noqa: PLC0415  (imports TinyDB, the store)

    result = bench.run(quick=args.quick, with_startup=not args.no_startup)
    if args.json:
        print_json(result)
        return 0
    print(f"{'store':<14}{'n':>9}{'p50 ms':>10}{'p99 ms':>10}")
    for r in result["results"]:
        print(f"{r['store']:<14}{r['n']:>9}{r['p50_ms']:>10.3f}{r['p99_ms']:>10.3f}")
    for key, value in result["ratios"].items():
        print(f"{key}: {value}")
    if "startup" in result:
        print(f"startup: {result['startup']}")
    return 0


def cmd_bench_startup(args: argparse.Namespace) -> int:
    from kiosk.cli import bench_startup  # noqa: PLC0415

    result = bench_startup.run(items=args.items, scans=args.scans, rounds=args.rounds)
    if args.json:
        print_json(result)
        return 0
    for key, value in result["median_s"].items():
        print(f"{key:<24}{value:>8.3f} s")
    for n, d in result["daemon"].items():
        print(
            f"daemon ({n}): ready {d['ready_s']:.3f} s, RSS {d['rss_first_scan_mb']} MB "
            f"after its first scan, {d['rss_shelf_order_mb']} MB with its shelf order"
        )
    print(f"status at boot ÷ status with no scans: {result['status_boot_over_0']}")
    for key, check in result["checks"].items():
        print(f"{key}: {'pass' if check['pass'] else 'FAIL'} {check}")
    return 0 if result["pass"] else 1
