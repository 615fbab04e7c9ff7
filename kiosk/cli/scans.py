"""``kiosk scans``: list stored scans."""

from __future__ import annotations

import argparse

from kiosk.cli.common import load_config, print_json
from kiosk.clock import Anchor, Dated, Stamp, redate
from kiosk.models import Scan
from kiosk.store import Store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scans", help="list stored scans", description="List the stored scans.")
    p.add_argument("--json", action="store_true", help="one JSON object per scan")
    p.add_argument("--all", action="store_true", help="include scans taken back with undo")
    p.set_defaults(func=cmd_scans)


def cmd_scans(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with Store.open_readonly(cfg.state_path) as store:
        scans = store.scans(include_voided=args.all)
        anchors = anchors_of(store)
    for s in scans:
        if args.json:
            print_json(s.to_dict())
        else:
            when = dated(s, anchors).isoformat()
            flags = " (undone)" if s.voided else ""
            print(f"{s.seq:6d} {when} {s.verdict:<14} {s.code} {s.sync or '-'}{flags}")
    return 0


def anchors_of(store: Store) -> dict[str, Anchor]:
    """Clock anchors the daemon saved, one per boot whose clock got synchronised."""
    saved = store.state().get("anchors", {})
    return {boot: Anchor(boot, float(offset)) for boot, offset in saved.items()}


def dated(scan: Scan, anchors: dict[str, Anchor]) -> Dated:
    """When a scan happened; marked approximate if the Pi's clock was never set that boot."""
    if scan.stamp is None:
        return Dated(scan.ts, exact=True)
    return redate(Stamp.from_dict(scan.stamp), anchors)
