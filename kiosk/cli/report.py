"""``kiosk report``: the stock-take report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import report
from kiosk.cli.common import load_config
from kiosk.store import Store


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
            store.iter_scans(session=store.current_session()),
            stocktake=store.state().get("stocktake", ""),
            excluded_statuses=cfg.stocktake.excluded_statuses,
        )
        losses = store.losses()
    for loss in losses:  # the report counts what is left: nobody may miss what is not
        print(f"kiosk: warning: store damage: {loss.line()}", file=sys.stderr)
    text = report.render(rep, catalog, args.format, args.language or cfg.report.language)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"report written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
