"""``kiosk catalog pull`` / ``kiosk catalog import FILE``: load the item list.

Both replace the whole catalogue in the store: a pull fetches SLiMS's item
export and the active stock take's on-loan list; an import reads the same
export saved by hand from SLiMS (Bibliography → Item Export).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from typing import TYPE_CHECKING

from kiosk.cli.common import load_config, print_json
from kiosk.config import Config, slims_environment
from kiosk.exc import CatalogError, SlimsForbidden, SlimsNoStockTake
from kiosk.models import Item
from kiosk.slims.export import ExportReport, read_export_file
from kiosk.store import Store

if TYPE_CHECKING:
    from kiosk.slims.client import SlimsClient

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "catalog",
        help="load the catalogue (item list) from SLiMS or an export file",
        description="Replace the cart's catalogue with SLiMS's item list.",
    )
    verbs = p.add_subparsers(dest="catalog_verb", metavar="ACTION", required=True)
    imp = verbs.add_parser(
        "import",
        help="read an item export saved from SLiMS (Bibliography → Item Export)",
        description="Any separator/encloser chosen in SLiMS's export form works; "
        "the header row is optional.",
    )
    imp.add_argument("file", metavar="FILE", help="the exported .csv file")
    imp.add_argument(
        "--on-loan",
        metavar="FILE",
        help="optional text file of item codes currently on loan, one a line",
    )
    imp.add_argument("--json", action="store_true", help="machine-readable summary")
    imp.set_defaults(func=cmd_import)
    pull = verbs.add_parser(
        "pull",
        help="fetch the item list and on-loan items from SLiMS",
        description="Needs slims.url and credentials (or SLIMS_URL/SLIMS_USER/SLIMS_PASSWORD).",
    )
    pull.add_argument("--json", action="store_true", help="machine-readable summary")
    pull.add_argument("--no-progress", action="store_true", help="no progress bar")
    pull.set_defaults(func=cmd_pull)


def cmd_import(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    report = ExportReport()
    items = read_export_file(args.file, report=report)
    on_loan: set[str] = set()
    if args.on_loan:
        try:
            with open(args.on_loan, encoding="utf-8") as f:
                on_loan = {line.strip() for line in f if line.strip()}
        except OSError as e:
            raise CatalogError(f"cannot read on-loan list {args.on_loan}: {e.strerror}") from None
    return _store(cfg, items, on_loan, report, source=f"import:{args.file}", as_json=args.json)


def cmd_pull(args: argparse.Namespace) -> int:
    from kiosk.slims.connect import client_from_config  # noqa: PLC0415  (loads requests)

    cfg = load_config(args)
    client = client_from_config(cfg.slims, env=slims_environment())
    if client is None:
        raise CatalogError(
            "no SLiMS is configured (slims.url or SLIMS_URL); export the items in SLiMS and "
            "use `kiosk catalog import FILE` instead"
        )
    bar = _Bar(enabled=not args.no_progress and not args.json and sys.stderr.isatty())
    report = ExportReport()
    t0 = time.perf_counter()
    with client:
        items = list(
            client.export_items(
                report=report, on_progress=lambda got, total: bar.show("items", got, total)
            )
        )
        bar.show("on loan", 0, None)
        on_loan = _on_loan(client)
    bar.done()
    log.info("pulled %d items in %.2f s", len(items), time.perf_counter() - t0)
    return _store(cfg, items, on_loan, report, source=f"slims:{client.base}", as_json=args.json)


def _on_loan(client: SlimsClient) -> set[str]:
    """On-loan codes: the active stock take's list, else the loan report."""
    try:
        codes = client.on_loan_codes()
    except SlimsNoStockTake:
        try:
            codes = client.loan_codes_from_reports()
        except SlimsForbidden:
            log.warning(
                "no active stock take, and user %r may not read SLiMS's loan report: "
                "on-loan items are not marked in the catalogue",
                client.username,
            )
            return set()
    lent = client.api_total("lent")
    if lent is not None and lent != len(codes):
        log.warning(
            "SLiMS counts %d open loans, the kiosk got %d on-loan codes "
            "(loans outside the stock take's scope are not listed)",
            lent,
            len(codes),
        )
    return codes


def _store(
    cfg: Config,
    items: list[Item],
    on_loan: set[str],
    report: ExportReport,
    *,
    source: str,
    as_json: bool,
) -> int:
    if not items:
        raise CatalogError("the export holds no items; the catalogue was left unchanged")
    folded = {c.casefold() for c in on_loan}
    items = [
        dataclasses.replace(it, on_loan=True) if it.code.casefold() in folded else it
        for it in items
    ]
    loaned = sum(1 for it in items if it.on_loan)
    with Store.open(cfg.state_path) as store:
        count = store.replace_catalog(items, source=source)
    summary = {
        "items": count,
        "on_loan": loaned,
        "rows": report.rows,
        "skipped": report.skipped,
        "duplicates": report.duplicates,
        "problems": report.problems,
        "source": source,
    }
    if as_json:
        print_json(summary)
    else:
        print(f"catalogue: {count} items ({loaned} on loan) from {source}")
        if report.skipped or report.duplicates:
            print(f"skipped {report.skipped} unreadable rows, {report.duplicates} repeated codes:")
            for p in report.problems:
                print(f"  {p}")
    return 0


class _Bar:
    """A one-line progress bar on standard error (only on a terminal)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._last = 0.0

    def show(self, what: str, done: int, total: int | None) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < 0.1:
            return
        self._last = now
        if total:
            width = 30
            fill = int(width * min(done, total) / total)
            sys.stderr.write(
                f"\r{what:<9}[{'#' * fill}{'.' * (width - fill)}] {done * 100 // total:3d}%"
            )
        else:
            sys.stderr.write(f"\r{what:<9}{done:>8}" if done else f"\r{what:<9}...     ")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 50 + "\r")
            sys.stderr.flush()
