"""``kiosk report``: the stock-take report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import report
from kiosk.cli.common import cannot_write, load_config
from kiosk.fileio import atomic_write
from kiosk.store import Store
from kiosk.text import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="write the stock-take report",
        description="Found, missing, on loan, misshelved … from the stored scans.",
    )
    p.add_argument("--format", choices=report.FORMATS, default="text")
    p.add_argument("--language", choices=("en", "id"), help="default: [report] language")
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    with Store.open_readonly(cfg.state_path) as store:
        catalog = store.catalog()
        rep = report.build(
            catalog,
            store.scans(session=store.current_session()),
            stocktake=store.state().get("stocktake", ""),
            excluded_statuses=cfg.stocktake.excluded_statuses,
        )
    text = report.render(rep, catalog, args.format, args.language or cfg.report.language)
    if args.out:
        # Whole or not at all: a report cut short by a full disk must not look finished.
        try:
            atomic_write(args.out, [text.encode("utf-8")], mode=0o644)
        except OSError as e:
            raise cannot_write("the report", args.out, e) from None
        print(f"report written to {printable(str(args.out))}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
