"""``kiosk bench store``: how fast and how lean the offline store is, measured here."""

from __future__ import annotations

import argparse

from kiosk.cli import bench_store as bench
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


def cmd_bench_store(args: argparse.Namespace) -> int:
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
