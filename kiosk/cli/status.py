"""``kiosk status``: counts per verdict, unsynced scans, catalogue size."""

from __future__ import annotations

import argparse

from kiosk.cli.common import load_config, print_json
from kiosk.store import Store
from kiosk.text import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "status", help="summarise the store", description="Counts per verdict and sync state."
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with Store.open_readonly(cfg.state_path) as store:
        catalog = store.catalog_info()
        counts = store.counts()
        unsynced = store.pending_count()
        exported = store.exported_count()
        state = store.state()
    if args.json:
        print_json(
            {
                "state_dir": str(cfg.state_path),
                "catalog": catalog,
                "counts": counts,
                "unsynced": unsynced,
                "exported": exported,
                "state": state,
            }
        )
        return 0
    # Location names and sources are scanned or imported text: escape what a terminal would run.
    print(f"state directory: {printable(str(cfg.state_path))}")
    source = printable(str(catalog.get("source") or "none"))
    print(f"catalogue: {catalog['count']} items (source: {source})")
    location = printable(str(state.get("location") or "-"))
    print(f"location: {location}   shelf run: {state.get('run', 1)}")
    print(f"scans: {sum(counts.values())}")
    for verdict, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  {printable(str(verdict)):<15}{n:>7}")
    print(f"not yet in SLiMS: {unsynced}")
    if exported:
        print(
            f"  of which in the upload file: {exported} (in {cfg.exports_path} or on a USB "
            "stick; upload it in SLiMS, then `kiosk sync` online confirms them)"
        )
    return 0
