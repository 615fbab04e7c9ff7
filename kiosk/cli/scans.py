"""``kiosk scans``: list stored scans."""

from __future__ import annotations

import argparse

from kiosk.cli.common import load_config, print_json
from kiosk.clock import dated
from kiosk.store import Store
from kiosk.text import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scans", help="list stored scans", description="List the stored scans.")
    p.add_argument("--json", action="store_true", help="one JSON object per scan")
    p.add_argument("--all", action="store_true", help="include scans taken back with undo")
    p.set_defaults(func=cmd_scans)


def cmd_scans(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with Store.open_readonly(cfg.state_path) as store:
        scans = store.scans(include_voided=args.all)
        anchors = store.anchors()
    for s in scans:
        if args.json:
            print_json(s.to_dict())
        else:
            when = dated(s.stamp, s.ts, anchors).isoformat()
            flags = " (undone)" if s.voided else ""
            code = printable(s.code)  # a scanned ESC sequence must not repaint the terminal
            print(f"{s.seq:6d} {when} {s.verdict:<14} {code} {s.sync or '-'}{flags}")
    return 0
