"""``kiosk report``: the stock-take report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import report
from kiosk.cli.common import cannot_write, load_config
from kiosk.exc import ConfigError
from kiosk.fileio import atomic_write
from kiosk.store import Store
from kiosk.text import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="write the stock-take report",
        description="The work first (books to look at again, with where they belong), then "
        "the summary and the short lists, from the stored scans.",
    )
    p.add_argument(
        "--format",
        choices=report.FORMATS,
        help="default: from the --out file's ending (.html, .csv, .json, .txt), else text",
    )
    p.add_argument("--language", choices=("en", "id"), help="default: [report] language")
    p.add_argument(
        "--sections",
        type=_sections,
        default=report.DEFAULT_SECTIONS,
        metavar="LIST",
        help="comma-separated parts of the HTML and text report, or all: "
        f"{', '.join(report.SECTIONS)} (default: {','.join(report.DEFAULT_SECTIONS)}); "
        "CSV and JSON always hold every list",
    )
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    try:
        fmt = report.format_for(args.out, args.format)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    language = args.language or cfg.report.language
    with Store.open_readonly(cfg.state_path) as store:
        catalog = store.catalog()
        losses = store.losses()
        rep = report.build(
            catalog,
            store.iter_scans(session=store.current_session()),
            stocktake=store.state().get("stocktake", ""),
            excluded_statuses=cfg.stocktake.excluded_statuses,
            damage=[report.DamageRow(x.what, x.lost, x.kept) for x in losses],
        )
    for loss in losses:  # in the report too; here for whoever writes it to a file
        print(f"kiosk: warning: store damage: {loss.line()}", file=sys.stderr)
    text = report.render(rep, catalog, fmt, language, args.sections)
    if args.out:
        # Whole or not at all: a report cut short by a full disk must not look finished.
        try:
            atomic_write(args.out, [text.encode("utf-8")], mode=0o644)
        except OSError as e:
            raise cannot_write("the report", args.out, e) from None
        written = report.TEXT[language]["written"]
        print(written.format(path=printable(str(args.out)), format=fmt), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _sections(spec: str) -> tuple[str, ...]:
    try:
        return report.parse_sections(spec)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
